"""The one JSON loader for user input (`core/safe_json.py`): budgets and one-line errors, never a traceback."""

from __future__ import annotations

import pytest

from shareguard.core.errors import BudgetExceeded, ConfigError, ParseError
from shareguard.core.safe_json import check_depth, load_json


def test_plain_document() -> None:
    assert load_json(b'{"a": [1, 2.5, "x", null, true]}', origin="f.json") == {"a": [1, 2.5, "x", None, True]}


@pytest.mark.parametrize("depth", [250, 100_000])
def test_deep_nesting_is_a_budget_error(depth: int) -> None:
    with pytest.raises(BudgetExceeded, match="nested deeper than 200 levels") as err:
        load_json("[" * depth + "]" * depth, origin="deep.json")
    assert err.value.path == "deep.json"


def test_deep_object_nesting_from_bytes() -> None:
    with pytest.raises(BudgetExceeded, match="nested deeper"):
        load_json(b'{"a":' * 100_000 + b"1" + b"}" * 100_000, origin="deep.json")


def test_huge_integer_is_a_budget_error() -> None:
    with pytest.raises(BudgetExceeded, match="number too large"):
        load_json('{"expires": ' + "9" * 5000 + "}", origin="big.json")


def test_syntax_error_names_line() -> None:
    with pytest.raises(ParseError, match="invalid JSON") as err:
        load_json('{\n"a": 1,\n}', origin="bad.json")
    assert err.value.line == 3 and err.value.path == "bad.json"


def test_not_utf8() -> None:
    with pytest.raises(ParseError, match="not UTF-8"):
        load_json(b'{"a": "\xff\xfe"}', origin="bin.json")


def test_size_budget() -> None:
    with pytest.raises(BudgetExceeded, match="over the 10-byte budget"):
        load_json(b"[" + b"1," * 10 + b"1]", origin="big.json", max_bytes=10)


def test_error_class_of_the_caller() -> None:
    for text in ("[" * 5000, "{", "1" * 5000):
        with pytest.raises(ConfigError):
            load_json(text, origin="baseline.json", error=ConfigError)


def test_depth_and_node_count_of_parsed_documents() -> None:
    check_depth([[1]], origin="x", max_depth=2)
    with pytest.raises(BudgetExceeded, match="deeper than 2"):
        check_depth([[[1]]], origin="x", max_depth=2)
    with pytest.raises(BudgetExceeded, match="more than 3 values"):
        check_depth([1, 2, 3, 4], origin="x", max_nodes=3)
