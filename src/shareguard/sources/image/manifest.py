"""Parse and check OCI/Docker indexes, manifests and image configs; pick a platform from an index."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shareguard.core.errors import InputError, ShareguardError
from shareguard.core.safe_json import load_json as safe_load_json
from shareguard.sources.image import mediatypes as mt
from shareguard.sources.image.digest import parse_digest
from shareguard.sources.image.model import Descriptor, ImageConfig

MAX_MANIFEST_BYTES = 4 * 1024 * 1024
MAX_INDEX_DEPTH = 4
DEFAULT_PLATFORM = "linux/amd64"
_SKIPPED = "malformed index entry skipped: "


@dataclass(frozen=True)
class Manifest:
    media_type: str
    config: Descriptor
    layers: tuple[Descriptor, ...]


def load_json(data: bytes, what: str) -> dict[str, Any]:
    """A manifest, index or config as a JSON object: nesting, 5,000-digit numbers and syntax are one line each
    (the shared safe loader), never a `RecursionError` / `ValueError` traceback."""
    try:
        doc = safe_load_json(data, origin=what, max_bytes=max(len(data), 1))
    except ShareguardError as exc:
        raise InputError(f"{what} is not valid JSON ({exc.message[:80]})") from None
    if not isinstance(doc, dict):
        raise InputError(f"{what} is not a JSON object")
    return doc


def normalise_platform(platform: str) -> tuple[str, str, str]:
    parts = [p for p in platform.strip().lower().split("/") if p]
    if len(parts) not in (2, 3):
        raise InputError(f"invalid platform {platform!r} (expected os/arch[/variant], e.g. linux/amd64)")
    os_, arch = parts[0], parts[1]
    variant = parts[2] if len(parts) == 3 else ""
    if arch == "arm64" and variant == "v8":
        variant = ""  # arm64's only variant is v8: treat both spellings as one
    return os_, arch, variant


def _descriptor(obj: Any, what: str) -> Descriptor:
    if not isinstance(obj, dict):
        raise InputError(f"{what}: descriptor is not an object")
    media_type = obj.get("mediaType")
    digest = obj.get("digest")
    size = obj.get("size")
    if not isinstance(media_type, str) or not media_type:
        raise InputError(f"{what}: descriptor without mediaType")
    if not isinstance(digest, str):
        raise InputError(f"{what}: descriptor without digest")
    parse_digest(digest)
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise InputError(f"{what}: descriptor without a valid size")
    platform = None
    plat = obj.get("platform")
    if isinstance(plat, dict) and isinstance(plat.get("os"), str) and isinstance(plat.get("architecture"), str):
        platform = f"{plat['os']}/{plat['architecture']}"
        if isinstance(plat.get("variant"), str) and plat["variant"]:
            platform += f"/{plat['variant']}"
    ann = obj.get("annotations")
    annotations = tuple(sorted((str(k), str(v)) for k, v in ann.items())) if isinstance(ann, dict) else ()
    return Descriptor(media_type, digest, size, platform, annotations)


def sniff_media_type(doc: dict[str, Any]) -> str:
    """The mediaType field, or (OCI allows it to be absent) what the document's shape says."""
    media_type = doc.get("mediaType")
    if isinstance(media_type, str) and media_type:
        return media_type
    if doc.get("schemaVersion") == 1:
        return "application/vnd.docker.distribution.manifest.v1+json"
    if "manifests" in doc:
        return mt.OCI_INDEX
    if "config" in doc and "layers" in doc:
        return mt.OCI_MANIFEST
    return "unknown"


def parse_index(doc: dict[str, Any], what: str, warnings: list[str] | None = None) -> list[Descriptor]:
    """The index's descriptors. With `warnings`, a malformed entry is skipped and said there (one bad
    descriptor must not hide the valid images of a multi-platform index); without, it raises."""
    manifests = doc.get("manifests")
    if not isinstance(manifests, list):
        raise InputError(f"{what}: index without a manifests list")
    out: list[Descriptor] = []
    for i, m in enumerate(manifests):
        try:
            desc = _descriptor(m, f"{what} manifests[{i}]")
            if desc.platform is not None:
                normalise_platform(desc.platform)
        except InputError as exc:
            if warnings is None:
                raise
            warnings.append(f"{_SKIPPED}{exc.message}")
            continue
        out.append(desc)
    return out


def parse_manifest(doc: dict[str, Any], what: str) -> Manifest:
    media_type = sniff_media_type(doc)
    if media_type not in mt.MANIFEST_TYPES:
        raise InputError(f"{what}: unsupported manifest media type {media_type!r}")
    if doc.get("schemaVersion") != 2:
        raise InputError(f"{what}: unsupported schemaVersion {doc.get('schemaVersion')!r}")
    config = _descriptor(doc.get("config"), f"{what} config")
    if config.media_type not in mt.CONFIG_TYPES:
        raise InputError(f"{what}: not a container image (config media type {config.media_type!r})")
    layers = doc.get("layers")
    if not isinstance(layers, list):
        raise InputError(f"{what}: manifest without a layers list")
    return Manifest(media_type, config, tuple(_descriptor(x, f"{what} layers[{i}]") for i, x in enumerate(layers)))


def parse_config(data: bytes, what: str) -> ImageConfig:
    doc = load_json(data, what)
    rootfs = doc.get("rootfs")
    diff_ids = rootfs.get("diff_ids") if isinstance(rootfs, dict) else None
    if not isinstance(diff_ids, list) or not all(isinstance(d, str) for d in diff_ids):
        raise InputError(f"{what}: image config without rootfs.diff_ids")
    for d in diff_ids:
        parse_digest(d)
    inner = doc.get("config") if isinstance(doc.get("config"), dict) else {}
    raw_labels = inner.get("Labels") if isinstance(inner, dict) else None
    labels = tuple(sorted((str(k), str(v)) for k, v in raw_labels.items())) if isinstance(raw_labels, dict) else ()
    created = doc.get("created") if isinstance(doc.get("created"), str) else None
    raw_env = inner.get("Env") if isinstance(inner, dict) else None
    pairs = (e.partition("=") for e in raw_env if isinstance(e, str) and "=" in e) if isinstance(raw_env, list) else ()
    env = tuple((name, value) for name, _, value in pairs)
    return ImageConfig(
        diff_ids=tuple(diff_ids),
        os=str(doc.get("os") or ""),
        architecture=str(doc.get("architecture") or ""),
        variant=str(doc.get("variant") or ""),
        labels=labels,
        created=created,
        env=env,
    )


def select_platform(candidates: list[Descriptor], platform: str, what: str) -> Descriptor:
    """The descriptor for `platform` (`os/arch[/variant]`); one without platform info is accepted."""
    want_os, want_arch, want_variant = normalise_platform(platform)
    usable = [d for d in candidates if d.media_type in mt.MANIFEST_TYPES | mt.INDEX_TYPES]
    exact: list[Descriptor] = []
    loose: list[Descriptor] = []
    unspecified: list[Descriptor] = []
    for d in usable:
        if d.platform is None:
            unspecified.append(d)
            continue
        os_, arch, variant = normalise_platform(d.platform)
        if (os_, arch) != (want_os, want_arch):
            continue
        if variant == want_variant:
            exact.append(d)
        elif not want_variant:
            loose.append(d)
    for group in (exact, loose, unspecified):
        if group:
            return group[0]
    available = sorted({d.platform for d in usable if d.platform})
    raise InputError(f"{what}: no image for platform {platform} (available: {', '.join(available) or 'none'})")


def resolve_manifest(
    top: bytes,
    top_what: str,
    fetch: Callable[[Descriptor], bytes],
    platform: str,
    warnings: list[str] | None = None,
) -> tuple[Manifest, str | None]:
    """Follow indexes down to one image manifest; returns it and its digest (None for `top` itself).

    `fetch` returns a descriptor's bytes, already checked against its digest and size. With `warnings`,
    malformed index entries are skipped and said there; a platform no valid entry matches still raises.
    """
    data, what, digest = top, top_what, None
    for _ in range(MAX_INDEX_DEPTH + 1):
        if len(data) > MAX_MANIFEST_BYTES:
            raise InputError(f"{what}: manifest of {len(data)} bytes is over the {MAX_MANIFEST_BYTES}-byte limit")
        doc = load_json(data, what)
        media_type = sniff_media_type(doc)
        if media_type in mt.INDEX_TYPES:
            skipped: list[str] = []
            try:
                chosen = select_platform(parse_index(doc, what, None if warnings is None else skipped), platform, what)
            except InputError as exc:
                if skipped:  # say why the entries that might have matched were not taken
                    reasons = "; ".join(w.removeprefix(_SKIPPED) for w in skipped[:3])
                    raise InputError(f"{exc.message}; {len(skipped)} malformed entries skipped: {reasons}") from None
                raise
            if warnings is not None:
                warnings.extend(skipped)
            data, what, digest = fetch(chosen), f"manifest {chosen.digest}", chosen.digest
            continue
        return parse_manifest(doc, what), digest
    raise InputError(f"{top_what}: indexes nested deeper than {MAX_INDEX_DEPTH}")
