"""Dependency files: Package facts for pins, matched by the one vulnerability matcher."""

from __future__ import annotations

from pathlib import Path

from shareguard.core.facts import Package
from shareguard.core.settings import Settings
from shareguard.models.code.deps import parse
from shareguard.scan import run_path_scan


def test_parsers() -> None:
    assert [(d.name, d.pinned) for d in parse("requirements.txt", "torch==2.5.1\n# c\n-r other.txt\nnumpy>=1\n")] == [
        ("torch", "2.5.1"),
        ("numpy", None),
    ]
    py = '[project]\ndependencies = ["keras==3.8.0"]\n[tool.poetry.dependencies]\npython = "^3.11"\ntransformers = "^4.30.0"\n'
    assert [(d.name, d.spec) for d in parse("pyproject.toml", py)] == [
        ("keras", "==3.8.0"),
        ("transformers", "<5.0.0,>=4.30.0"),
    ]
    env = "dependencies:\n  - pytorch=2.5\n  - pip:\n    - transformers==4.30.0\n"
    assert [(d.name, d.spec) for d in parse("environment.yml", env)] == [
        ("torch", "==2.5.*"),
        ("transformers", "==4.30.0"),
    ]
    lock = '[[package]]\nname = "torch"\nversion = "2.4.0"\n'
    assert [(d.name, d.pinned) for d in parse("poetry.lock", lock)] == [("torch", "2.4.0")]
    pip_lock = '{"default": {"torch": {"version": "==2.5.0"}}, "develop": {}}'
    assert [(d.name, d.pinned) for d in parse("Pipfile.lock", pip_lock)] == [("torch", "2.5.0")]


def test_analyzer_emits_packages_and_findings(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("torch==2.5.1\nsafetensors==0.4.0\n")
    res = run_path_scan(
        tmp_path, command="models", capabilities=frozenset({"models"}), settings=Settings(cache_dir=tmp_path / "c")
    )
    pkgs = {(p.name, p.version, p.origin) for p in res.facts.of(Package) if p.path == "requirements.txt"}
    assert ("torch", "2.5.1", "pip") in pkgs and ("safetensors", "0.4.0", "pip") in pkgs
    # The load-time CVEs once in a built-in table (retired rule MLCODE-011) are OSV records of the bundled
    # snapshot, reported by the vulnerability matcher like any advisory, each once.
    assert not [f for f in res.findings if f.rule_id == "MLCODE-011"]
    hits = [f for f in res.findings if f.rule_id == "VULN-APP-DEPENDENCY" and f.resource.name == "torch"]
    ids = [f.properties["vulnerability_id"] for f in hits]
    assert sorted(ids) == sorted(set(ids)) and "GHSA-53q9-r3pm-6pq6" in ids
    hit = next(f for f in hits if f.properties["vulnerability_id"] == "GHSA-53q9-r3pm-6pq6")
    assert "CVE-2025-32434" in hit.properties["aliases"] and hit.properties["fixed_version"] == "2.6.0"
    assert hit.remediation.command == "pip install 'torch>=2.6.0'" and hit.resource.path == "requirements.txt"
