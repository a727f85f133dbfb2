"""The posture analyzers file what they evaluated as one rule set per resource (`Evaluations`): the
duties' evidence must be exactly what one `Evaluation` per (rule, resource) gives, on the example
workspace and on a generated corpus of every benchmark format (attribute-conditional `applies_to`,
unresolved values and several check families per resource included)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.benchmark_module import load_benchmark

from shareguard.core.context import ScanContext
from shareguard.core.coverage import Coverage, RuleSet
from shareguard.core.engine import scan_entries
from shareguard.core.memo import scan_memos
from shareguard.core.registry import load_registries
from shareguard.core.settings import Settings
from shareguard.scan import capability_filter
from shareguard.sources.workspace import walk

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "ml-platform"


class RuleByRule(Coverage):
    """Files every rule of a set on its own, as `Evaluation` records are filed."""

    def evaluated_all(self, rules: RuleSet, resource: str) -> None:
        for rule, controls in rules.rules:
            self.evaluated(rule, controls, resource)


def _duties(root: Path, coverage: Coverage) -> dict[str, object]:
    ctx = ScanContext(settings=Settings(), root=root, coverage=coverage, command="config")
    with scan_memos():
        result = scan_entries(
            "config",
            str(root),
            walk(root, ctx),
            load_registries(),
            ctx,
            analyzer_filter=capability_filter(frozenset({"posture"})),
        )
    assert result.findings
    return {
        k: (sorted(v.resources), sorted(v.rules), [(g.controls, g.path, g.reason) for g in v.gaps], v.reasons)
        for k, v in coverage.duties.items()
    }


@pytest.mark.parametrize("corpus", ["example", "generated"])
def test_rule_sets_give_the_evidence_of_single_evaluations(corpus: str, tmp_path: Path) -> None:
    if corpus == "example":
        root = EXAMPLE
    else:
        root = tmp_path / "corpus"
        load_benchmark("config_scan").generate(root, 60, seed=11)
    compact = _duties(root, Coverage())
    assert compact == _duties(root, RuleByRule())
    assert any(resources for resources, *_ in compact.values())  # something was really evaluated
