"""SigmaHQ's CloudTrail, GCP audit and Kubernetes audit rules load and evaluate (../shared/data; skipped without it)."""

from __future__ import annotations

import io
from pathlib import Path

from tests.benchmark_module import load_benchmark
from tests.logs.helpers import cloudtrail, gcp, k8s

from shareguard.logs import ruleset
from shareguard.logs.detect import Detector
from shareguard.logs.evaluator import Evaluator
from shareguard.logs.events import LogEvent, LogKind

FOLDERS = ("cloud/aws/cloudtrail", "cloud/gcp/audit", "application/kubernetes/audit")


CORPUS = load_benchmark("logs_corpus")  # the corpus paths and rule loading the log benchmark uses too


def _load(shared_data: Path, *folders: str) -> ruleset.RuleSet:
    rules: ruleset.RuleSet = CORPUS.sigma_rules(shared_data, *folders)
    return rules


def test_every_cloudtrail_gcp_and_kubernetes_rule_loads(shared_data: Path) -> None:
    rs = _load(shared_data, *FOLDERS)
    assert rs.unsupported == [], [u.one_line() for u in rs.unsupported]
    counts = {kind: sum(1 for r in rs.rules if r.kind is kind) for kind in LogKind}
    assert counts == {LogKind.CLOUDTRAIL: 57, LogKind.GCP_AUDIT: 16, LogKind.K8S_AUDIT: 16}


def test_rules_of_other_log_sources_are_listed_with_the_reason(shared_data: Path) -> None:
    rs = _load(shared_data, "cloud")
    assert len(rs.rules) == 57 + 16
    assert rs.unsupported and all("is not ingested" in u.reason for u in rs.unsupported)
    assert any("azure" in u.reason for u in rs.unsupported)


def test_sigmahq_rules_fire_on_the_events_they_describe(shared_data: Path) -> None:
    rs = _load(shared_data, *FOLDERS)
    ev = Evaluator(rs)

    def titles(kind: LogKind, data: dict[str, object]) -> set[str]:
        return {r.info.title for r in ev.matches(LogEvent(kind, data, "t", "0"))}

    assert "AWS CloudTrail Important Change" in titles(
        LogKind.CLOUDTRAIL, cloudtrail("StopLogging", "cloudtrail.amazonaws.com")
    )
    assert any(
        "Kubernetes" in t or "Exec" in t for t in titles(LogKind.K8S_AUDIT, k8s("create", "pods", subresource="exec"))
    )
    assert "Google Cloud Service Account Disabled or Deleted" in titles(
        LogKind.GCP_AUDIT, gcp("iam.projects.serviceAccounts.delete", "iam.googleapis.com")
    )
    assert titles(LogKind.CLOUDTRAIL, cloudtrail("PutObject", "s3.amazonaws.com")) == set()


def test_a_real_cloudtrail_dataset_decodes_whole_and_is_evaluated(shared_data: Path) -> None:
    data: bytes = CORPUS.otrf_cloudtrail(shared_data)
    rules = CORPUS.detection_rules(shared_data, *FOLDERS)
    detector = Detector(rules)
    detector.feed("otrf.json", io.BytesIO(data))
    result = detector.finish()
    assert result.events == {LogKind.CLOUDTRAIL: data.count(b"\n") + (0 if data.endswith(b"\n") else 1)}
    assert not [i for i in result.issues if i.fatal]
