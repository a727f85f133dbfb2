"""Terminal escape injection: control characters from file names, package names and YAML values are shown
escaped in every human-facing output (table, stderr), never obeyed; JSON keeps the exact value."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shareguard.catalog import Catalog
from shareguard.cli.main import build_app
from shareguard.core.context import ScanIssue
from shareguard.core.coverage import Coverage
from shareguard.core.facts import FactStore
from shareguard.core.finding import Finding, Remediation
from shareguard.core.resource import Location, Resource
from shareguard.core.result import ScanResult
from shareguard.core.severity import Severity
from shareguard.core.text import printable
from shareguard.report.json_report import JsonReporter
from shareguard.report.table import TableReporter

EVIL = "ev\x1b[2Jil"
"""Clears the screen when printed raw."""
NASTY = ["\x1b]8;;http://x\x07", "\x00", "\r", "\n", "\x7f", "\x9b", "\u202e", "\u2066", "\x08"]


def _bad(text: str) -> list[str]:
    return [c for c in NASTY if c in text]


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain text / path.txt", "plain text / path.txt"),
        (EVIL, "ev\\x1b[2Jil"),
        ("a\nb\rc\td", "a\\nb\\rc\\td"),
        ("nul\x00del\x7fcsi\x9b", "nul\\x00del\\x7fcsi\\x9b"),
        ("bidi\u202eevil\u2066x\u2069", "bidi\\u202eevil\\u2066x\\u2069"),
        ("C:\\dir\\file", "C:\\dir\\file"),  # nothing to escape: a backslash stays as it is
        ("C:\\x1b\x1b", "C:\\\\x1b\\x1b"),  # escaping: a backslash doubles, so the form stays unambiguous
        ("café ✓ 日本", "café ✓ 日本"),
    ],
)
def test_printable(raw: str, shown: str) -> None:
    assert printable(raw) == shown
    assert printable(printable(raw)) == printable(raw) or "\\" in raw


def _result() -> ScanResult:
    now = datetime.now(UTC)
    finding = Finding(
        rule_id="VULN-IMAGE-PACKAGE",
        control_ids=("DLC-C-02",),
        severity=Severity.HIGH,
        title=f"{EVIL} 1.0: remote code execution\r\u202e",
        resource=Resource(type="package", path=f"usr/lib/{EVIL}/METADATA", name=EVIL),
        location=Location(line=3, member="\x1b]8;;http://x\x07link"),
        evidence=f"Name: {EVIL}\nVersion: 1.0\x00",
        remediation=Remediation(text="Upgrade\x08\x08", command=f"pip install '{EVIL}>=1.1'"),
        analyzer="vuln.osv",
    )
    return ScanResult(
        command="image",
        target="img\x1b[2J:latest",
        started=now,
        finished=now,
        findings=[finding],
        facts=FactStore(),
        coverage=Coverage(),
        issues=[ScanIssue(path="bad\x1b[31m/\u202eDockerfile", message=f"no FROM\n{EVIL}", analyzer="x", kind="error")],
    )


def test_table_escapes_every_user_field(catalog: Catalog) -> None:
    result = _result()
    plain = TableReporter().render(result, catalog)
    assert _bad(plain.replace("\n", "")) == [] and "\x1b" not in plain
    assert "ev\\x1b[2Jil" in plain and "bad\\x1b[31m/\\u202eDockerfile" in plain
    coloured = TableReporter().render_terminal(result, catalog, 120)
    assert "\x1b[2J" not in coloured and "\x1b[31m/" not in coloured and "\u202e" not in coloured
    assert "\x1b]8" not in coloured and "\x00" not in coloured and "\r" not in coloured


def test_json_keeps_the_exact_value(catalog: Catalog) -> None:
    doc = json.loads(JsonReporter().render(_result(), catalog))
    assert doc["findings"][0]["resource"]["name"] == EVIL
    assert doc["findings"][0]["evidence"] == f"Name: {EVIL}\nVersion: 1.0\x00"
    assert doc["issues"][0]["path"] == "bad\x1b[31m/\u202eDockerfile"


def test_cli_escapes_file_names_and_values_on_stdout_and_stderr(tmp_path: Path) -> None:
    """A directory named with an ESC sequence (a finding's path, stdout), a Dockerfile installing a package
    named with one (evidence), and a broken file named with one (an issue: the table and stderr)."""
    evil_dir = tmp_path / EVIL
    evil_dir.mkdir()
    (evil_dir / "Dockerfile").write_text(f"FROM python\nRUN pip install --trusted-host x {EVIL}\n")
    bad_dir = tmp_path / "bad\x1b[31m"
    bad_dir.mkdir()
    (bad_dir / "Dockerfile").write_text("# no FROM here\n")
    res = CliRunner().invoke(build_app(), ["config", str(tmp_path)])
    assert res.exit_code == 3, res.output
    assert "\x1b" not in res.stdout and "\x1b" not in res.stderr
    assert "ev\\x1b[2Jil/Dockerfile:1" in res.stdout
    assert "bad\\x1b[31m/Dockerfile" in res.stderr
    res = CliRunner().invoke(build_app(), ["config", str(tmp_path), "--show-all"])
    assert "\x1b" not in res.stdout and "pip install --trusted-host x ev\\x1b[2Jil" in res.stdout
    out = tmp_path / "r.json"
    res = CliRunner().invoke(build_app(), ["config", str(tmp_path), "-f", "json", "-o", str(out), "-q"])
    paths = {f["resource"]["path"] for f in json.loads(out.read_text())["findings"]}
    assert f"{EVIL}/Dockerfile" in paths  # JSON: the exact name


def test_one_line_user_error_is_escaped(tmp_path: Path) -> None:
    missing = tmp_path / "no\x1b[2Jsuch"
    res = CliRunner().invoke(build_app(), ["config", str(missing)])
    assert res.exit_code == 2
    assert "\x1b" not in res.stderr and "no\\x1b[2Jsuch" in res.stderr
