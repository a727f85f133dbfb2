"""A scan result with a real inventory shape (dpkg, pip, conda, npm packages; OS; image identity) and
the vulnerability findings the OSV matcher makes for it from the bundled snapshot."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from shareguard.core.context import ScanContext
from shareguard.core.facts import FactStore, ImageIdentity, OSInfo, Package
from shareguard.core.finding import Finding
from shareguard.core.options import OptionSet
from shareguard.core.result import ScanResult
from shareguard.core.settings import Settings
from shareguard.vuln.analyzer import OsvMatcher
from shareguard.vuln.options import VulnOptions

LAYER1 = "sha256:" + "11" * 32
LAYER2 = "sha256:" + "22" * 32


def inventory() -> list[object]:
    return [
        OSInfo(id="debian", version_id="12", pretty_name="Debian GNU/Linux 12 (bookworm)", layer=LAYER1),
        ImageIdentity(
            reference="registry.example.com/ml/trainer:1.0",
            digest="sha256:" + "cd" * 32,
            layers=(LAYER1, LAYER2),
        ),
        Package(
            name="libssl3",
            version="3.0.11-1~deb12u2",
            ecosystem="Debian:12",
            path="var/lib/dpkg/status",
            layer=LAYER1,
            purl="pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12",
            source_name="openssl",
            source_version="3.0.11-1~deb12u2",
            arch="amd64",
            os_managed=True,
            licenses=("Apache-2.0",),
        ),
        Package(
            name="torch",
            version="1.13.0+cu117",
            ecosystem="PyPI",
            path="opt/conda/lib/python3.10/site-packages/torch-1.13.0+cu117.dist-info/METADATA",
            layer=LAYER2,
            origin="pip",
            licenses=("BSD-3-Clause",),
        ),
        Package(
            name="pyyaml",
            version="5.3",
            ecosystem="PyPI",
            path="opt/conda/lib/python3.10/site-packages/PyYAML-5.3.dist-info/METADATA",
            layer=LAYER2,
            origin="pip",
            licenses=("MIT License", "MIT/X11"),  # classifiers and free text, not SPDX ids
        ),
        Package(
            name="cudatoolkit",
            version="11.7.0",
            ecosystem="conda",
            path="opt/conda/conda-meta/cudatoolkit-11.7.0-hd8887f6_10.json",
            layer=LAYER2,
            origin="conda",
        ),
        Package(
            name="@types/node",
            version="20.1.0",
            ecosystem="npm",
            path="app/node_modules/@types/node/package.json",
            origin="npm",
        ),
    ]


def scan_result(tmp_path: Path, *, vex: bool = False) -> ScanResult:
    facts = FactStore()
    for fact in inventory():
        facts.add(fact)  # type: ignore[arg-type]
    vex_path: Path | None = None
    if vex:
        doc = {
            "@context": "https://openvex.dev/ns/v0.2.0",
            "@id": "https://example.com/vex/1",
            "author": "platform",
            "timestamp": "2024-06-01T00:00:00Z",
            "version": 1,
            "statements": [
                {
                    "vulnerability": {"name": "CVE-2022-45907"},
                    "products": [{"@id": "pkg:pypi/torch"}],
                    "status": "not_affected",
                    "justification": "vulnerable_code_not_in_execute_path",
                    "impact_statement": "TorchScript type comments are never parsed",
                }
            ],
        }
        path = tmp_path / "vex.json"
        path.write_text(json.dumps(doc), encoding="utf-8")
        vex_path = path
    ctx = ScanContext(
        settings=Settings.from_env(), options=OptionSet((VulnOptions(vex=vex_path),)), facts=facts, command="image"
    )
    findings = [f for f in OsvMatcher().analyze(facts, ctx) if isinstance(f, Finding)]
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    return ScanResult(
        command="image",
        target="registry.example.com/ml/trainer:1.0",
        started=now,
        finished=now,
        findings=findings,
        facts=facts,
        coverage=ctx.coverage,
        metadata=dict(ctx.metadata),
    )
