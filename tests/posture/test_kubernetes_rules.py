"""Kubernetes rules beyond the per-rule fixtures: precedence, accelerators, masking, the example workloads."""

from __future__ import annotations

from pathlib import Path

from posture_helpers import FIXTURES, ids, run_text

from shareguard.scan import run_path_scan

POD = """\
apiVersion: v1
kind: Pod
metadata: {{name: p}}
spec:
  automountServiceAccountToken: false
  securityContext: {pod_sc}
  containers:
    - name: c
      image: nvcr.io/nvidia/pytorch:24.05-py3@sha256:{digest}
      securityContext: {c_sc}
      resources: {resources}
"""


def _pod(tmp_path: Path, *, pod_sc: str = "{}", c_sc: str = "{}", resources: str = "{}", name: str = "p.yaml"):  # type: ignore[no-untyped-def]
    text = POD.format(pod_sc=pod_sc, c_sc=c_sc, resources=resources, digest="a" * 64)
    return run_text("posture.kubernetes", tmp_path, name, text)[0]


def test_container_setting_overrides_pod_setting(tmp_path: Path) -> None:
    assert "K8S-001" in ids(_pod(tmp_path, pod_sc="{runAsNonRoot: true}", c_sc="{runAsUser: 0}"))
    assert "K8S-001" not in ids(_pod(tmp_path, pod_sc="{runAsUser: 0}", c_sc="{runAsUser: 1000}"))
    assert "K8S-003" not in ids(_pod(tmp_path, c_sc="{allowPrivilegeEscalation: false}"))


def test_gpu_training_needs_memory_but_not_cpu_limits(tmp_path: Path) -> None:
    assert "K8S-015" not in ids(_pod(tmp_path, resources="{limits: {memory: 80Gi, nvidia.com/gpu: 8}}"))
    assert "K8S-015" in ids(_pod(tmp_path, resources="{limits: {nvidia.com/gpu: 8}}"))
    assert "K8S-015" in ids(_pod(tmp_path, resources="{limits: {memory: 8Gi}}"))


def test_env_secret_is_masked_and_points_at_the_value(tmp_path: Path) -> None:
    path = FIXTURES / "kubernetes" / "real-world" / "argo-workflow.yaml"
    findings, _ = run_text("posture.kubernetes", tmp_path, "wf.yaml", path.read_text())
    f = next(f for f in findings if f.rule_id == "K8S-013")
    assert f.evidence is not None and "EXAMPLEKEY" not in f.evidence
    assert f.location.field_path == "spec.templates[1].container.env[0].value"
    assert set(f.control_ids) == {"KUBERNETES-C-03", "IAM-C-05"}


def test_real_world_manifests(tmp_path: Path) -> None:
    result = run_path_scan(FIXTURES / "kubernetes" / "real-world", capabilities=frozenset({"posture"}))
    got = {(f.resource.path, f.rule_id) for f in result.findings}
    assert ("kubeflow-training.yaml", "K8S-002") in got  # privileged worker
    assert ("kubeflow-training.yaml", "K8S-004") in got  # hostPath /dev/shm
    assert ("kubeflow-training.yaml", "K8S-005") in got  # hostIPC
    assert ("kubeflow-notebook.yaml", "K8S-001") in got  # runAsUser 0
    assert ("ray-cluster.yaml", "K8S-008") in got  # SYS_PTRACE
    assert ("argo-workflow.yaml", "K8S-013") in got
    assert not [f for f in result.findings if f.resource.path == "batch-inference-cronjob.yaml"]
    assert ("kubeflow-notebook.yaml", "K8S-014") not in got  # dedicated service account


def test_settings_named_like_secrets_are_not_secrets(tmp_path: Path) -> None:
    text = POD.format(pod_sc="{}", c_sc="{}", resources="{}", digest="b" * 64).replace(
        "      resources: {}",
        "      resources: {}\n      env:\n        - {name: ENABLE_TOKEN_AUTH, value: 'true'}\n"
        "        - {name: TOKEN_TTL, value: '3600'}\n        - {name: PWD, value: /workspace}\n"
        "        - {name: DB_PASS, value: Sup3rS3cretPa55}",
    )
    hits = [f for f in run_text("posture.kubernetes", tmp_path, "env.yaml", text)[0] if f.rule_id == "K8S-013"]
    assert [h.evidence.split("=")[0] for h in hits if h.evidence] == ["DB_PASS"]
