"""Deep nesting gets shareguard's own budget error whatever PyYAML (and its libyaml) does.

libyaml scans every opener of nested flow collections before the first event, and the libyaml of
PyYAML 6.0.3+ stops at 1000 levels with its own error: the loader must still report its budget.
"""

from __future__ import annotations

import pytest
import yaml

from shareguard.core.errors import BudgetExceeded, ParseError
from shareguard.core.settings import Budgets
from shareguard.posture.parsers import yaml_safe
from shareguard.posture.parsers.yaml_safe import load_documents


@pytest.mark.parametrize("depth", [201, 999, 1000, 1001, 5000, 50_000])
def test_flow_nesting_beyond_the_budget(depth: int) -> None:
    with pytest.raises(BudgetExceeded, match="nesting deeper than 200 levels") as info:
        load_documents("[" * depth + "]" * depth, "deep.yaml")
    assert info.value.path == "deep.yaml" and info.value.line == 1


def test_the_line_of_the_deep_value_after_other_lines_and_documents() -> None:
    text = "name: ünïcödé 😀\n---\nkind: Pod\nspec: " + "{a: " * 3000 + "1" + "}" * 3000 + "\n"
    with pytest.raises(BudgetExceeded, match="nesting") as info:
        load_documents(text, "k8s/deep.yaml")
    assert info.value.line == 4


def test_a_smaller_budget_is_the_one_reported() -> None:
    with pytest.raises(BudgetExceeded, match="deeper than 10 levels"):
        load_documents("x: " + "[" * 2000, "deep.yaml", Budgets(max_depth=10))


def test_within_budget_still_loads() -> None:
    (doc,) = load_documents("x: " + "[" * 150 + "1" + "]" * 150, "ok.yaml")
    value = doc.value["x"]
    for _ in range(149):
        value = value[0]
    assert value == [1]


def test_other_syntax_errors_stay_invalid_yaml() -> None:
    with pytest.raises(ParseError, match="invalid YAML") as info:
        load_documents("a: [1, 2\nb: c\n", "bad.yaml")
    assert not isinstance(info.value, BudgetExceeded) and info.value.line == 2
    with pytest.raises(ParseError, match="invalid YAML") as info:
        load_documents("a: " + "[" * 50 + "\n  - : : ]]]\n", "bad.yaml")
    assert not isinstance(info.value, BudgetExceeded)


def test_the_pure_python_parser_gives_the_same_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without libyaml (a PyYAML built without it) the budget is met the same way."""
    monkeypatch.setattr(yaml_safe, "_Loader", yaml.SafeLoader)
    with pytest.raises(BudgetExceeded, match="nesting deeper than 200 levels"):
        load_documents("[" * 300 + "]" * 300, "deep.yaml")
