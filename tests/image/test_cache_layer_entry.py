"""The layer cache's entry layout (`encode_layer` / `decode_layer`): a JSON head line, then the raw path list.

Round trips keep every path (newlines, non-ASCII, lone surrogates), record, whiteout and issue; any
damaged or foreign entry is a miss with a warning, never a crash and never a wrong result.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shareguard.core.dispatch import FileRecord
from shareguard.core.facts import Fact, Package
from shareguard.core.finding import Finding, Remediation
from shareguard.core.resource import Location, Resource
from shareguard.core.severity import Severity
from shareguard.image.cache import (
    _DAMAGED,
    CACHE_FORMAT,
    CodecError,
    LayerCache,
    _fact_classes,
    decode_layer,
    encode_layer,
)
from shareguard.sources.image.applier import LayerResult

DIFF_ID = "sha256:" + "a" * 64
_name = st.text(st.characters(blacklist_characters="\0"), min_size=1, max_size=40)
"""Tar names as a layer keeps them: anything but NUL (which `normalise` refuses)."""
_text = st.text(max_size=20)


def _finding(path: str) -> Finding:
    return Finding(
        rule_id="TEST-001",
        control_ids=("DLC-C-01",),
        severity=Severity.HIGH,
        title="a test finding",
        resource=Resource(type="file", path=path),
        location=Location(layer_digest=DIFF_ID),
        evidence="x = 1",
        remediation=Remediation(text="fix it"),
        properties={"n": 1, "tags": ["a", "b"]},
    )


_packages = st.builds(
    Package,
    name=_text,
    version=_text,
    ecosystem=st.sampled_from(["PyPI", "Debian"]),
    path=_text,
    licenses=st.lists(_text, max_size=3).map(tuple),
    extra=st.lists(st.tuples(_text, _text), max_size=2).map(tuple),
)
_records = st.builds(
    FileRecord,
    facts=st.lists(_packages, max_size=2),
    coverage=st.lists(
        st.one_of(
            st.tuples(st.just("input_evaluated"), st.tuples(_text, _text)),
            st.tuples(st.just("evaluated"), st.tuples(_text, st.lists(_text, max_size=2).map(tuple), _text)),
            st.tuples(st.just("could_not_analyse"), st.tuples(st.none() | _text, _text, _text)),
        ),
        max_size=3,
    ),
    issues=st.lists(st.tuples(_text, _text, st.none() | _text, st.sampled_from(["error", "warning"])), max_size=2),
)


@st.composite
def _results(draw: st.DrawFn) -> LayerResult[FileRecord]:
    paths = draw(st.lists(_name, max_size=30))
    recorded = draw(st.lists(st.sampled_from(paths), max_size=5, unique=True)) if paths else []
    facts = {p: draw(st.lists(_records, min_size=1, max_size=2)) for p in recorded}
    if recorded and draw(st.booleans()):
        facts[recorded[0]][0].findings.append(_finding(recorded[0]))
    return LayerResult(
        diff_id=DIFF_ID,
        paths=paths,
        whiteouts=draw(st.lists(_name, max_size=3)),
        opaque=draw(st.lists(st.just("") | _name, max_size=2)),
        facts=facts,
        issues=draw(st.lists(st.tuples(_name, _text, st.booleans()), max_size=3)),
    )


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(_results())
def test_layer_entries_round_trip(result: LayerResult[FileRecord]) -> None:
    back = decode_layer(encode_layer(result, "k"), DIFF_ID, _fact_classes())
    assert back == result


def test_paths_are_stored_raw_after_the_head_line() -> None:
    result: LayerResult[FileRecord] = LayerResult(DIFF_ID, paths=["a\nb", "caf\u00e9", "x\udcff", "usr/bin/ls"])
    raw = encode_layer(result, "k")
    head, newline, tail = raw.partition(b"\n")
    assert newline and json.loads(head)["format"] == CACHE_FORMAT and json.loads(head)["count"] == 4
    assert tail.split(b"\0")[0] == b"a\nb"  # the first newline ends the head: JSON never writes one raw
    assert decode_layer(raw, DIFF_ID, _fact_classes()).paths == result.paths


def _entry(result: LayerResult[FileRecord]) -> bytes:
    return encode_layer(result, "k")


_VALID = _entry(
    LayerResult(
        DIFF_ID,
        paths=["app/Dockerfile", "etc/os-release"],
        facts={"app/Dockerfile": [FileRecord(findings=[_finding("app/Dockerfile")])]},
    )
)


def _head(raw: bytes) -> dict[str, object]:
    doc = json.loads(raw.partition(b"\n")[0])
    assert isinstance(doc, dict)
    return doc


def _with_head(raw: bytes, **changes: object) -> bytes:
    doc = _head(raw)
    doc.update(changes)
    return json.dumps(doc).encode() + b"\n" + raw.partition(b"\n")[2]


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"garbage",
        _VALID.partition(b"\n")[0],  # no path list
        _VALID + b"\0one/more",  # more paths than the head counts
        _with_head(_VALID, format=CACHE_FORMAT - 1),
        _with_head(_VALID, diff_id="sha256:" + "b" * 64),
        _with_head(_VALID, count=1),
        _with_head(_VALID, facts=[["x", [{"facts": [{"t": "os.system", "f": {"d": [["command", "id"]]}}]}]]]),
        _with_head(_VALID, facts=[["x", [{"facts": [1], "findings": [], "coverage": [], "issues": []}]]]),
        _with_head(_VALID, facts=[["x", [{"facts": [], "findings": [{"rule_id": 1}], "coverage": [], "issues": []}]]]),
        _with_head(_VALID, facts=[["x", [{"facts": [], "findings": [], "coverage": [["__init__", {"t": []}]]}]]]),
        _with_head(_VALID, issues=[[1]]),
        _with_head(_VALID, whiteouts=7),
        b"[]\n",
        b"null\n",
        b'{"format": %d, "diff_id": "%s"}\nx' % (CACHE_FORMAT, DIFF_ID.encode()),
        _VALID.partition(b"\n")[0] + b"\n\xff\xfe",  # not UTF-8
    ],
)
def test_damaged_entries_are_refused(raw: bytes) -> None:
    with pytest.raises(_DAMAGED):
        decode_layer(raw, DIFF_ID, _fact_classes())


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_entries_never_crash_the_cache(tmp_path_factory: pytest.TempPathFactory, data: st.DataObject) -> None:
    raw = bytearray(_VALID)
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(raw) - 1))
        raw[at] = data.draw(st.integers(0, 255))
    cache = LayerCache(tmp_path_factory.mktemp("c"), "k")
    cache.dir.mkdir(parents=True)
    cache._path(None, DIFF_ID).write_bytes(zlib.compress(bytes(raw)))
    told: list[str] = []
    got = cache.get(None, DIFF_ID, told.append)
    if got is None:
        assert len(told) == 1 and "not used" in told[0]
    else:  # a mutation that still decodes (e.g. inside a path or the evidence): plain data, validated
        assert told == [] and all(isinstance(f, Finding) for rs in got.facts.values() for r in rs for f in r.findings)


def test_a_damaged_entry_is_a_miss_with_a_warning(tmp_path: Path) -> None:
    cache = LayerCache(tmp_path, "k")
    result: LayerResult[FileRecord] = LayerResult(DIFF_ID, paths=["a", "b"])
    cache.put(None, DIFF_ID, result)
    assert cache.get(None, DIFF_ID) == result
    path = cache._path(None, DIFF_ID)
    path.write_bytes(zlib.compress(b"not an entry"))
    told: list[str] = []
    assert cache.get(None, DIFF_ID, told.append) is None
    assert len(told) == 1 and path.name in told[0]
    path.write_bytes(b"not zlib")
    assert cache.get(None, DIFF_ID, told.append) is None and len(told) == 2


def test_facts_nested_too_deep_are_not_cached(tmp_path: Path) -> None:
    import dataclasses

    @dataclasses.dataclass(frozen=True)
    class Deep(Fact):
        value: object

    nested: object = "x"
    for _ in range(5000):
        nested = (nested,)
    result: LayerResult[FileRecord] = LayerResult(DIFF_ID, paths=["a"], facts={"a": [FileRecord(facts=[Deep(nested)])]})
    with pytest.raises(CodecError):
        LayerCache(tmp_path, "k").put(None, DIFF_ID, result)
    assert not any((tmp_path / "layers").glob("*.z")) if (tmp_path / "layers").exists() else True


def test_an_entry_that_cannot_be_encoded_is_a_failed_write(tmp_path: Path) -> None:
    import dataclasses
    from concurrent.futures import ThreadPoolExecutor

    from shareguard.image.scan import _write_entry
    from shareguard.sources.image.model import LayerRef

    @dataclasses.dataclass(frozen=True)
    class Odd(Fact):
        value: object

    cache = LayerCache(tmp_path, "k")
    layer = LayerRef(index=0, diff_id=DIFF_ID, digest=None, media_type=None, size=0, opener=_no_opener)
    bad: LayerResult[FileRecord] = LayerResult(DIFF_ID, paths=["a"], facts={"a": [FileRecord(facts=[Odd(object())])]})
    good: LayerResult[FileRecord] = LayerResult(DIFF_ID, paths=["a", "b"])
    with ThreadPoolExecutor(max_workers=1) as writer:
        failed = _write_entry(cache, writer, layer, bad)
        assert isinstance(failed.exception(), CodecError)
        assert not (tmp_path / "layers").exists()
        _write_entry(cache, writer, layer, good).result()
    assert cache.get(None, DIFF_ID) == good


def _no_opener() -> Any:
    raise AssertionError("a cache write never opens the layer")
