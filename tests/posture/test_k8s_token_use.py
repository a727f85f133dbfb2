"""K8S-030: a workload mounting its own service account's token that no RBAC binding of the scan uses."""

from __future__ import annotations

from pathlib import Path

from cloud_helpers import scan

DEPLOY = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: serve
  namespace: ml
spec:
  template:
    spec:
      serviceAccountName: serve
      containers:
        - name: s
          image: registry.example.com/serve@sha256:0000000000000000000000000000000000000000000000000000000000000000
"""
BINDING = """apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: serve-reads-config
  namespace: ml
subjects:
  - kind: ServiceAccount
    name: serve
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: config-reader
"""
SA_OFF = """apiVersion: v1
kind: ServiceAccount
metadata:
  name: serve
  namespace: ml
automountServiceAccountToken: false
"""


def _hits(tmp_path: Path) -> list[str]:
    return [f.resource.name or "" for f in scan(tmp_path).findings if f.rule_id == "K8S-030"]


def test_unused_token_fails(tmp_path: Path) -> None:
    (tmp_path / "deploy.yaml").write_text(DEPLOY)
    assert _hits(tmp_path) == ["Deployment/ml/serve"]


def test_binding_in_another_file_passes(tmp_path: Path) -> None:
    (tmp_path / "deploy.yaml").write_text(DEPLOY)
    (tmp_path / "rbac.yaml").write_text(BINDING)
    result = scan(tmp_path)
    assert not [f for f in result.findings if f.rule_id == "K8S-030"]
    assert "K8S-030" in result.coverage.duties["KUBERNETES-C-03"].rules


def test_binding_in_another_namespace_does_not_count(tmp_path: Path) -> None:
    (tmp_path / "deploy.yaml").write_text(DEPLOY)
    (tmp_path / "rbac.yaml").write_text(BINDING.replace("namespace: ml", "namespace: other"))
    assert _hits(tmp_path) == ["Deployment/ml/serve"]


def test_service_account_without_automount_passes(tmp_path: Path) -> None:
    (tmp_path / "deploy.yaml").write_text(DEPLOY + "---\n" + SA_OFF)
    assert _hits(tmp_path) == []


def test_explicit_automount_is_taken_as_intended(tmp_path: Path) -> None:
    text = DEPLOY.replace(
        "      serviceAccountName: serve\n",
        "      serviceAccountName: serve\n      automountServiceAccountToken: true\n",
    )
    (tmp_path / "deploy.yaml").write_text(text)
    assert _hits(tmp_path) == []


def test_example_workspace_promise(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "ml-platform" / "k8s"
    result = scan(example)
    hits = [f for f in result.findings if f.rule_id == "K8S-030"]
    assert [(f.resource.path, f.resource.name) for f in hits] == [
        ("inference.yaml", "Deployment/ml-serving/churn-serve")
    ]
    assert "KUBERNETES-C-03" in hits[0].control_ids
