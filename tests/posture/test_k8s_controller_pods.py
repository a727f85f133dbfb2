"""KServe InferenceService / LLMInferenceService and Kubeflow TrainJob: judged on the pod the controller builds
from the runtime of the scan merged with the resource (manifests written from the KServe and Kubeflow Trainer
API references: serving.kserve.io/v1beta1 InferenceService, v1alpha1 ServingRuntime / LLMInferenceService /
LLMInferenceServiceConfig, trainer.kubeflow.org/v1alpha1 TrainJob / ClusterTrainingRuntime)."""

from __future__ import annotations

from pathlib import Path

from cloud_helpers import scan

from shareguard.core.result import ScanResult

DIGEST = "@sha256:" + "ab" * 32
HARDENED_SC = """            securityContext:
              runAsNonRoot: true
              allowPrivilegeEscalation: false
              readOnlyRootFilesystem: true
              capabilities: {drop: [ALL]}
              seccompProfile: {type: RuntimeDefault}
"""
RUNTIME = f"""apiVersion: serving.kserve.io/v1alpha1
kind: ClusterServingRuntime
metadata:
  name: acme-sklearn
spec:
  supportedModelFormats:
    - name: sklearn
      version: "1"
      autoSelect: true
  containers:
    - name: kserve-container
      image: docker.io/kserve/sklearnserver{DIGEST}
      args:
        - --model_name={{{{.Name}}}}
        - --model_dir=/mnt/models
{HARDENED_SC.replace("            ", "      ")}      resources:
        limits: {{cpu: "1", memory: 2Gi}}
"""
ISVC = """apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: iris
  namespace: models
spec:
  predictor:
    serviceAccountName: iris-sa
    model:
      modelFormat:
        name: sklearn
      storageUri: gs://acme-models/iris
"""


def _ids(result: ScanResult, name: str) -> set[str]:
    return {f.rule_id for f in result.findings if f.resource.name == name}


def _gap_rules(result: ScanResult, name: str) -> set[str]:
    return {
        g.reason.split(" ", 1)[0] for ev in result.coverage.duties.values() for g in ev.gaps if g.path.endswith(name)
    }


def test_model_format_merged_with_a_hardened_runtime_passes(tmp_path: Path) -> None:
    (tmp_path / "runtime.yaml").write_text(RUNTIME)
    (tmp_path / "isvc.yaml").write_text(ISVC)
    result = scan(tmp_path)
    assert _ids(result, "InferenceService/models/iris@predictor") == set()
    duty = result.coverage.duties["KUBERNETES-C-01"]
    assert "isvc.yaml#InferenceService/models/iris@predictor" in duty.resources
    assert {"K8S-001", "K8S-002", "K8S-009"} <= duty.rules
    assert not _gap_rules(result, "iris@predictor")


def test_insecure_runtime_fails_the_inference_service(tmp_path: Path) -> None:
    (tmp_path / "runtime.yaml").write_text(RUNTIME.replace("runAsNonRoot: true", "runAsNonRoot: false"))
    (tmp_path / "isvc.yaml").write_text(ISVC)
    result = scan(tmp_path)
    found = [f for f in result.findings if f.resource.name == "InferenceService/models/iris@predictor"]
    assert [f.rule_id for f in found] == ["K8S-001"]
    assert "ClusterServingRuntime/acme-sklearn" in found[0].title
    assert found[0].resource.path == "isvc.yaml"
    assert found[0].location.line == 7  # spec.predictor


def test_resource_overrides_the_runtime(tmp_path: Path) -> None:
    (tmp_path / "runtime.yaml").write_text(RUNTIME)
    isvc = ISVC + "      securityContext:\n        privileged: true\n"
    (tmp_path / "isvc.yaml").write_text(isvc)
    assert _ids(scan(tmp_path), "InferenceService/models/iris@predictor") == {"K8S-002"}


def test_named_runtime_and_framework_shorthand(tmp_path: Path) -> None:
    (tmp_path / "runtime.yaml").write_text(
        RUNTIME.replace("autoSelect: true", "autoSelect: false").replace("runAsNonRoot: true", "runAsNonRoot: false")
    )
    named = ISVC.replace("      storageUri:", "      runtime: acme-sklearn\n      storageUri:")
    (tmp_path / "isvc.yaml").write_text(named)
    assert _ids(scan(tmp_path), "InferenceService/models/iris@predictor") == {"K8S-001"}
    legacy = ISVC.replace("    model:\n      modelFormat:\n        name: sklearn\n", "    sklearn:\n")
    (tmp_path / "isvc.yaml").write_text(legacy)
    result = scan(tmp_path)  # autoSelect is off: no runtime is chosen, the pod is unresolved
    assert _ids(result, "InferenceService/models/iris@predictor") == set()
    assert "K8S-001" in _gap_rules(result, "iris@predictor")


def test_runtime_not_in_the_scan_is_unresolved_not_passed(tmp_path: Path) -> None:
    isvc = (
        ISVC
        + "      image: docker.io/acme/iris:latest\n      env:\n        - name: DB_PASSWORD\n          value: hunter2hunter2\n"
    )
    (tmp_path / "isvc.yaml").write_text(isvc)
    result = scan(tmp_path)
    assert _ids(result, "InferenceService/models/iris@predictor") == {"K8S-011", "K8S-012", "K8S-013"}
    gaps = _gap_rules(result, "iris@predictor")
    reasons = [g.reason for ev in result.coverage.duties.values() for g in ev.gaps if "iris@predictor" in g.path]
    assert any("in the scan" in r for r in reasons)
    assert {"K8S-001", "K8S-003", "K8S-006"} <= gaps
    assert "K8S-014" not in gaps  # the service account is the InferenceService's alone: decided without the runtime
    (tmp_path / "isvc.yaml").write_text(ISVC.replace("    serviceAccountName: iris-sa\n", ""))
    assert "K8S-014" in _ids(scan(tmp_path), "InferenceService/models/iris@predictor")


def test_controller_supplied_limits_are_not_findings(tmp_path: Path) -> None:
    (tmp_path / "runtime.yaml").write_text(RUNTIME.replace('        limits: {cpu: "1", memory: 2Gi}\n', "        {}\n"))
    (tmp_path / "isvc.yaml").write_text(ISVC)
    result = scan(tmp_path)
    assert "K8S-015" not in _ids(result, "InferenceService/models/iris@predictor")
    assert "K8S-015" in _gap_rules(result, "iris@predictor")


def test_custom_container_component_keeps_per_file_judgement(tmp_path: Path) -> None:
    text = """apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: custom
spec:
  predictor:
    containers:
      - name: kserve-container
        image: docker.io/acme/server:1.0
        securityContext:
          privileged: true
"""
    (tmp_path / "isvc.yaml").write_text(text)
    result = scan(tmp_path)
    ids = _ids(result, "InferenceService/custom")
    assert "K8S-002" in ids
    assert "K8S-015" not in ids  # KServe's webhook supplies the limits
    assert any("K8S-015" in g.reason for g in result.coverage.duties["KUBERNETES-C-04"].gaps)


TRAINING_RUNTIME = f"""apiVersion: trainer.kubeflow.org/v1alpha1
kind: ClusterTrainingRuntime
metadata:
  name: torch-distributed
spec:
  mlPolicy:
    numNodes: 1
    torch:
      numProcPerNode: auto
  template:
    spec:
      replicatedJobs:
        - name: node
          template:
            metadata:
              labels:
                trainer.kubeflow.org/trainjob-ancestor-step: trainer
            spec:
              template:
                spec:
                  automountServiceAccountToken: false
                  containers:
                    - name: node
                      image: docker.io/pytorch/pytorch{DIGEST}
                      command: [torchrun, /workspace/train.py]
{HARDENED_SC.replace("            ", "                      ")}"""
TRAINJOB = """apiVersion: trainer.kubeflow.org/v1alpha1
kind: TrainJob
metadata:
  name: finetune
  namespace: research
spec:
  runtimeRef:
    name: torch-distributed
  trainer:
    image: docker.io/pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime
    numNodes: 2
    resourcesPerNode:
      limits:
        nvidia.com/gpu: 1
        memory: 64Gi
"""


def test_trainjob_merged_with_its_runtime(tmp_path: Path) -> None:
    (tmp_path / "runtime.yaml").write_text(TRAINING_RUNTIME)
    (tmp_path / "job.yaml").write_text(TRAINJOB)
    result = scan(tmp_path)
    found = [f for f in result.findings if f.resource.name == "TrainJob/research/finetune@node"]
    assert {f.rule_id for f in found} == {"K8S-010"}  # the TrainJob's image replaces the runtime's pinned one
    assert found[0].location.line == 9  # spec.trainer
    assert not _gap_rules(result, "finetune@node")


def test_trainjob_override_weakens_the_runtime(tmp_path: Path) -> None:
    (tmp_path / "runtime.yaml").write_text(TRAINING_RUNTIME)
    job = TRAINJOB.replace("2.7.1-cuda12.8-cudnn9-runtime", DIGEST[1:].replace("sha256:", "x@sha256:")).replace(
        "pytorch/pytorch:x@", "pytorch/pytorch@"
    )
    job += """  podTemplateOverrides:
    - targetJobs:
        - name: node
      spec:
        serviceAccountName: default
        volumes:
          - name: host
            hostPath: {path: /var/run}
        containers:
          - name: node
            securityContext:
              allowPrivilegeEscalation: true
"""
    (tmp_path / "job.yaml").write_text(job)
    assert _ids(scan(tmp_path), "TrainJob/research/finetune@node") == {"K8S-003", "K8S-004"}


def test_trainjob_runtime_patches_are_applied(tmp_path: Path) -> None:
    (tmp_path / "runtime.yaml").write_text(TRAINING_RUNTIME.replace("automountServiceAccountToken: false", "{}"))
    job = (
        TRAINJOB
        + """  runtimePatches:
    - manager: trainer.kubeflow.org/kubeflow-sdk
      trainingRuntimeSpec:
        template:
          spec:
            replicatedJobs:
              - name: node
                template:
                  spec:
                    template:
                      spec:
                        serviceAccountName: trainer
"""
    )
    (tmp_path / "job.yaml").write_text(job.replace("  runtimeRef:\n", "  runtimeRef:\n").replace("{}", ""))
    ids = _ids(scan(tmp_path), "TrainJob/research/finetune@node")
    assert "K8S-014" not in ids


def test_trainjob_without_its_runtime(tmp_path: Path) -> None:
    job = TRAINJOB + "    env:\n      - name: HF_TOKEN\n        value: hf_abcdefghijklmnopqrstuvwxyzABCDEFGH\n"
    (tmp_path / "job.yaml").write_text(job)
    result = scan(tmp_path)
    assert _ids(result, "TrainJob/research/finetune@node") == {"K8S-010", "K8S-013"}
    assert {"K8S-001", "K8S-009", "K8S-014"} <= _gap_rules(result, "finetune@node")


LLM_CONFIG = f"""apiVersion: serving.kserve.io/v1alpha1
kind: LLMInferenceServiceConfig
metadata:
  name: kserve-config-llm-template
spec:
  template:
    containers:
      - name: main
        image: nvcr.io/nvidia/llm-d-cuda{DIGEST}
        command: [vllm, serve, /mnt/models]
{HARDENED_SC.replace("            ", "        ")}"""
LLMISVC = """apiVersion: serving.kserve.io/v1alpha1
kind: LLMInferenceService
metadata:
  name: llama
  namespace: llm
spec:
  model:
    uri: hf://meta-llama/Llama-3.1-8B-Instruct
  baseRefs:
    - name: workload-single-gpu
  template:
    automountServiceAccountToken: false
    containers:
      - name: main
        resources:
          limits: {nvidia.com/gpu: "1", memory: 32Gi}
"""
WORKLOAD = """apiVersion: serving.kserve.io/v1alpha1
kind: LLMInferenceServiceConfig
metadata:
  name: workload-single-gpu
  namespace: llm
spec:
  template:
    containers:
      - name: main
        securityContext:
          capabilities:
            add: [SYS_ADMIN]
"""


def test_llm_inference_service_composes_its_configs(tmp_path: Path) -> None:
    (tmp_path / "llm.yaml").write_text(LLMISVC)
    (tmp_path / "config.yaml").write_text(LLM_CONFIG + "---\n" + WORKLOAD)
    result = scan(tmp_path)
    assert _ids(result, "LLMInferenceService/llm/llama@template") == {"K8S-008"}
    assert not _gap_rules(result, "llama@template")
    assert not [f for f in result.findings if "LLMInferenceServiceConfig" in (f.resource.name or "")]


def test_llm_inference_service_without_the_well_known_configs(tmp_path: Path) -> None:
    (tmp_path / "llm.yaml").write_text(LLMISVC)
    (tmp_path / "config.yaml").write_text(WORKLOAD)
    result = scan(tmp_path)
    assert _ids(result, "LLMInferenceService/llm/llama@template") == {"K8S-008"}  # set by a baseRef: definite
    assert {"K8S-001", "K8S-010"} <= _gap_rules(result, "llama@template")
