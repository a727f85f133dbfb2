"""Every attribute rule (posture/attributes/*.yaml) has, for each format whose resources it names, a fixture
where it fires (at a line) and one where it stays quiet; the fixtures live in fixtures/attributes/<table>.yaml.
A rule added without fixtures fails here."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from posture_helpers import FIXTURES, run_text
from posture_helpers import analyzer as get_analyzer

from shareguard.core.context import ScanContext
from shareguard.core.coverage import Evaluation, Evaluations, Gap
from shareguard.core.entry import FileEntry
from shareguard.core.finding import Finding
from shareguard.core.settings import Settings
from shareguard.posture.attribute_rules import attribute_rules
from shareguard.posture.attribute_types import resource_kinds
from shareguard.posture.canonical import canonical_type
from shareguard.posture.plugin import posture_rules

FORMATS = {"terraform": ("posture.terraform", "main.tf"), "cloudformation": ("posture.cloudformation", "stack.yaml")}


@cache
def fixtures() -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for f in sorted((FIXTURES / "attributes").glob("*.yaml")):
        out.update(yaml.safe_load(f.read_text(encoding="utf-8")))
    return out


def _formats(rule_id: str) -> list[str]:
    rule = attribute_rules()[rule_id]
    kinds = resource_kinds()
    raws = set(rule.raw_types())
    return [fmt for fmt in FORMATS if any(set(kinds[t].get(fmt, ())) & raws for t in rule.type)]


CASES = [(rid, fmt) for rid in sorted(attribute_rules()) for fmt in _formats(rid)]


def test_every_table_kind_maps_to_its_canonical_type() -> None:
    for ctype, by_fmt in resource_kinds().items():
        for raws in by_fmt.values():
            for raw in raws:
                assert canonical_type(raw) == ctype, raw


def test_attribute_rules_are_posture_rules_with_applies_to() -> None:
    rules = posture_rules()
    for rid in attribute_rules():
        assert rules[rid].applies_to, rid


@pytest.mark.parametrize(("rule_id", "fmt"), CASES, ids=[f"{r}-{f}" for r, f in CASES])
def test_rule_fires_on_its_failing_fixture(rule_id: str, fmt: str, tmp_path: Path) -> None:
    case = fixtures().get(rule_id, {}).get(fmt)
    assert case and "fail" in case, f"{rule_id}: no failing {fmt} fixture"
    analyzer, filename = FORMATS[fmt]
    findings, ctx = run_text(analyzer, tmp_path, filename, case["fail"])
    assert not ctx.issues
    hits = [f for f in findings if f.rule_id == rule_id]
    assert hits, f"{rule_id} did not fire on its {fmt} fixture"
    for f in hits:
        assert f.location.line is not None and f.location.line >= 1
        assert f.evidence and f.remediation.text


@pytest.mark.parametrize(("rule_id", "fmt"), CASES, ids=[f"{r}-{f}" for r, f in CASES])
def test_rule_passes_on_its_passing_fixture(rule_id: str, fmt: str, tmp_path: Path) -> None:
    case = fixtures().get(rule_id, {}).get(fmt)
    assert case and "pass" in case, f"{rule_id}: no passing {fmt} fixture"
    analyzer, filename = FORMATS[fmt]
    findings, ctx = run_text(analyzer, tmp_path, filename, case["pass"])
    p = tmp_path / filename
    assert not ctx.issues
    assert rule_id not in {f.rule_id for f in findings}
    # and the rule was really evaluated there (a pass from evidence, not from silence)
    an = get_analyzer(analyzer)
    ctx2 = ScanContext(settings=Settings(), root=tmp_path)
    outs = list(an.analyze(FileEntry(rel_path=filename, size=p.stat().st_size, abs_path=p), ctx2))
    evaluated = [o for o in outs if isinstance(o, Evaluation)]
    evaluated += [e for o in outs if isinstance(o, Evaluations) for e in o.expanded()]
    assert any(e.rule == rule_id for e in evaluated)
    assert not any(isinstance(o, Gap) and rule_id in o.reason for o in outs)


def test_plan_json_is_judged_by_the_same_tables(tmp_path: Path) -> None:
    """Plan JSON carries the Terraform attribute names: the same rules fire, unknown-after-apply is unresolved."""
    plan = {
        "format_version": "1.2",
        "terraform_version": "1.9.8",
        "resource_changes": [
            {
                "address": "aws_sagemaker_domain.studio",
                "mode": "managed",
                "type": "aws_sagemaker_domain",
                "name": "studio",
                "change": {
                    "actions": ["create"],
                    "after": {"domain_name": "studio", "app_network_access_type": "PublicInternetOnly"},
                    "after_unknown": {"kms_key_id": True},
                },
            },
            {
                "address": "aws_sagemaker_domain.other",
                "mode": "managed",
                "type": "aws_sagemaker_domain",
                "name": "other",
                "change": {
                    "actions": ["create"],
                    "after": {"domain_name": "other", "kms_key_id": "arn:aws:kms:us-east-1:1:key/k"},
                    "after_unknown": {"app_network_access_type": True},
                },
            },
        ],
    }
    p = tmp_path / "plan.json"
    p.write_text(json.dumps(plan, indent=2), encoding="utf-8")
    an = get_analyzer("posture.terraform_plan")
    ctx = ScanContext(settings=Settings(), root=tmp_path)
    outs = list(an.analyze(FileEntry(rel_path=p.name, size=p.stat().st_size, abs_path=p), ctx))
    fired = {o.rule_id: o for o in outs if isinstance(o, Finding)}
    assert "SAGEMAKER-013" in fired and fired["SAGEMAKER-013"].location.line is not None
    assert fired["SAGEMAKER-013"].resource.name == "aws_sagemaker_domain.studio"
    assert "SAGEMAKER-012" not in fired  # a key set from another resource (known after apply) is set
    # a setting known only after apply is unresolved: no finding, and its duty cannot pass on it
    assert any(isinstance(o, Gap) and "SAGEMAKER-013" in o.reason and "other" in o.path for o in outs)
