"""Dependency files: Package facts for pins and the built-in load-time CVE table."""

from __future__ import annotations

from pathlib import Path

from shareguard.core.facts import Package
from shareguard.core.settings import Settings
from shareguard.models.code.deps import parse, vulnerable
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


def test_vulnerable_ranges() -> None:
    def cves(line: str) -> set[str]:
        return {a.id for a in vulnerable(parse("requirements.txt", line)[0])}

    assert "CVE-2025-32434" in cves("torch==2.5.1")
    assert "CVE-2025-32434" in cves("torch<2.6")
    assert cves("torch>=2.10") == set()
    assert cves("torch") == set()
    assert "CVE-2025-1550" in cves("keras==3.8.0")


def test_analyzer_emits_packages_and_findings(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("torch==2.5.1\nsafetensors==0.4.0\n")
    res = run_path_scan(
        tmp_path, command="models", capabilities=frozenset({"models"}), settings=Settings(cache_dir=tmp_path / "c")
    )
    pkgs = {(p.name, p.version, p.origin) for p in res.facts.of(Package) if p.path == "requirements.txt"}
    assert ("torch", "2.5.1", "pip") in pkgs and ("safetensors", "0.4.0", "pip") in pkgs
    hit = next(f for f in res.findings if f.rule_id == "MLCODE-011" and f.properties.get("cve") == "CVE-2025-32434")
    assert hit.remediation.fixed_version == "2.6.0" and hit.location.line == 1
