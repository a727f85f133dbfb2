"""Push an OCI image layout directory to a registry (used by the tests and for mirroring).

Blobs go up first (skipped when the registry has them), then each manifest by digest, then the
top manifest under the tag, byte for byte, so the pushed image keeps the layout's digests.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from shareguard.core.errors import InputError
from shareguard.sources.image import mediatypes as mt
from shareguard.sources.image.layout import blob_name
from shareguard.sources.registry.client import RegistryClient


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            yield chunk


def _push_blob(client: RegistryClient, layout: Path, digest: str) -> None:
    if not client.blob_exists(digest):
        client.upload_blob(digest, _chunks(layout / blob_name(digest)))


def _push_manifest_tree(client: RegistryClient, layout: Path, digest: str, media_type: str) -> bytes:
    body = (layout / blob_name(digest)).read_bytes()
    doc = json.loads(body)
    if media_type in mt.INDEX_TYPES:
        for child in doc.get("manifests", []):
            _push_manifest_tree(client, layout, child["digest"], child["mediaType"])
    else:
        _push_blob(client, layout, doc["config"]["digest"])
        for layer in doc.get("layers", []):
            _push_blob(client, layout, layer["digest"])
    client.put_manifest(digest, body, media_type)
    return body


def push_layout(client: RegistryClient, layout: Path, tag: str) -> str:
    """Push the layout's single top-level manifest (or index) under `tag`; returns its digest."""
    index = json.loads((layout / "index.json").read_text(encoding="utf-8"))
    manifests = index.get("manifests", [])
    if len(manifests) != 1:
        raise InputError(f"index.json lists {len(manifests)} manifests; push needs exactly one", path=str(layout))
    top = manifests[0]
    body = _push_manifest_tree(client, layout, top["digest"], top["mediaType"])
    client.put_manifest(tag, body, top["mediaType"])
    return str(top["digest"])
