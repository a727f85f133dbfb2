"""`docker save` archives: `manifest.json` naming a config file and layer tars by path."""

from __future__ import annotations

import functools
import re

from shareguard.core.errors import InputError, ParseError
from shareguard.core.safe_json import load_json as safe_load_json
from shareguard.sources.image.digest import DigestMismatch, digest_of, verify_bytes
from shareguard.sources.image.layout import MAX_CONFIG_BYTES
from shareguard.sources.image.manifest import MAX_MANIFEST_BYTES, normalise_platform, parse_config
from shareguard.sources.image.model import ImageSource, LayerRef
from shareguard.sources.image.store import BlobStore

_HEX_NAME = re.compile(r"(?:^|/)(?:sha256[:/])?([a-f0-9]{64})(?:\.json)?$")


def is_docker_archive(store: BlobStore) -> bool:
    return store.exists("manifest.json")


def _named_digest(name: str) -> str | None:
    """Docker names configs `<hex>.json` or `blobs/sha256/<hex>`: the name is the content digest."""
    m = _HEX_NAME.search(name)
    return f"sha256:{m.group(1)}" if m else None


def open_docker_archive(
    store: BlobStore, reference: str, platform: str, *, platform_given: bool = False
) -> ImageSource:
    data = store.read("manifest.json", MAX_MANIFEST_BYTES)
    try:  # the shared safe loader: deep nesting and huge numbers are one line, never a traceback
        doc = safe_load_json(data, origin="manifest.json", max_bytes=max(len(data), 1))
    except ParseError as exc:
        raise InputError(f"manifest.json is not valid JSON ({exc.message[:80]})", path=store.location) from None
    if not isinstance(doc, list) or not doc or not all(isinstance(e, dict) for e in doc):
        raise InputError("manifest.json is not a list of images", path=store.location)
    warnings: list[str] = []
    entry = doc[0]
    if len(doc) > 1:
        tags = [", ".join(e.get("RepoTags") or []) or "untagged" for e in doc]
        warnings.append(f"archive holds {len(doc)} images ({'; '.join(tags)}); scanning the first")
    config_name = entry.get("Config")
    layer_names = entry.get("Layers")
    if not isinstance(config_name, str) or not isinstance(layer_names, list):
        raise InputError("manifest.json entry without Config and Layers", path=store.location)
    if not all(isinstance(n, str) for n in layer_names):
        raise InputError("manifest.json Layers must be file names", path=store.location)
    config_bytes = store.read(config_name, MAX_CONFIG_BYTES)
    config_digest = _named_digest(config_name)
    if config_digest is not None:
        try:
            verify_bytes(config_bytes, config_digest, f"config {config_name}")
        except DigestMismatch as exc:
            raise InputError(str(exc), path=store.location) from None
    else:
        config_digest = digest_of(config_bytes)
    config = parse_config(config_bytes, f"config {config_name}")
    if len(config.diff_ids) != len(layer_names):
        raise InputError(
            f"manifest.json lists {len(layer_names)} layers but the config has {len(config.diff_ids)} diff ids",
            path=store.location,
        )
    want = normalise_platform(platform)
    have = (config.os, config.architecture)
    if all(have) and have != want[:2]:
        if platform_given:
            raise InputError(
                f"--platform {platform}: the archive holds a {config.platform} image only", path=store.location
            )
        warnings.append(f"archive holds a {config.platform} image, not {platform}")
    tags = entry.get("RepoTags")
    if isinstance(tags, list) and tags and isinstance(tags[0], str):
        reference = f"{reference} ({tags[0]})"
    layers = tuple(
        LayerRef(
            index=i,
            diff_id=diff_id,
            digest=None,
            media_type=None,
            size=store.size(name),
            opener=functools.partial(store.open, name),
            verify_uncompressed=True,
            open_ahead=True,
        )
        for i, (name, diff_id) in enumerate(zip(layer_names, config.diff_ids, strict=True))
    )
    return ImageSource(
        reference=reference,
        manifest_digest=None,
        config_digest=config_digest,
        config=config,
        layers=layers,
        warnings=tuple(warnings),
    )
