"""Fuzz target (issue #14): the accepted-risk inputs — waiver files, baselines, OpenVEX documents — mutated
from valid files (byte flips, truncations, deep nesting, 5,000-digit numbers, odd Unicode).

Property: `load_waivers` returns waivers or raises `WaiverError`; `load_baseline` returns its keys or
raises `ConfigError`; `load_vex` returns a `VexDocument` or raises `InputError` — each one line naming
the file, never another exception."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from shareguard.core.errors import ConfigError, InputError, WaiverError
from shareguard.core.waivers import load_waivers
from shareguard.posture.baseline import load_baseline
from shareguard.vuln.vex import VexDocument, load_vex

FUZZ = settings(
    max_examples=70,
    deadline=5000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

WAIVERS = b"""# accepted risks
waivers:
  - rule: DOCKERFILE-001
    resource: docker/*
    reason: base image pinned by the platform team
    expires: 2030-01-31
  - resource: "data/*.csv"
    reason: "synthetic data, no PII \xc3\xa9"
    expires: 2031-12-31
"""
BASELINE = json.dumps(
    {
        "version": 1,
        "findings": [
            {
                "file": "main.tf",
                "resource_type": "gcp.storage.bucket",
                "resource": "b",
                "rule": "TF-001",
                "fingerprint": "ab",
            },
            {"file": "Dockerfile", "resource_type": "dockerfile", "resource": "stage 0", "rule": "DOCKERFILE-002"},
        ],
    },
    indent=1,
).encode()
VEX = json.dumps(
    {
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "https://example.com/vex/1",
        "author": "sec",
        "timestamp": "2024-01-01T00:00:00Z",
        "statements": [
            {
                "vulnerability": {"name": "CVE-2023-1", "aliases": ["GHSA-xxxx-yyyy-zzzz"]},
                "products": [{"@id": "pkg:oci/app", "subcomponents": [{"@id": "pkg:pypi/torch@2.0.0"}]}],
                "status": "not_affected",
                "justification": "vulnerable_code_not_in_execute_path",
            },
            {"vulnerability": "CVE-2024-2", "products": ["pkg:pypi/x@1"], "status": "fixed", "timestamp": "2024-02-02"},
        ],
    },
    indent=1,
).encode()
TOKENS = [
    b"[" * 5000,
    b"{" * 3000,
    b'{"a":' * 2000,
    b"- " * 3000,
    b"9" * 5000,
    b"1e99999",
    b"2030-02-30",
    b"99999-01-01",
    b"null",
    b"&a [*a, *a]",
    b"!!python/object/apply:os.system ['id']",
    b"\xff\xfe",
    b"\x00",
    b"\x1b[2J",
    "\u202e\u2028".encode(),
    b'"\\ud800"',
    b"\t",
    b"\n",
]
WAIVER_TOKENS = [t for t in TOKENS if len(t) < 1000] + [b"[" * 100, b"{" * 100, b"- " * 3000, b"9" * 5000]
"""Flow nesting stays below the recursion limit here: PyYAML's pure-Python scanner (the waiver loader's) is
quadratic in flow depth (`stale_possible_simple_keys`), ~3 s for 5,000 `[` before the RecursionError; block
nesting (`- - -`) reaches that limit cheaply. The deep flow case is the explicit example below."""


@st.composite
def mutated(draw: st.DrawFn, seed: bytes, tokens: list[bytes] = TOKENS) -> bytes:
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 5))):
        op = draw(st.sampled_from(["flip", "token", "replace", "delete", "truncate"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[pos] ^= draw(st.integers(1, 255))
        elif op == "token":
            data[pos:pos] = draw(st.sampled_from(tokens))
        elif op == "replace":
            data[pos : pos + draw(st.integers(1, 16))] = draw(st.sampled_from(tokens))
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 40))]
        else:
            del data[pos:]
    return bytes(data)


@pytest.fixture(scope="module")
def where(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@FUZZ
@given(data=mutated(WAIVERS, WAIVER_TOKENS))
@example(data=WAIVERS.replace(b"2030-01-31", b"9" * 5000))
@example(data=b"[" * 1200)  # past the recursion limit in flow style: ~1 s in the pure-Python scanner
@example(data=b"waivers:\n" + b"- " * 100_000)
def test_waivers_mutated(where: Path, data: bytes) -> None:
    path = where / ".shareguard-ignore.yaml"
    path.write_bytes(data)
    try:
        waivers = load_waivers(path)
    except WaiverError as exc:
        assert "\n" not in exc.one_line()
        return
    for w in waivers:
        assert isinstance(w.reason, str) and w.reason and isinstance(w.expires, date)


@FUZZ
@given(data=mutated(BASELINE))
@example(data=b'{"findings": [' + b"[" * 100_000 + b"]}")
def test_baseline_mutated(where: Path, data: bytes) -> None:
    path = where / "baseline.json"
    path.write_bytes(data)
    try:
        fingerprints, keys = load_baseline(path)
    except ConfigError as exc:
        assert "\n" not in exc.one_line() and exc.path == str(path)
        return
    assert all(isinstance(f, str) for f in fingerprints)
    assert all(len(k) == 4 and all(isinstance(x, str) for x in k) and n >= 1 for k, n in keys.items())


@FUZZ
@given(data=mutated(VEX))
@example(data=VEX.replace(b'"2024-01-01T00:00:00Z"', b"9" * 5000))
def test_vex_mutated(where: Path, data: bytes) -> None:
    path = where / "vex.json"
    path.write_bytes(data)
    try:
        doc = load_vex(path)
    except InputError as exc:
        assert "\n" not in exc.one_line() and exc.path == str(path)
        return
    assert isinstance(doc, VexDocument)
    for statement in doc.statements:
        assert statement.vulnerabilities and all(isinstance(v, str) for v in statement.vulnerabilities)
