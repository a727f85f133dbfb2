"""`graph.rule_verdicts`: the verdict tail of the cross-resource rules: a failed rule adds nothing, an unresolved
one is a Gap (never a pass), any other an Evaluation only where something was evaluated."""

from __future__ import annotations

from shareguard.core.coverage import Evaluation, Gap
from shareguard.core.rules import RuleMeta
from shareguard.posture.graph.rule_verdicts import rule_verdicts

RULES = {
    rid: RuleMeta(id=rid, title=rid, severity="high", control_ids=(f"C-{rid}",), remediation="fix")
    for rid in ("R-1", "R-2", "R-3")
}


def test_failed_unresolved_and_evaluated_rules() -> None:
    out = list(
        rule_verdicts(
            RULES,
            ("R-1", "R-2", "R-3"),
            where="main.tf: x",
            resource="main.tf#x",
            failed={"R-1"},
            unresolved={"R-2": "why"},
        )
    )
    assert out == [Gap(("C-R-2",), "main.tf: x", "R-2 unresolved: why"), Evaluation("R-3", ("C-R-3",), "main.tf#x")]


def test_nothing_evaluated_is_no_pass() -> None:
    out = list(
        rule_verdicts(RULES, ("R-1", "R-2"), where="w", resource="r", unresolved={"R-1": "why"}, evaluated=False)
    )
    assert out == [Gap(("C-R-1",), "w", "R-1 unresolved: why")]
