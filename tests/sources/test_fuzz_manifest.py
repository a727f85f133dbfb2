"""Fuzz target (issue #14): image manifests, indexes and configs, mutated from valid documents.

Property: `resolve_manifest` / `parse_config` return a `Manifest` / `ImageConfig` of the documented shape
or raise `InputError` (a `ShareguardError`: one line, exit 2), never another exception."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from shareguard.core.errors import ShareguardError
from shareguard.sources.image.manifest import Manifest, parse_config, resolve_manifest
from shareguard.sources.image.model import Descriptor, ImageConfig

FUZZ = settings(max_examples=120, deadline=5000, suppress_health_check=[HealthCheck.too_slow])

D = "sha256:" + "a" * 64
MANIFEST = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": D, "size": 7023},
    "layers": [
        {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": D, "size": 32654},
        {"mediaType": "application/vnd.oci.image.layer.v1.tar+zstd", "digest": D, "size": 16724},
    ],
    "annotations": {"org.opencontainers.image.created": "2024-01-01T00:00:00Z"},
}
INDEX = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.index.v1+json",
    "manifests": [
        {
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": D,
            "size": 7143,
            "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"},
        },
        {
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "digest": D,
            "size": 7682,
            "platform": {"architecture": "amd64", "os": "linux"},
        },
    ],
}
CONFIG = {
    "architecture": "amd64",
    "os": "linux",
    "created": "2024-01-01T00:00:00Z",
    "config": {"Env": ["PATH=/usr/bin"], "Labels": {"a": "b"}},
    "rootfs": {"type": "layers", "diff_ids": [D, D]},
}
SEEDS = [json.dumps(d, indent=1).encode() for d in (MANIFEST, INDEX, CONFIG)]
TOKENS = [
    b"[" * 5000,
    b"{" * 3000,
    b'{"a":' * 3000,
    b"9" * 5000,
    b"-1",
    b"1e999999",
    b"null",
    b"true",
    b'"\\ud800"',
    b'"\x1b[2J\\u202e"',
    b"\xff\xfe",
    b"\x00",
    "\u202e\u0000é".encode(),
    b'"sha256:' + b"0" * 64 + b'"',
    b'"linux/amd64/v8/x"',
    b'"application/vnd.oci.image.index.v1+json"',
]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 5))):
        op = draw(st.sampled_from(["flip", "token", "delete", "truncate", "duplicate"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[pos] ^= draw(st.integers(1, 255))
        elif op == "token":
            data[pos : pos + draw(st.integers(0, 12))] = draw(st.sampled_from(TOKENS))
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 64))]
        elif op == "duplicate":
            data[pos:pos] = data[pos : pos + draw(st.integers(1, 200))]
        else:
            del data[pos:]
    return bytes(data)


def _fetch_from(docs: list[bytes]) -> object:
    it = iter(docs)

    def fetch(d: Descriptor) -> bytes:
        assert isinstance(d, Descriptor) and isinstance(d.size, int) and d.size >= 0
        return next(it, SEEDS[0])

    return fetch


@FUZZ
@given(mutated(), st.lists(mutated(), max_size=3), st.sampled_from(["linux/amd64", "linux/arm64", "linux/arm64/v8"]))
@example(b"[" * 100_000, [], "linux/amd64")
@example(b'{"schemaVersion": 2, "config": {}, "layers": [], "size": ' + b"9" * 5000 + b"}", [], "linux/amd64")
def test_resolve_manifest(top: bytes, fetched: list[bytes], platform: str) -> None:
    try:
        manifest, digest = resolve_manifest(top, "manifest", _fetch_from(fetched), platform)  # type: ignore[arg-type]
    except ShareguardError as exc:
        assert exc.one_line() and "\n" not in exc.one_line()
        return
    assert isinstance(manifest, Manifest) and (digest is None or isinstance(digest, str))
    assert all(isinstance(layer, Descriptor) for layer in manifest.layers)


@FUZZ
@given(mutated())
@example(b'{"rootfs": {"diff_ids": ["' + b"\xff" * 10 + b'"]}}')
def test_parse_config(data: bytes) -> None:
    try:
        config = parse_config(data, "config")
    except ShareguardError:
        return
    assert isinstance(config, ImageConfig)
    assert all(isinstance(d, str) for d in config.diff_ids)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in config.labels)
