"""The shared safe YAML loader: values, line maps, multi-document streams and hostile input."""

from __future__ import annotations

import time

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from shareguard.core.errors import BudgetExceeded, ParseError
from shareguard.core.settings import Budgets
from shareguard.posture.parsers.yaml_safe import load_documents, load_one

MANIFEST = """\
# a comment
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: app
          image: nginx:1.27
          ports: [{containerPort: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
"""


def test_values_match_yaml_safe_load() -> None:
    docs = load_documents(MANIFEST, "m.yaml")
    assert [d.value for d in docs] == list(yaml.safe_load_all(MANIFEST))
    assert [d.index for d in docs] == [0, 1]


def test_every_key_and_item_has_its_line() -> None:
    doc = load_documents(MANIFEST, "m.yaml")[0]
    assert doc.line_of("kind") == 3
    assert doc.line_of("spec.template.spec.containers[0]") == 10
    assert doc.line_of("spec.template.spec.containers[0].image") == 11
    assert doc.line_of("spec.template.spec.containers[0].ports[0].containerPort") == 12
    # An unknown child falls back to its nearest known parent.
    assert doc.line_of("spec.template.spec.containers[0].securityContext.privileged") == 10
    assert load_documents(MANIFEST, "m.yaml")[1].line_of("metadata.name") == 16


def test_lines_under_rebases_paths() -> None:
    doc = load_documents(MANIFEST, "m.yaml")[0]
    sub = doc.lines_under("spec.template.spec")
    assert sub["containers[0].image"] == 11
    assert doc.get("spec.template.spec.containers[0].name") == "app"
    assert doc.get("spec.nope", "dflt") == "dflt"


def test_types_merge_keys_and_custom_tags() -> None:
    text = (
        "base: &b {cpu: 1, mem: 2}\nx:\n  <<: *b\n  mem: 3\nflag: yes\nnum: 0x10\nwhen: 2024-01-02\nref: !Ref Bucket\n"
    )
    doc = load_one(text, "t.yaml", tag_handler=lambda tag, v: {tag.lstrip("!"): v})
    assert doc.value["x"] == {"cpu": 1, "mem": 3}
    assert doc.value["flag"] is True and doc.value["num"] == 16
    assert doc.value["when"] == "2024-01-02"  # JSON-serialisable, not a date
    assert doc.value["ref"] == {"Ref": "Bucket"}
    assert load_one(text, "t.yaml").value["ref"] == "Bucket"  # no handler: tag ignored


def test_empty_documents_are_skipped_and_load_one_refuses_streams() -> None:
    assert load_documents("---\n---\n", "e.yaml") == []
    assert load_one("", "e.yaml").value is None
    with pytest.raises(ParseError, match="one YAML document"):
        load_one("a: 1\n---\nb: 2\n", "two.yaml")


def test_syntax_error_names_file_and_line() -> None:
    with pytest.raises(ParseError) as exc:
        load_documents("a: [1, 2\nb: c\n", "bad.yaml")
    assert exc.value.path == "bad.yaml" and exc.value.line is not None
    assert "invalid YAML" in exc.value.one_line()


def _billion_laughs(levels: int = 9) -> str:
    out = ['lol0: &lol0 "lol"']
    for i in range(1, levels + 1):
        out.append(f"lol{i}: &lol{i} [" + ", ".join([f"*lol{i - 1}"] * 10) + "]")
    return "\n".join(out) + "\n"


def test_billion_laughs_fails_fast() -> None:
    started = time.monotonic()
    with pytest.raises(BudgetExceeded, match="alias"):
        load_documents(_billion_laughs(), "bomb.yaml")
    assert time.monotonic() - started < 2.0


def test_alias_reuse_within_budget_is_fine() -> None:
    doc = load_documents(_billion_laughs(3), "ok.yaml")[0]
    assert len(doc.value["lol3"]) == 10 and doc.value["lol3"][0][0] == ["lol"] * 10


def test_recursive_and_unknown_aliases() -> None:
    with pytest.raises(ParseError, match="recursive alias"):
        load_documents("&a [*a]\n", "rec.yaml")
    with pytest.raises(ParseError):
        load_documents("a: *nope\n", "unk.yaml")


def test_deep_nesting_is_refused() -> None:
    with pytest.raises(BudgetExceeded, match="nesting"):
        load_documents("[" * 10_000 + "]" * 10_000, "deep.yaml")
    block = "".join("  " * i + f"k{i}:\n" for i in range(300)) + "  " * 300 + "v\n"
    with pytest.raises(BudgetExceeded):
        load_documents(block, "deep2.yaml")


def test_size_and_node_budgets() -> None:
    with pytest.raises(BudgetExceeded, match="byte budget"):
        load_documents("a: b\n" * 100, "big.yaml", Budgets(max_config_bytes=100))
    with pytest.raises(BudgetExceeded, match="nodes"):
        load_documents("[" + ", ".join(["1"] * 500) + "]", "wide.yaml", Budgets(max_yaml_nodes=100))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab:-[]{}&*!|>'\"#\n ,?")), max_size=200))
def test_fuzz_never_raises_anything_but_parse_errors(text: str) -> None:
    try:
        docs = load_documents(text, "fuzz.yaml")
    except ParseError:
        return
    for d in docs:
        assert d.line >= 1


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=10),
        lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(min_size=1, max_size=6), c, max_size=4),
        max_leaves=30,
    )
)
def test_round_trip_matches_pyyaml(value: object) -> None:
    text = yaml.safe_dump(value)
    assert load_one(text, "rt.yaml").value == yaml.safe_load(text)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12))
def test_first_character_shortcut_agrees_with_the_resolver(value: str) -> None:
    """Plain scalars whose first character starts no implicit type are taken as strings without asking the
    resolver: it must say the same."""
    from shareguard.posture.parsers.yaml_safe import _RESOLVER, _implicit_first_chars

    first = _implicit_first_chars(_RESOLVER)
    if value and value[0] not in first:
        assert _RESOLVER.resolve(yaml.ScalarNode, value, (True, False)) == "tag:yaml.org,2002:str"  # type: ignore[no-untyped-call]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.text(alphabet="bcnNtTyYoOfF~0123456789.-+:_ eE", min_size=1, max_size=8).map(str.strip).filter(bool),
        min_size=1,
        max_size=6,
    )
)
def test_plain_scalars_load_as_pyyaml_loads_them(tokens: list[str]) -> None:
    """Unquoted scalars (numbers, booleans, nulls, words) load as yaml.safe_load loads them (no `a`: `.nan`
    equals nothing)."""
    text = "".join(f"k{i}: {t}\n" for i, t in enumerate(tokens)) + "l:\n" + "".join(f"  - {t}\n" for t in tokens)
    try:
        expected = yaml.safe_load(text)
    except yaml.YAMLError:
        return  # not YAML (e.g. `k: a: b`): the error path is tested elsewhere
    if any(not isinstance(v, str | int | float | bool | type(None) | list) for v in expected.values()):
        return  # timestamps stay strings here, by design
    assert load_one(text, "plain.yaml").value == expected
