"""The shared path from a ScanResult to output and exit code (`cli/common.py`)."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shareguard.catalog import Catalog, load_catalog
from shareguard.cli.common import EXIT_INCOMPLETE, OutputOptions, emit, write_atomically
from shareguard.core.context import ScanIssue
from shareguard.core.coverage import Coverage
from shareguard.core.errors import ConfigError
from shareguard.core.facts import FactStore
from shareguard.core.finding import Finding, Remediation, Status
from shareguard.core.registry import Registries, load_registries
from shareguard.core.resource import Resource
from shareguard.core.result import ScanResult
from shareguard.core.severity import Severity
from shareguard.core.waivers import WAIVER_FILENAME
from shareguard.report.interface import Reporter


def _finding(sev: Severity, path: str, status: Status = Status.FAIL) -> Finding:
    return Finding(
        rule_id=f"R-{sev.value}",
        control_ids=("IAM-C-02",),
        severity=sev,
        title=f"{sev.value} thing",
        resource=Resource(type="file", path=path),
        remediation=Remediation(text="fix"),
        status=status,
    )


def _result(findings: list[Finding], issues: list[ScanIssue] | None = None) -> ScanResult:
    now = datetime.now(UTC)
    coverage = Coverage()
    coverage.evaluated("IAM-001", ("IAM-C-02",), "iam/a.json")
    return ScanResult("audit", "ws", now, now, findings, FactStore(), coverage, issues=issues or [])


@pytest.fixture(scope="module")
def regs() -> Registries:
    return load_registries(("shareguard.report.plugin",))


def _emit(result: ScanResult, regs: Registries, tmp_path: Path, **kw: object) -> int:
    opts = OutputOptions.build(
        str(kw.get("format", "json")),
        tmp_path / "out.txt",
        kw.get("severity"),  # type: ignore[arg-type]
        int(kw.get("exit_code", 0)),  # type: ignore[call-overload]
        True,
        None,
    )
    root = kw.get("root")
    return emit(result, opts, regs, scan_root=root if isinstance(root, Path) else None)


def test_exit_code_only_for_failing_findings_of_reported_severities(regs: Registries, tmp_path: Path) -> None:
    res = _result([_finding(Severity.LOW, "a"), _finding(Severity.CRITICAL, "b", Status.PASS)])
    assert _emit(res, regs, tmp_path, exit_code=4) == 4
    assert _emit(res, regs, tmp_path, exit_code=4, severity="high") == 0  # low is filtered out
    assert _emit(res, regs, tmp_path, exit_code=4, severity="low") == 4  # "low" means low and above
    assert _emit(res, regs, tmp_path, exit_code=4, severity="critical,medium") == 0
    assert _emit(res, regs, tmp_path) == 0


def test_waived_findings_do_not_trigger_the_exit_code(regs: Registries, tmp_path: Path) -> None:
    (tmp_path / WAIVER_FILENAME).write_text(
        'waivers:\n  - resource: "a"\n    reason: ok\n    expires: 2999-12-31\n', encoding="utf-8"
    )
    res = _result([_finding(Severity.HIGH, "a")])
    assert _emit(res, regs, tmp_path, exit_code=9, root=tmp_path) == 0
    res2 = _result([_finding(Severity.HIGH, "a"), _finding(Severity.HIGH, "b")])
    assert _emit(res2, regs, tmp_path, exit_code=9, root=tmp_path) == 9


def test_incomplete_scan_exits_3_unless_the_exit_code_fires(regs: Registries, tmp_path: Path) -> None:
    issues = [ScanIssue("x.bin", "over budget")]
    assert _emit(_result([], issues), regs, tmp_path, exit_code=9) == EXIT_INCOMPLETE
    assert _emit(_result([_finding(Severity.HIGH, "a")], issues), regs, tmp_path, exit_code=9) == 9
    warnings = [ScanIssue("db", "old", kind="warning")]
    assert _emit(_result([], warnings), regs, tmp_path) == 0


def test_severity_filter_is_recorded(regs: Registries, tmp_path: Path) -> None:
    _emit(_result([_finding(Severity.LOW, "a")]), regs, tmp_path, severity="high")
    text = (tmp_path / "out.txt").read_text(encoding="utf-8")
    assert '"severity_filter": "high"' in text
    assert '"findings": []' in text


def test_write_atomically_replaces_with_a_normal_mode(tmp_path: Path) -> None:
    target = tmp_path / "r.txt"
    target.write_text("old", encoding="utf-8")
    old_mask = os.umask(0o022)
    try:
        write_atomically(target, "new")
    finally:
        os.umask(old_mask)
    assert target.read_text(encoding="utf-8") == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["r.txt"]
    with pytest.raises(ConfigError, match="output path is a directory"):
        write_atomically(tmp_path, "x")


class _BrokenReporter:
    """A third-party format whose rendering fails halfway (a plugin bug)."""

    name = "broken"
    commands: frozenset[str] | None = None

    def render(self, result: ScanResult, catalog: Catalog) -> str:
        raise RuntimeError("renderer crashed")


def test_a_failing_reporter_leaves_the_output_untouched(tmp_path: Path) -> None:
    regs = load_registries(("shareguard.report.plugin",))
    regs.of(Reporter).add("broken", _BrokenReporter())  # type: ignore[type-abstract]
    out = tmp_path / "out.txt"
    out.write_text("previous", encoding="utf-8")
    with pytest.raises(RuntimeError):
        _emit(_result([]), regs, tmp_path, format="broken")
    assert out.read_text(encoding="utf-8") == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_build_normalises_options() -> None:
    opts = OutputOptions.build("JSON", None, "HIGH", 1, False, None)
    assert opts.format == "json" and opts.severity == [Severity.HIGH]  # an exact set, as Trivy's
    floor = OutputOptions.build("json", None, None, 0, False, None, "high")
    assert floor.severity == [Severity.CRITICAL, Severity.HIGH]
    both = OutputOptions.build("json", None, "critical,low", 0, False, None, "medium")
    assert both.severity == [Severity.CRITICAL]
    assert load_catalog() is load_catalog()


def test_issues_are_printed_unless_quiet_and_quiet_builds_no_console(
    regs: Registries, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from shareguard.cli import common

    issues = [ScanIssue("x.bin", "over budget"), ScanIssue("db", "old", kind="warning")]
    loud = OutputOptions.build("json", tmp_path / "out.txt", None, 0, False, None)
    assert emit(_result([], issues), loud, regs, scan_root=None) == EXIT_INCOMPLETE
    err = capsys.readouterr().err
    assert "error: x.bin: over budget" in err and "warning: db: old" in err

    def no_console(*args: object, **kwargs: object) -> None:
        raise AssertionError("a quiet run built a console")

    monkeypatch.setattr(common, "stderr_console", no_console)  # rich is not imported for nothing
    quiet = OutputOptions.build("json", tmp_path / "out.txt", None, 0, True, None)
    assert emit(_result([], issues), quiet, regs, scan_root=None) == EXIT_INCOMPLETE
    assert capsys.readouterr().err == ""
