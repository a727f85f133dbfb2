"""Fuzz target (issue #14): OSV advisories through `db update`'s importer, mutated from the real PyPA
advisories committed under tests/data (YAML as published, the same as JSON, one pair in a zip archive).

Property: `import_path` imports or rejects every file with a one-line reason and never raises (one bad
advisory never aborts the import): no `RecursionError`, `ValueError` or `UnicodeDecodeError` from a
5,000-digit number, deep nesting or bytes that are not UTF-8."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from shareguard.vuln.importer import import_path
from shareguard.vuln.store import VulnStore

FUZZ = settings(
    max_examples=60,
    deadline=10_000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
PYPA = Path(__file__).resolve().parents[1] / "data" / "osv" / "pypa-advisory-database" / "vulns"
REAL_YAML = [p.read_bytes() for p in sorted(PYPA.glob("*/*.yaml"))]
REAL_JSON = [json.dumps(yaml.safe_load(y), indent=1, default=str).encode() for y in REAL_YAML]
TOKENS = [
    b"[" * 5000,
    b'{"a":' * 3000,
    b"- " * 3000,
    b"9" * 5000,
    b"1e99999",
    b"null",
    b"[]",
    b"{}",
    b'"introduced": "0"',
    b'"fixed": "' + b"9" * 300 + b'"',
    b"0.0.0-\xff",
    b"\x00",
    b"\x1b[2J",
    "\u202e".encode(),
    b"&a [*a, *a]",
    b"!!python/object/apply:os.system ['id']",
    b"\xc3\x28",
    b"\n",
]


@st.composite
def mutated(draw: st.DrawFn, seeds: list[bytes]) -> bytes:
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 5))):
        op = draw(st.sampled_from(["flip", "token", "replace", "delete", "truncate"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[pos] ^= draw(st.integers(1, 255))
        elif op == "token":
            data[pos:pos] = draw(st.sampled_from(TOKENS))
        elif op == "replace":
            data[pos : pos + draw(st.integers(1, 16))] = draw(st.sampled_from(TOKENS))
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 60))]
        else:
            del data[pos:]
    return bytes(data)


@pytest.fixture(scope="module")
def where(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, VulnStore]]:
    """One store for the module (creating one per example would cost more than the import itself)."""
    path = tmp_path_factory.mktemp("osv-fuzz")
    with VulnStore(path / "fuzz.sqlite", create=True) as store:
        yield path, store


def _import(where: tuple[Path, VulnStore], name: str, data: bytes) -> None:
    path = where[0] / name
    path.write_bytes(data)
    report = import_path(where[1], path)
    assert report.imported >= 0 and report.withdrawn >= 0
    assert sum(report.by_ecosystem.values()) <= report.imported + report.withdrawn
    for rejected in report.rejected:
        assert rejected.message and "\n" not in rejected.message


def test_seeds_import(where: tuple[Path, VulnStore]) -> None:
    """The seeds are valid advisories: the mutations start from input that reaches the store."""
    assert len(REAL_YAML) >= 4
    for name, data in (("seed.yaml", REAL_YAML[0]), ("seed.json", REAL_JSON[0])):
        (where[0] / name).write_bytes(data)
        report = import_path(where[1], where[0] / name)
        assert report.imported + report.withdrawn == 1 and not report.rejected


@FUZZ
@given(data=mutated(REAL_YAML))
def test_osv_yaml_mutated(where: tuple[Path, VulnStore], data: bytes) -> None:
    _import(where, "advisory.yaml", data)


@FUZZ
@given(data=mutated(REAL_JSON))
@example(data=REAL_JSON[0].replace(b'"modified"', b'"modified": ' + b"9" * 5000 + b', "x"'))
@example(data=b'{"id": "X", "affected": ' + b"[" * 100_000 + b"}")
def test_osv_json_mutated(where: tuple[Path, VulnStore], data: bytes) -> None:
    _import(where, "advisory.json", data)


@settings(max_examples=25, deadline=10_000, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(good=st.sampled_from(REAL_JSON), bad=mutated(REAL_JSON))
def test_osv_zip_with_a_mutated_member(where: tuple[Path, VulnStore], good: bytes, bad: bytes) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("bad.json", bad)
        zf.writestr("good.json", good)
    _import(where, "all.zip", buf.getvalue())
