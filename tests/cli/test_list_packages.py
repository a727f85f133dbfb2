"""`--list-packages`: the JSON report of an image or root filesystem scan carries the package inventory."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
from typer.testing import CliRunner

from shareguard.cli.main import build_app
from shareguard.report.json_report import report_schema


def _rootfs(tmp_path: Path) -> Path:
    root = tmp_path / "rootfs"
    meta = root / "usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA"
    meta.parent.mkdir(parents=True)
    meta.write_text("Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\n\n")
    return root


def test_rootfs_list_packages(tmp_path: Path) -> None:
    root = _rootfs(tmp_path)
    out = tmp_path / "r.json"
    env = {"SHAREGUARD_CACHE_DIR": str(tmp_path / "cache")}
    res = CliRunner().invoke(
        build_app(), ["rootfs", str(root), "-f", "json", "-o", str(out), "-q", "--list-packages"], env=env
    )
    assert res.exit_code in (0, 3), res.output
    doc = json.loads(out.read_text())
    jsonschema.Draft202012Validator(report_schema()).validate(doc)
    assert [(p["name"], p["version"], p["ecosystem"]) for p in doc["packages"]] == [("requests", "2.31.0", "PyPI")]
    assert doc["packages"][0]["purl"] == "pkg:pypi/requests@2.31.0"
    res = CliRunner().invoke(build_app(), ["rootfs", str(root), "-f", "json", "-o", str(out), "-q"], env=env)
    assert "packages" not in json.loads(out.read_text())


def test_spdx_encoding_follows_the_output_file_name(tmp_path: Path) -> None:
    """`-o x.spdx` writes tag-value, `-o x.spdx.json` JSON; the document name holds no local directory."""
    root = _rootfs(tmp_path)
    env = {"SHAREGUARD_CACHE_DIR": str(tmp_path / "cache")}
    for name in ("sbom.spdx", "sbom.spdx.json"):
        out = tmp_path / name
        res = CliRunner().invoke(build_app(), ["rootfs", str(root), "-f", "spdx", "-o", str(out), "-q"], env=env)
        assert res.exit_code in (0, 3), res.output
        text = out.read_text()
        if name.endswith(".json"):
            assert json.loads(text)["name"] == "shareguard-rootfs-rootfs"
        else:
            assert text.startswith("SPDXVersion: SPDX-2.3\n") and "DocumentName: shareguard-rootfs-rootfs\n" in text
        assert str(tmp_path) not in text  # no directory of the scanning machine, in any field
