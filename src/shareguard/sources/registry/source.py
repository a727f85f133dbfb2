"""An image in a registry as an ImageSource: manifests and config fetched and checked, layers streamed."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager

from shareguard.core.errors import InputError, RegistryError
from shareguard.sources.image.digest import DigestMismatch, verify_bytes
from shareguard.sources.image.layout import MAX_CONFIG_BYTES
from shareguard.sources.image.manifest import MAX_MANIFEST_BYTES, parse_config, resolve_manifest
from shareguard.sources.image.model import Descriptor, ImageSource, LayerRef
from shareguard.sources.registry.auth import find_credentials
from shareguard.sources.registry.client import RegistryClient
from shareguard.sources.registry.reference import parse_reference


@contextmanager
def open_registry_image(
    text: str,
    platform: str,
    *,
    username: str | None = None,
    password: str | None = None,
    insecure: bool = False,
) -> Iterator[ImageSource]:
    reference = parse_reference(text)
    credentials = find_credentials(reference.registry, username, password)
    with RegistryClient(reference, credentials, insecure=insecure) as client:
        try:
            yield _load(client, str(reference), platform)
        except InputError as exc:
            raise RegistryError(f"{reference}: {exc.message}") from None


def _fetch_manifest(client: RegistryClient, desc: Descriptor) -> bytes:
    body, _, _ = client.get_manifest(desc.digest, MAX_MANIFEST_BYTES)
    if len(body) != desc.size:
        raise RegistryError(f"manifest {desc.digest}: {len(body)} bytes, the index declares {desc.size}")
    return body


def _load(client: RegistryClient, name: str, platform: str) -> ImageSource:
    top, _, top_digest = client.get_manifest(client.reference.ref, MAX_MANIFEST_BYTES)
    warnings: list[str] = []  # malformed index entries, skipped
    manifest, digest = resolve_manifest(
        top, f"manifest {client.reference.ref}", lambda d: _fetch_manifest(client, d), platform, warnings
    )
    config_desc = manifest.config
    if config_desc.size > MAX_CONFIG_BYTES:
        raise RegistryError(f"config {config_desc.digest} is over the {MAX_CONFIG_BYTES}-byte limit")
    config_bytes = client.get_blob(config_desc.digest, MAX_CONFIG_BYTES)
    try:
        verify_bytes(config_bytes, config_desc.digest, f"config {config_desc.digest}")
    except DigestMismatch as exc:
        raise RegistryError(str(exc)) from None
    config = parse_config(config_bytes, f"config {config_desc.digest}")
    if len(config.diff_ids) != len(manifest.layers):
        raise RegistryError(
            f"manifest lists {len(manifest.layers)} layers but the config has {len(config.diff_ids)} diff ids"
        )
    layers = tuple(
        LayerRef(
            index=i,
            diff_id=diff_id,
            digest=desc.digest,
            media_type=desc.media_type,
            size=desc.size,
            opener=functools.partial(client.open_blob, desc.digest),
        )
        for i, (desc, diff_id) in enumerate(zip(manifest.layers, config.diff_ids, strict=True))
    )
    return ImageSource(
        reference=name,
        manifest_digest=digest or top_digest,
        config_digest=config_desc.digest,
        config=config,
        layers=layers,
        warnings=tuple(warnings),
    )
