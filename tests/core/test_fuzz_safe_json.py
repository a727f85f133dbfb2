"""Fuzz target (issue #14): the one JSON loader (`core/safe_json.py`), mutated from valid documents.

Property: `load_json` returns plain JSON values within its depth budget or raises `ParseError` /
`BudgetExceeded` (or the caller's `error=` class) naming the origin, never `RecursionError`, `ValueError`
or `UnicodeDecodeError`."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from shareguard.core.errors import ConfigError, ParseError, ShareguardError
from shareguard.core.safe_json import load_json

FUZZ = settings(max_examples=150, deadline=5000, suppress_health_check=[HealthCheck.too_slow])

SEEDS = [
    json.dumps({"version": 1, "findings": [{"rule": "K8S-001", "resource": "a/b", "count": 2}]}).encode(),
    json.dumps([1, -2.5e10, None, True, "é\u202e", {"k": [[], {}]}]).encode(),
    b'{"a": {"b": {"c": {"d": [1, 2, 3]}}}}',
]
TOKENS = [b"[" * 5000, b'{"a":' * 3000, b"9" * 5000, b"1e99999", b"-0", b"NaN", b"\xff", b"\x00", b"\x1b", b'"\\ud800"']


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 5))):
        op = draw(st.sampled_from(["flip", "token", "delete", "truncate"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[pos] ^= draw(st.integers(1, 255))
        elif op == "token":
            data[pos:pos] = draw(st.sampled_from(TOKENS)) * draw(st.integers(1, 3))
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 32))]
        else:
            del data[pos:]
    return bytes(data)


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        v, d = stack.pop()
        deepest = max(deepest, d)
        if isinstance(v, dict):
            stack.extend((x, d + 1) for x in v.values())
        elif isinstance(v, list):
            stack.extend((x, d + 1) for x in v)
    return deepest


@FUZZ
@given(mutated(), st.sampled_from([16, 64, 200]), st.booleans(), st.sampled_from([None, ConfigError]))
@example(b"[" * 100_000 + b"]" * 100_000, 200, False, None)
@example(b"9" * 5000, 200, True, ConfigError)
def test_load_json_mutated(data: bytes, max_depth: int, as_text: bool, error: type[ShareguardError] | None) -> None:
    payload: bytes | str = data.decode("utf-8", "replace") if as_text else data
    try:
        doc = load_json(payload, origin="fuzz.json", max_depth=max_depth, error=error)
    except ShareguardError as exc:
        assert isinstance(exc, error or ParseError)
        assert exc.path == "fuzz.json"
        return
    assert _depth(doc) <= max_depth + 1
