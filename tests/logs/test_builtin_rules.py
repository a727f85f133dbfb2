"""Every built-in rule matches its positive test events and none of its negative ones (rules/builtin/*.yml)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from shareguard.catalog import Owner, load_catalog
from shareguard.logs import ruleset
from shareguard.logs.evaluator import Evaluator
from shareguard.logs.events import LogEvent
from shareguard.logs.ingest import kind_of


def _docs() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for f in ruleset.builtin_rule_files():
        for doc in yaml.safe_load_all(f.read_text(encoding="utf-8")):
            out.append((f.name, doc))
    return out


DOCS = _docs()
RULES = ruleset.load(ruleset.builtin_rule_files(), builtin=True)


def test_the_pack_loads_whole() -> None:
    assert RULES.unsupported == []
    assert len(RULES.rules) + len(RULES.correlations) == len(DOCS) >= 30


def _event(data: dict[str, Any]) -> LogEvent:
    kind = kind_of(data)
    if kind is None:  # a GCP test event written without the LogEntry envelope's other fields
        raise AssertionError(f"test event of unknown kind: {data}")
    return LogEvent(kind, data, "test", "0")


@pytest.mark.parametrize(("origin", "doc"), [d for d in DOCS if "correlation" not in d[1]], ids=lambda d: str(d)[:40])
def test_rule_matches_its_positive_and_not_its_negative_events(origin: str, doc: dict[str, Any]) -> None:
    meta = doc["shareguard"]
    tests = meta["tests"]
    assert tests["match"] and tests["nomatch"], f"{meta['id']} needs positive and negative events"
    evaluator = Evaluator(RULES)
    for data in tests["match"]:
        ids = [r.info.id for r in evaluator.matches(_event(data))]
        assert meta["id"] in ids, f"{meta['id']} does not match {data}"
    for data in tests["nomatch"]:
        ids = [r.info.id for r in evaluator.matches(_event(data))]
        assert meta["id"] not in ids, f"{meta['id']} matches {data}"


def test_every_rule_serves_known_customer_duties_with_a_remediation() -> None:
    controls = load_catalog().controls
    for info in RULES.infos():
        assert info.duties[0] == ruleset.MONITORING_DUTY
        for duty in info.duties:
            assert controls[duty].owner is Owner.CUSTOMER, (info.id, duty)
        assert info.remediation.strip()
        assert info.severity.value != "unknown", info.id


def test_published_metadata_agrees_with_what_pysigma_loads() -> None:
    from shareguard.logs.rulemeta import builtin_metas
    from shareguard.logs.run import rule_metas

    assert sorted(builtin_metas(), key=lambda m: m.id) == sorted(rule_metas(RULES), key=lambda m: m.id)
