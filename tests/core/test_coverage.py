"""Coverage records: a rule set evaluated on a resource (`Evaluations`) is the same evidence as one
`Evaluation` per rule, however often and in whatever order sets and single evaluations arrive."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from shareguard.core.context import ScanContext
from shareguard.core.coverage import Coverage, Evaluation, Evaluations, Gap, RuleSet
from shareguard.core.dispatch import FileRecord, RecordingCoverage, replay
from shareguard.core.settings import Settings

RULES = [f"R-{i}" for i in range(8)]
CONTROLS = [f"C-{i}" for i in range(5)]
rule_sets = st.lists(
    st.tuples(st.sampled_from(RULES), st.lists(st.sampled_from(CONTROLS), min_size=1, max_size=3).map(tuple)),
    min_size=1,
    max_size=5,
).map(lambda rules: RuleSet(tuple(rules)))


def _state(c: Coverage) -> dict[str, tuple[frozenset[str], frozenset[str], list[Gap], list[str]]]:
    return {k: (frozenset(v.resources), frozenset(v.rules), v.gaps, v.reasons) for k, v in c.duties.items()}


@settings(max_examples=200, deadline=None)
@given(
    sets=st.lists(rule_sets, min_size=1, max_size=4),
    records=st.lists(
        st.tuples(st.integers(0, 3), st.sampled_from(["a.tf#x", "a.tf#y", "b.yaml"]), st.booleans()), max_size=30
    ),
)
def test_rule_sets_file_the_same_evidence_as_single_evaluations(
    sets: list[RuleSet], records: list[tuple[int, str, bool]]
) -> None:
    compact, plain = Coverage(), Coverage()
    for index, resource, as_set in records:
        rules = sets[index % len(sets)]
        record = Evaluations(rules, resource)
        if as_set:
            compact.add(record)
        else:  # the same set arriving rule by rule in the compact coverage too: both kinds mix
            for single in record.expanded():
                compact.add(single)
        for single in record.expanded():
            plain.add(single)
    assert _state(compact) == _state(plain)


def test_a_rule_set_names_each_duty_with_the_rules_that_judge_it() -> None:
    rules = RuleSet((("R-1", ("C-1", "C-2")), ("R-2", ("C-2",))))
    assert dict(rules.by_control) == {"C-1": frozenset({"R-1"}), "C-2": frozenset({"R-1", "R-2"})}
    assert Evaluations(rules, "x").expanded() == [
        Evaluation("R-1", ("C-1", "C-2"), "x"),
        Evaluation("R-2", ("C-2",), "x"),
    ]


def test_equal_rule_sets_are_distinct_sets_and_both_file_their_rules() -> None:
    """Identity, not equality: a set built elsewhere with the same rules is filed in its own right."""
    one, two = RuleSet((("R-1", ("C-1",)),)), RuleSet((("R-1", ("C-1",)),))
    c = Coverage()
    c.evaluated_all(one, "a")
    c.evaluated_all(two, "b")
    ev = c.of("C-1")
    assert ev is not None and ev.resources == {"a", "b"} and ev.rules == {"R-1"}


def test_recorded_rule_sets_replay_as_single_evaluations() -> None:
    """Image layers record coverage calls (and the layer cache stores them): a set is recorded rule by rule."""
    calls: list[tuple[str, tuple[object, ...]]] = []
    rules = RuleSet((("R-1", ("C-1",)), ("R-2", ("C-1", "C-2"))))
    RecordingCoverage(calls).add(Evaluations(rules, "Dockerfile"))
    assert calls == [
        ("evaluated", ("R-1", ("C-1",), "Dockerfile")),
        ("evaluated", ("R-2", ("C-1", "C-2"), "Dockerfile")),
    ]
    direct = Coverage()
    direct.evaluated_all(rules, "Dockerfile")
    ctx = ScanContext(settings=Settings())
    replay(FileRecord(coverage=calls), ctx, [])
    assert _state(ctx.coverage) == _state(direct)
