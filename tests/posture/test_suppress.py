"""Inline `shareguard:ignore RULE reason` comments, for every format, through the posture analyzer."""

from __future__ import annotations

from pathlib import Path

from posture_helpers import run_text

from shareguard.core.finding import Status
from shareguard.posture.suppress import find_suppressions


def test_parse_comments() -> None:
    text = (
        "FROM python:3.11  # shareguard:ignore DOCKERFILE-003,DOCKERFILE-020 pinned by the platform team\n"
        "// shareguard:ignore TF-001 - legacy bucket, PLAT-12\n"
        "# shareguard:ignore DOCKERFILE-001\n"
        "# shareguard:ignore\n"
        "# shareguard:ignore-all nope\n"
    )
    found, problems = find_suppressions(text)
    assert [(s.line, sorted(s.rules), s.reason) for s in found] == [
        (1, ["DOCKERFILE-003", "DOCKERFILE-020"], "pinned by the platform team"),
        (2, ["TF-001"], "legacy bucket, PLAT-12"),
    ]
    assert [p.line for p in problems] == [3, 4]
    assert "reason" in problems[0].message


def test_dockerfile_suppression_on_same_or_previous_line(tmp_path: Path) -> None:
    text = (
        "# shareguard:ignore DOCKERFILE-003 base is pinned by our registry mirror policy\n"
        "FROM python:3.11-slim\n"
        "RUN pip install --no-cache-dir --trusted-host pypi.internal x==1  # shareguard:ignore DOCKERFILE-016 PLAT-7 proxy\n"
        "ENV DB_PASSWORD=hunter2hunter2\n"
        "USER 1000\n"
    )
    findings, ctx = run_text("posture.dockerfile", tmp_path, "Dockerfile", text)
    by_rule = {f.rule_id: f for f in findings}
    assert by_rule["DOCKERFILE-003"].status is Status.WAIVED
    assert by_rule["DOCKERFILE-003"].waiver is not None and "registry mirror" in by_rule["DOCKERFILE-003"].waiver
    assert by_rule["DOCKERFILE-016"].status is Status.WAIVED
    assert by_rule["DOCKERFILE-014"].status is Status.FAIL  # not named by any suppression
    assert not ctx.issues


def test_suppression_without_reason_does_not_apply_and_is_reported(tmp_path: Path) -> None:
    text = "# shareguard:ignore DOCKERFILE-003\nFROM python:3.11-slim\nUSER 1000\n"
    findings, ctx = run_text("posture.dockerfile", tmp_path, "Dockerfile", text)
    assert next(f for f in findings if f.rule_id == "DOCKERFILE-003").status is Status.FAIL
    assert ctx.issues and ctx.issues[0].kind == "warning" and ctx.issues[0].path == "Dockerfile:1"


def test_yaml_suppression_and_wildcard(tmp_path: Path) -> None:
    text = """\
apiVersion: v1
kind: Pod
metadata: {name: debug}
spec:
  # shareguard:ignore K8S-005 node-exporter style debug pod, deleted after incident INC-42
  hostNetwork: true
  containers:
    - name: c
      # shareguard:ignore * throwaway image used only in the sandbox cluster
      image: docker.io/someone/busybox
"""
    findings, _ = run_text("posture.kubernetes", tmp_path, "pod.yaml", text)
    by_rule = {f.rule_id: f for f in findings}
    assert by_rule["K8S-005"].status is Status.WAIVED
    assert by_rule["K8S-011"].status is Status.WAIVED and by_rule["K8S-012"].status is Status.WAIVED
    assert by_rule["K8S-001"].status is Status.FAIL
