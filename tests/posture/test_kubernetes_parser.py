"""Kubernetes parser: workload kinds, CRD pod templates, lines of exact fields, Helm templates, hostile YAML."""

from __future__ import annotations

from pathlib import Path

from posture_helpers import FIXTURES, run_file, run_text

from shareguard.core.context import ScanContext
from shareguard.core.entry import FileEntry
from shareguard.core.settings import Settings
from shareguard.posture.parsers.kubernetes import claim, parse
from shareguard.scan import run_path_scan

REAL = FIXTURES / "kubernetes" / "real-world"


def _resources(path: Path):  # type: ignore[no-untyped-def]
    entry = FileEntry(rel_path=path.name, size=path.stat().st_size, abs_path=path)
    ctx = ScanContext(settings=Settings())
    return parse(entry, ctx), ctx


def test_crd_pod_templates_become_workloads() -> None:
    res, _ = _resources(REAL / "kubeflow-training.yaml")
    paths = sorted(r.attributes["pod_spec_path"] for r in res if r.type == "k8s.workload")
    assert paths == [
        "spec.pytorchReplicaSpecs.Master.template.spec",
        "spec.pytorchReplicaSpecs.Worker.template.spec",
        "spec.tfReplicaSpecs.Worker.template.spec",
    ]
    master = next(r for r in res if "Master" in r.name)
    assert master.attributes["kind"] == "PyTorchJob" and master.attributes["namespace"] == "kubeflow-team-a"
    assert master.raw_type == "kubernetes:PyTorchJob"
    assert master.line_of("spec.pytorchReplicaSpecs.Master.template.spec.containers[0].image") == 21


def test_ray_kserve_notebook_cronjob_argo(tmp_path: Path) -> None:
    ray, _ = _resources(REAL / "ray-cluster.yaml")
    assert {r.attributes["pod_spec_path"] for r in ray} == {
        "spec.headGroupSpec.template.spec",
        "spec.workerGroupSpecs[0].template.spec",
    }
    kserve, _ = _resources(REAL / "kserve-inference.yaml")
    assert kserve[0].attributes["pod_spec_path"] == "spec.predictor"
    nb, _ = _resources(REAL / "kubeflow-notebook.yaml")
    assert nb[0].attributes["service_account_name"] == "default-editor"
    cron, _ = _resources(REAL / "batch-inference-cronjob.yaml")
    assert cron[0].attributes["pod_spec_path"] == "spec.jobTemplate.spec.template.spec"
    argo, _ = _resources(REAL / "argo-workflow.yaml")
    assert [c["path"] for c in argo[0].attributes["containers"]] == ["spec.templates[1].container"]


def test_init_and_ephemeral_containers_and_other_kinds(tmp_path: Path) -> None:
    text = """\
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: Pod
    metadata: {name: dbg}
    spec:
      initContainers: [{name: fetch, image: "busybox:1.36"}]
      containers: [{name: main, image: "busybox:1.36"}]
      ephemeralContainers: [{name: debugger, image: "busybox:1.36"}]
  - apiVersion: v1
    kind: Namespace
    metadata: {name: ml}
"""
    p = tmp_path / "list.yaml"
    p.write_text(text)
    res, _ = _resources(p)
    pod = next(r for r in res if r.type == "k8s.workload")
    assert [c["container_type"] for c in pod.attributes["containers"]] == ["container", "init", "ephemeral"]
    assert pod.line_of("spec.initContainers[0]") == 8
    assert any(r.type == "k8s.object" and r.attributes["kind"] == "Namespace" for r in res)


def test_claims_only_manifests(tmp_path: Path) -> None:
    for name, text, want in [
        ("deploy.yaml", "apiVersion: apps/v1\nkind: Deployment\n", True),
        ("values.yaml", "image:\n  tag: 1.0\n", False),
        ("template.yml", "AWSTemplateFormatVersion: '2010-09-09'\nResources: {}\n", False),
        ("deploy.json", '{"apiVersion": "v1", "kind": "Pod"}', False),
    ]:
        p = tmp_path / name
        p.write_text(text)
        assert claim(FileEntry(rel_path=name, size=p.stat().st_size, abs_path=p)) is want, name


def test_helm_templates_get_a_skip_note() -> None:
    result = run_path_scan(REAL / "helm-chart", capabilities=frozenset({"posture"}))
    notes = [i for i in result.issues if i.path == "templates/deployment.yaml"]
    assert notes and notes[0].kind == "warning" and "Helm" in notes[0].message
    assert not result.has_errors()


def test_templated_yaml_outside_templates_dir_that_does_not_parse(tmp_path: Path) -> None:
    _, ctx = run_text(
        "posture.kubernetes", tmp_path, "x.yaml", "apiVersion: v1\nkind: Pod\nspec:\n  {{- if .x }}\n  a: b\n"
    )
    assert ctx.issues and ctx.issues[0].kind == "warning"


def test_hostile_yaml_is_a_per_file_error_and_the_scan_goes_on(tmp_path: Path) -> None:
    bomb = [
        "apiVersion: v1",
        "kind: ConfigMap",
        "metadata: {name: lol}",
        "data:",
        '  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
    ]
    prev = "a"
    for n in "bcdefghij":
        bomb.append(f"  {n}: &{n} [" + ",".join([f"*{prev}"] * 9) + "]")
        prev = n
    (tmp_path / "bomb.yaml").write_text("\n".join(bomb) + "\n")
    (tmp_path / "deep.yaml").write_text("apiVersion: v1\nkind: Pod\nspec: " + "[" * 10_000 + "]" * 10_000 + "\n")
    (tmp_path / "broken.yaml").write_text("apiVersion: v1\nkind: Pod\nspec:\n  containers: [\n")
    (tmp_path / "binary.yaml").write_bytes(b"apiVersion: v1\nkind: Pod\n\x00\x00\xff\xfe")
    (tmp_path / "ok.yaml").write_text((FIXTURES / "kubernetes/cases/K8S-002/fail.yaml").read_text())
    result = run_path_scan(tmp_path, capabilities=frozenset({"posture"}))
    errors = {i.path: i.message for i in result.issues if i.kind == "error"}
    assert "alias" in errors["bomb.yaml"]
    assert "nesting" in errors["deep.yaml"]
    assert "invalid YAML" in errors["broken.yaml"]
    assert "binary" in errors["binary.yaml"]
    assert any(f.rule_id == "K8S-002" and f.resource.path == "ok.yaml" for f in result.findings)


def test_findings_point_at_the_exact_field() -> None:
    path = FIXTURES / "kubernetes/cases/K8S-008/fail.yaml"
    findings, _ = run_file("posture.kubernetes", path)
    hit = next(f for f in findings if f.rule_id == "K8S-008")
    assert hit.location.field_path == "spec.template.spec.containers[0].securityContext.capabilities.add[0]"
    expected = next(i for i, line in enumerate(path.read_text().splitlines(), 1) if "SYS_ADMIN" in line)
    assert hit.location.line == expected
