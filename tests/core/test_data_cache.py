"""core.data_cache: bundled YAML parsed once, read back as JSON; a damaged entry is a miss with a warning."""

from __future__ import annotations

import datetime
import json
import logging
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shareguard.core.data_cache import SUBDIR, cached_parse, entry_key, json_exact, load_bundled_yaml

SRC = Path(__file__).resolve().parents[2] / "src" / "shareguard"
TEXT = "rules:\n  - id: X-001\n    title: t\n    tags: [a, b]\n    score: 1.5\n    enabled: true\n    none: ~\n"


class Counting:
    """A parse that counts its calls."""

    def __init__(self, parse: Any = None) -> None:
        self.calls = 0
        self.parse = parse or (lambda text: yaml.safe_load(text))

    def __call__(self, text: str) -> Any:
        self.calls += 1
        return self.parse(text)


def entry_path(cache: Path, text: str, kind: str = "k") -> Path:
    return cache / SUBDIR / f"{entry_key(text, kind)}.json"


def test_a_parse_is_kept_and_read_back(tmp_path: Path) -> None:
    parse = Counting()
    first = cached_parse(TEXT, "k", parse, cache_dir=tmp_path)
    second = cached_parse(TEXT, "k", parse, cache_dir=tmp_path)
    assert first == second == yaml.safe_load(TEXT)
    assert parse.calls == 1
    assert entry_path(tmp_path, TEXT).is_file()
    assert not [p for p in (tmp_path / SUBDIR).iterdir() if p.suffix != ".json"]  # no temporary file left


def test_the_key_is_the_text_the_loader_and_the_version(tmp_path: Path) -> None:
    parse = Counting()
    cached_parse(TEXT, "k", parse, cache_dir=tmp_path)
    cached_parse(TEXT, "other-loader", parse, cache_dir=tmp_path)
    cached_parse(TEXT + "# changed\n", "k", parse, cache_dir=tmp_path)
    assert parse.calls == 3
    assert len({entry_key(TEXT, "k"), entry_key(TEXT, "other-loader"), entry_key(TEXT + "#", "k")}) == 3


def test_the_cache_dir_comes_from_the_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHAREGUARD_CACHE_DIR", str(tmp_path / "c"))
    assert load_bundled_yaml(TEXT) == yaml.safe_load(TEXT)
    assert entry_path(tmp_path / "c", TEXT, "yaml.safe").is_file()


@pytest.mark.parametrize(
    "text",
    [
        "{1: a}",  # a non-string key
        "d: 2024-01-02",  # a date
        "x: .nan",
        "x: .inf",
        "!!set {a, b}",
        "x: !!binary aGk=",
    ],
)
def test_what_json_would_change_is_parsed_every_time(tmp_path: Path, text: str) -> None:
    parse = Counting()
    a = cached_parse(text, "k", parse, cache_dir=tmp_path)
    b = cached_parse(text, "k", parse, cache_dir=tmp_path)
    assert parse.calls == 2
    assert not entry_path(tmp_path, text).exists()
    if not (isinstance(a, dict) and any(isinstance(v, float) and math.isnan(v) for v in a.values())):
        assert a == b


def test_a_parse_error_is_raised_and_nothing_kept(tmp_path: Path) -> None:
    with pytest.raises(yaml.YAMLError):
        cached_parse("a: [", "k", yaml.safe_load, cache_dir=tmp_path)
    assert not entry_path(tmp_path, "a: [").exists()


def test_an_unwritable_cache_only_costs_the_parse(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    parse = Counting()
    assert cached_parse(TEXT, "k", parse, cache_dir=blocker) == yaml.safe_load(TEXT)
    assert cached_parse(TEXT, "k", parse, cache_dir=blocker) == yaml.safe_load(TEXT)
    assert parse.calls == 2


def _damage(path: Path, key: str) -> list[bytes]:
    good = path.read_bytes()
    return [
        b"",
        b"\xff\xfe not utf-8",
        good[: len(good) // 2],
        b"[" * 100_000 + b"]" * 100_000,  # nested past the JSON decoder's recursion limit
        b'{"format": 1, "key": "' + b"0" * 64 + b'", "doc": {}}',  # another text's entry
        json.dumps({"format": 999, "key": key, "doc": {}}).encode(),
        json.dumps({"format": 1, "key": key}).encode(),
        json.dumps([1, 2, 3]).encode(),
        b" " * (2 << 20) + good,  # over its budget
    ]


def test_a_damaged_entry_is_a_miss_with_a_warning_and_is_rewritten(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    parse = Counting()
    cached_parse(TEXT, "k", parse, cache_dir=tmp_path)
    path = entry_path(tmp_path, TEXT)
    good = path.read_bytes()
    for i, bad in enumerate(_damage(path, entry_key(TEXT, "k"))):
        path.write_bytes(bad)
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="shareguard"):
            assert cached_parse(TEXT, "k", parse, cache_dir=tmp_path) == yaml.safe_load(TEXT)
        assert parse.calls == i + 2
        assert [r.levelno for r in caplog.records] == [logging.WARNING]
        assert "damaged data cache entry" in caplog.records[0].getMessage()
        assert path.read_bytes() == good  # rewritten


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(noise=st.binary(max_size=512), cut=st.integers(min_value=0, max_value=400))
def test_random_damage_never_crashes(tmp_path: Path, noise: bytes, cut: int) -> None:
    parse = Counting()
    path = entry_path(tmp_path, TEXT)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(json.dumps({"format": 1, "key": entry_key(TEXT, "k"), "doc": "x"}).encode()[:cut] + noise)
    logging.getLogger("shareguard").disabled = True
    try:
        got = cached_parse(TEXT, "k", parse, cache_dir=tmp_path)
    finally:
        logging.getLogger("shareguard").disabled = False
    # Either the bytes still form this key's entry (whatever doc they hold is what a writer put there)
    # or it is a miss: parsed, and the entry rewritten.
    assert got == yaml.safe_load(TEXT) or parse.calls == 0


_JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text() | st.dates() | st.tuples(st.integers()),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5) | st.integers(), children, max_size=4)
    ),
    max_leaves=20,
)


@given(doc=_JSONISH)
def test_json_exact_means_json_gives_it_back(doc: Any) -> None:
    if json_exact(doc):
        back = json.loads(json.dumps(doc, allow_nan=False))
        assert back == doc
        assert _types(back) == _types(doc)


def _types(doc: Any) -> Any:
    if isinstance(doc, dict):
        return {k: _types(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [_types(v) for v in doc]
    return type(doc).__name__


def test_json_exact_rejects_what_json_changes() -> None:
    assert json_exact({"a": [1, 1.5, "x", None, True, {"b": []}]})
    for doc in ({1: "a"}, (1, 2), datetime.date(2024, 1, 2), float("nan"), float("inf"), {"a": {b"x"}}):
        assert not json_exact(doc)


def _bundled_yaml() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.yaml") if "__pycache__" not in p.parts)


def test_every_bundled_yaml_document_reads_back_as_it_parses(tmp_path: Path) -> None:
    files = _bundled_yaml()
    assert len(files) > 20
    cached = 0
    for f in files:
        text = f.read_text(encoding="utf-8")
        fresh = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        assert cached_parse(text, "yaml.safe", yaml.safe_load, cache_dir=tmp_path) == fresh
        hit = Counting()
        again = cached_parse(text, "yaml.safe", hit, cache_dir=tmp_path)
        assert again == fresh and _types(again) == _types(fresh), f
        cached += hit.calls == 0
    assert cached > 20  # the rule files, the attribute tables and the data tables are all JSON-exact
