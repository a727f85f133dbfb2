"""`posture.post_analyzer`: the shared header of the posture post analyzers; their duties are their rules'."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from shareguard.core.facts import ConfigResource
from shareguard.core.rules import RuleMeta
from shareguard.posture.graph.eks_identity import EksIdentity
from shareguard.posture.plugin import posture_rules
from shareguard.posture.post_analyzer import RulesPostAnalyzer


def _rules() -> dict[str, RuleMeta]:
    return {
        "R-1": RuleMeta(id="R-1", title="a", severity="low", control_ids=("C-2", "C-1"), remediation="fix"),
        "R-2": RuleMeta(id="R-2", title="b", severity="low", control_ids=("C-1", "C-3"), remediation="fix"),
    }


@dataclass
class _Two(RulesPostAnalyzer):
    name: str = "posture.two"
    rule_ids: ClassVar[tuple[str, ...]] = ("R-1", "R-2")


def test_controls_are_the_duties_of_its_rules() -> None:
    a = _Two(rules=_rules)
    assert (a.name, a.version, a.order, a.inputs) == ("posture.two", "1", 10, (ConfigResource,))
    assert a.controls == ("C-1", "C-2", "C-3")
    assert _Two(rules=_rules, controls=("C-9",)).controls == ("C-9",)


def test_a_real_analyzer_serves_its_rules_duties() -> None:
    assert set(EksIdentity(rules=posture_rules).controls) == set(posture_rules()["EKS-010"].control_ids)
