"""Image references and registry credentials, as Docker spells and stores them."""

from __future__ import annotations

import base64
import contextlib
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shareguard.core.errors import InputError
from shareguard.sources.registry.auth import Credentials, find_credentials, parse_challenge
from shareguard.sources.registry.client import is_loopback
from shareguard.sources.registry.reference import parse_reference


@pytest.mark.parametrize(
    ("text", "registry", "repository", "tag", "digest"),
    [
        ("ubuntu", "docker.io", "library/ubuntu", "latest", None),
        (
            "pytorch/pytorch:2.3.0-cuda12.1-cudnn8-runtime",
            "docker.io",
            "pytorch/pytorch",
            "2.3.0-cuda12.1-cudnn8-runtime",
            None,
        ),
        (
            "gcr.io/deeplearning-platform-release/pytorch-gpu.2-3:latest",
            "gcr.io",
            "deeplearning-platform-release/pytorch-gpu.2-3",
            "latest",
            None,
        ),
        ("localhost:5000/a/b", "localhost:5000", "a/b", "latest", None),
        ("127.0.0.1:5000/app:v1", "127.0.0.1:5000", "app", "v1", None),
        (
            "nvcr.io/nvidia/pytorch@sha256:" + "a" * 64,
            "nvcr.io",
            "nvidia/pytorch",
            None,
            "sha256:" + "a" * 64,
        ),
        ("us-docker.pkg.dev/p/r/img:1@sha256:" + "b" * 64, "us-docker.pkg.dev", "p/r/img", "1", "sha256:" + "b" * 64),
    ],
)
def test_parse(text: str, registry: str, repository: str, tag: str | None, digest: str | None) -> None:
    ref = parse_reference(text)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (registry, repository, tag, digest)


def test_docker_hub_api_host() -> None:
    assert parse_reference("ubuntu").api_host == "registry-1.docker.io"


@pytest.mark.parametrize(
    "text", ["", "UPPER/case", "a b", "img@sha256:short", "img:bad:tag:", "reg.io/../etc", "x" * 2000]
)
def test_invalid(text: str) -> None:
    with pytest.raises(InputError):
        parse_reference(text)


@given(st.text(max_size=80))
def test_parse_never_crashes(text: str) -> None:
    with contextlib.suppress(InputError):
        parse_reference(text)


def test_challenge_parsing() -> None:
    ch = parse_challenge(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/ubuntu:pull"'
    )
    assert ch is not None and ch.scheme == "bearer"
    assert ch.params == {
        "realm": "https://auth.docker.io/token",
        "service": "registry.docker.io",
        "scope": "repository:library/ubuntu:pull",
    }
    basic = parse_challenge('Basic realm="Registry Realm"')
    assert basic is not None and basic.scheme == "basic"


def test_credentials_order(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps(
            {
                "auths": {
                    "https://index.docker.io/v1/": {"auth": base64.b64encode(b"hubuser:hubpw").decode()},
                    "reg.example.com": {"username": "u2", "password": "p2"},
                    "bad.example.com": {"auth": "!!!not base64"},
                },
                "credsStore": "desktop",
            }
        )
    )
    env = {"DOCKER_CONFIG": str(tmp_path)}
    assert find_credentials("docker.io", env=env) == Credentials("hubuser", "hubpw")
    assert find_credentials("reg.example.com", env=env) == Credentials("u2", "p2")
    assert find_credentials("bad.example.com", env=env) is None
    env2 = {**env, "SHAREGUARD_REGISTRY_USERNAME": "envuser", "SHAREGUARD_REGISTRY_PASSWORD": "envpw"}
    assert find_credentials("reg.example.com", env=env2) == Credentials("envuser", "envpw")
    assert find_credentials("reg.example.com", "cli", "clipw", env=env2) == Credentials("cli", "clipw")
    assert "clipw" not in repr(Credentials("cli", "clipw"))


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1:5000", True),
        ("localhost", True),
        ("[::1]:5000", True),
        ("127.8.9.1", True),
        ("10.0.0.1:5000", False),
        ("gcr.io", False),
    ],
)
def test_is_loopback(host: str, expected: bool) -> None:
    assert is_loopback(host) is expected
