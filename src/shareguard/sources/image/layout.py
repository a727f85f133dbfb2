"""OCI image layout (`oci-layout`, `index.json`, `blobs/<alg>/<hex>`), as a directory or inside a tar."""

from __future__ import annotations

import functools

from shareguard.core.errors import InputError
from shareguard.sources.image.digest import DigestMismatch, parse_digest, verify_bytes
from shareguard.sources.image.manifest import MAX_MANIFEST_BYTES, load_json, parse_config, resolve_manifest
from shareguard.sources.image.model import Descriptor, ImageSource, LayerRef
from shareguard.sources.image.store import BlobStore

MAX_CONFIG_BYTES = 16 * 1024 * 1024


def is_oci_layout(store: BlobStore) -> bool:
    return store.exists("oci-layout") and store.exists("index.json")


def blob_name(digest: str) -> str:
    algorithm, hexpart = parse_digest(digest)
    return f"blobs/{algorithm}/{hexpart}"


def read_blob(store: BlobStore, desc: Descriptor, limit: int) -> bytes:
    """A small blob (manifest, config), checked against its descriptor's size and digest."""
    if desc.size > limit:
        raise InputError(f"{desc.media_type} {desc.digest}: {desc.size} bytes is over the {limit}-byte limit")
    data = store.read(blob_name(desc.digest), limit)
    if len(data) != desc.size:
        raise InputError(f"blob {desc.digest}: {len(data)} bytes, the descriptor declares {desc.size}")
    try:
        verify_bytes(data, desc.digest, f"blob {desc.digest}")
    except DigestMismatch as exc:
        raise InputError(str(exc)) from None
    return data


def open_layout(store: BlobStore, reference: str, platform: str) -> ImageSource:
    layout = load_json(store.read("oci-layout", 64 * 1024), "oci-layout")
    version = layout.get("imageLayoutVersion")
    if not isinstance(version, str) or not version.startswith("1."):
        raise InputError(f"unsupported imageLayoutVersion {version!r}", path=store.location)
    index = store.read("index.json", MAX_MANIFEST_BYTES)
    warnings: list[str] = []
    manifest, digest = resolve_manifest(
        index, "index.json", lambda d: read_blob(store, d, MAX_MANIFEST_BYTES), platform, warnings
    )
    config_bytes = read_blob(store, manifest.config, MAX_CONFIG_BYTES)
    config = parse_config(config_bytes, f"config {manifest.config.digest}")
    if len(config.diff_ids) != len(manifest.layers):
        raise InputError(
            f"manifest lists {len(manifest.layers)} layers but the config has {len(config.diff_ids)} diff ids"
        )
    layers = tuple(
        LayerRef(
            index=i,
            diff_id=diff_id,
            digest=desc.digest,
            media_type=desc.media_type,
            size=desc.size,
            opener=functools.partial(store.open, blob_name(desc.digest)),
            open_ahead=True,
        )
        for i, (desc, diff_id) in enumerate(zip(manifest.layers, config.diff_ids, strict=True))
    )
    return ImageSource(
        reference=reference,
        manifest_digest=digest,
        config_digest=manifest.config.digest,
        config=config,
        layers=layers,
        warnings=tuple(warnings),
    )
