"""docs/config.md lists every attribute rule with its Checkov ids (the side-by-side coverage table)."""

from __future__ import annotations

from pathlib import Path

from shareguard.posture.attribute_rules import attribute_rules

DOC = Path(__file__).resolve().parents[2] / "docs" / "config.md"


def test_coverage_table_lists_every_table_rule_and_its_checkov_ids() -> None:
    text = DOC.read_text(encoding="utf-8")
    for rid, rule in attribute_rules().items():
        rows = [line for line in text.splitlines() if line.startswith("|") and f"| {rid} *table* |" in line]
        assert rows, f"{rid} missing from the coverage table in docs/config.md"
        for checkov_id in rule.checkov:
            assert any(checkov_id in row for row in rows), f"{rid}: {checkov_id} not in its row"
