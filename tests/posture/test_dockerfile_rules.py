"""Dockerfile rules on real-world-shaped deep-learning images, lines, masking and options."""

from __future__ import annotations

from pathlib import Path

from posture_helpers import FIXTURES, ids, run_file, run_text

from shareguard.posture.options import PostureOptions
from shareguard.scan import run_path_scan

REAL = FIXTURES / "dockerfile" / "real-world"


def test_deep_learning_images_flag_user_trusted_host_and_ssh_keys() -> None:
    result = run_path_scan(REAL, command="config", capabilities=frozenset({"posture"}))
    assert not result.issues
    got = {(f.resource.path, f.rule_id) for f in result.findings}
    assert ("aws-dlc-pytorch-training/Dockerfile", "DOCKERFILE-001") in got  # no USER
    assert ("ngc-triton-serving/Dockerfile", "DOCKERFILE-016") in got  # pip --trusted-host
    assert ("vertex-custom-training/Dockerfile", "DOCKERFILE-016") in got
    assert ("ngc-triton-serving/Dockerfile", "DOCKERFILE-009") in got  # COPY id_ed25519
    assert ("aws-dlc-pytorch-training/Dockerfile", "DOCKERFILE-009") in got  # ssh-keygen in the image
    assert ("aws-dlc-pytorch-training/Dockerfile", "DOCKERFILE-008") in got  # sed StrictHostKeyChecking no
    assert ("vertex-custom-training/Dockerfile", "DOCKERFILE-015") in got  # service-account key JSON
    assert not [f for f in result.findings if f.resource.path.startswith("hardened-vllm-serving/")]


def test_trusted_host_finding_is_on_the_exact_continuation_line() -> None:
    findings, _ = run_file("posture.dockerfile", REAL / "ngc-triton-serving" / "Dockerfile")
    f = next(f for f in findings if f.rule_id == "DOCKERFILE-016")
    lines = (REAL / "ngc-triton-serving" / "Dockerfile").read_text().splitlines()
    assert "--trusted-host" in lines[f.location.line - 1]
    assert f.analyzer == "posture.dockerfile" and f.resource.type == "dockerfile"
    assert "NETWORK-C-01" in f.control_ids


def test_secret_evidence_is_masked(tmp_path: Path) -> None:
    findings, _ = run_text(
        "posture.dockerfile",
        tmp_path,
        "Dockerfile",
        "FROM python:3.11-slim\nENV HF_TOKEN=hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789\nUSER 1000\n",
    )
    f = next(f for f in findings if f.rule_id == "DOCKERFILE-014")
    assert f.evidence is not None and "AbCdEf" not in f.evidence and f.evidence.startswith("HF_TOKEN=hf_A")
    assert f.location.line == 2 and "IAM-C-05" in f.control_ids


def test_secret_in_run_is_masked(tmp_path: Path) -> None:
    text = "FROM node:20-slim\nRUN echo //registry.npmjs.org/:_authToken=npm_abcdefghijklmnopqrstuvwxyz0123456789 > ~/.npmrc\nUSER node\n"
    findings, _ = run_text("posture.dockerfile", tmp_path, "Dockerfile", text)
    f = next(f for f in findings if f.rule_id == "DOCKERFILE-014")
    assert "npm_abc" not in (f.evidence or "") and "abcdefghij" not in f.title


def test_stage_references_scratch_and_unresolved_args_are_not_base_images(tmp_path: Path) -> None:
    text = "ARG BASE\nFROM $BASE AS build\nFROM scratch\nCOPY --from=build /app /app\nUSER 65532\n"
    findings, _ = run_text("posture.dockerfile", tmp_path, "Dockerfile", text)
    assert not ids(findings) & {"DOCKERFILE-002", "DOCKERFILE-003", "DOCKERFILE-004", "DOCKERFILE-020"}


def test_user_inherited_from_parent_stage_and_distroless_nonroot(tmp_path: Path) -> None:
    inherit = 'FROM python:3.11-slim AS base\nUSER 1000\nFROM base\nCMD ["python"]\n'
    assert "DOCKERFILE-001" not in ids(run_text("posture.dockerfile", tmp_path, "a.Dockerfile", inherit)[0])
    distroless = "FROM gcr.io/distroless/python3-debian12:nonroot\nCOPY app /app\n"
    assert "DOCKERFILE-001" not in ids(run_text("posture.dockerfile", tmp_path, "b.Dockerfile", distroless)[0])
    root_again = "FROM python:3.11-slim\nUSER 1000\nRUN id\nUSER 0:0\n"
    hits = [
        f
        for f in run_text("posture.dockerfile", tmp_path, "c.Dockerfile", root_again)[0]
        if f.rule_id == "DOCKERFILE-001"
    ]
    assert hits and hits[0].location.line == 4


def test_trusted_registries_option_overrides_the_default(tmp_path: Path) -> None:
    text = "FROM registry.acme.internal/ml/base:1.2\nUSER 1000\n"
    assert "DOCKERFILE-004" in ids(run_text("posture.dockerfile", tmp_path, "Dockerfile", text)[0])
    quiet, _ = run_text(
        "posture.dockerfile",
        tmp_path,
        "Dockerfile",
        text,
        options=PostureOptions(trusted_registries=("registry.acme.internal/*",)),
    )
    assert "DOCKERFILE-004" not in ids(quiet)


def test_pipe_to_shell_variants(tmp_path: Path) -> None:
    for n, run in enumerate(
        [
            "wget -qO- https://x/install | bash -s -- --yes",
            'sh -c "$(curl -fsSL https://x/install.sh)"',
            "bash <(curl -s https://x/install.sh)",
            "curl -s https://x | sudo -E python3 -",
        ]
    ):
        findings, _ = run_text(
            "posture.dockerfile", tmp_path, f"{n}.Dockerfile", f"FROM ubuntu:24.04\nRUN {run}\nUSER 1\n"
        )
        assert "DOCKERFILE-019" in ids(findings), run
    ok, _ = run_text(
        "posture.dockerfile",
        tmp_path,
        "ok.Dockerfile",
        "FROM ubuntu:24.04\nRUN curl -fsSLo x.sh https://x && sh x.sh\nUSER 1\n",
    )
    assert "DOCKERFILE-019" not in ids(ok)


def test_tls_verification_variants(tmp_path: Path) -> None:
    for n, line in enumerate(
        [
            "RUN git config --global http.sslVerify false",
            "RUN npm config set strict-ssl false",
            "RUN wget --no-check-certificate https://x/y.tgz",
            "ENV NODE_TLS_REJECT_UNAUTHORIZED=0",
            "ENV GIT_SSL_NO_VERIFY=true",
            'ENV REQUESTS_CA_BUNDLE=""',
            "RUN conda config --set ssl_verify false",
            "RUN curl --insecure -o x https://x",
        ]
    ):
        findings, _ = run_text(
            "posture.dockerfile", tmp_path, f"{n}.Dockerfile", f"FROM ubuntu:24.04\n{line}\nUSER 1\n"
        )
        assert "DOCKERFILE-016" in ids(findings), line
    ok, _ = run_text(
        "posture.dockerfile",
        tmp_path,
        "ok.Dockerfile",
        "FROM ubuntu:24.04\nRUN curl -fsSLo x https://x -H 'k: v'\nUSER 1\n",
    )
    assert "DOCKERFILE-016" not in ids(ok)
