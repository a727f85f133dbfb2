"""Launch code of any language: the deprecated Dataflow experiment (and the other pipeline options) are found
in PowerShell, batch, Java, Kotlin, Scala, Go, TypeScript, CI YAML and extension-less scripts, at their line."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from posture_helpers import FIXTURES, analyzer, run_file, run_text

from shareguard.core.context import ScanContext
from shareguard.core.coverage import Gap
from shareguard.core.entry import FileEntry
from shareguard.core.errors import BudgetExceeded, ParseError
from shareguard.core.settings import Settings
from shareguard.posture.parsers.launch_tokens import MAX_TOKENS, decode, tokenize

LAUNCH = FIXTURES / "launch"
DEPRECATED = "enable_stackdriver_agent_metrics"


def _line_of(path: Path, needle: str) -> int:
    text = decode(path.read_bytes(), path.name)
    comment = ("REM", "//", "#")
    return next(
        i
        for i, line in enumerate(text.splitlines(), start=1)
        if needle in line and not line.strip().startswith(comment)
    )


def _deprecated_lines(path: Path) -> list[int | None]:
    findings, ctx = run_file("posture.launch", path)
    assert not ctx.issues, ctx.issues
    return [f.location.line for f in findings if f.rule_id == "DATAFLOW-004"]


@pytest.mark.parametrize(
    "name",
    [
        "launch_utf16.ps1",
        "Pipeline.java",
        "main.go",
        "launch.ts",
        "Pipeline.kt",
        "Pipeline.scala",
        "launch.bat",
        "run_pipeline",
        "gitlab-ci.yml",
    ],
)
def test_deprecated_experiment_is_flagged_at_its_line(name: str) -> None:
    path = LAUNCH / name
    assert _deprecated_lines(path) == [_line_of(path, DEPRECATED)]


def test_powershell_fixture_is_utf16_with_bom() -> None:
    assert (LAUNCH / "launch_utf16.ps1").read_bytes().startswith(codecs.BOM_UTF16_LE)


def test_java_setter_forms_and_comments() -> None:
    findings, _ = run_file("posture.launch", LAUNCH / "Pipeline.java")
    hits = [f for f in findings if f.rule_id == "DATAFLOW-004"]
    # the commented-out setExperiments line is not reported; addExperiment(…) on the next line is
    assert [f.location.line for f in hits] == [18]
    assert hits[0].evidence == DEPRECATED


def test_options_without_the_runner_leave_missing_settings_unjudged() -> None:
    # Kotlin/Scala code that takes its options from the command line: KMS/IP/SA may come from there.
    for name in ("Pipeline.kt", "Pipeline.scala", "main.go"):
        findings, _ = run_file("posture.launch", LAUNCH / name)
        assert {f.rule_id for f in findings} == {"DATAFLOW-004"}, name


def test_explicit_dataflow_launch_without_kms_is_judged() -> None:
    findings, _ = run_file("posture.launch", LAUNCH / "launch_utf16.ps1")
    assert {"DATAFLOW-001", "DATAFLOW-002", "DATAFLOW-003", "DATAFLOW-004"} <= {f.rule_id for f in findings}


def test_clean_launch_passes_dataflow_004() -> None:
    findings, _ = run_file("posture.launch", LAUNCH / "good.ps1")
    ids = {f.rule_id for f in findings}
    assert "DATAFLOW-004" not in ids and "DATAFLOW-001" not in ids


def test_comma_list_is_split_and_each_item_keeps_its_line(tmp_path: Path) -> None:
    text = 'args = [\n  "--experiments",\n  "use_runner_v2,enable_stackdriver_agent_metrics",\n]\n'
    findings, _ = run_text("posture.launch", tmp_path, "launch.groovy", text)
    assert [(f.rule_id, f.location.line) for f in findings] == [("DATAFLOW-004", 3)]


@pytest.mark.parametrize(
    ("filename", "text", "line"),
    [
        ("a.js", 'const args = ["--runner=DataflowRunner", "--experiments=enable_stackdriver_agent_metrics"];\n', 1),
        ("b.cs", 'var exps = new List<string>();\nexps.Add("x");\noptions.Experiments = new[] { "a" };\n', None),
        (
            "c.java",
            'List<String> experiments = new ArrayList<>();\nexperiments.add("enable_stackdriver_agent_metrics");\n',
            2,
        ),
        ("d.go", 'opts := Options{\n\tExperiments: []string{"enable_stackdriver_agent_metrics"},\n}\n', 2),
        ("e.txt", "--experiments enable_stackdriver_agent_metrics\n", 1),
        ("f.sh", "# --experiments=enable_stackdriver_agent_metrics\njava -jar p.jar --experiments=x\n", None),
    ],
)
def test_written_forms(tmp_path: Path, filename: str, text: str, line: int | None) -> None:
    p = tmp_path / filename
    p.write_text(text, encoding="utf-8")
    an = analyzer("posture.launch")
    entry = FileEntry(rel_path=filename, size=p.stat().st_size, abs_path=p)
    if not an.claims(entry):
        assert line is None
        return
    findings, _ = run_file("posture.launch", p)
    got = [f.location.line for f in findings if f.rule_id == "DATAFLOW-004"]
    assert got == ([] if line is None else [line])


def test_unknown_encoding_is_a_per_file_error_never_a_pass(tmp_path: Path) -> None:
    p = tmp_path / "launch.ps1"
    p.write_bytes("--experiments=x".encode("utf-16-le"))  # UTF-16 without a BOM: NUL bytes, encoding unknown
    an = analyzer("posture.launch")
    ctx = ScanContext(settings=Settings(), root=tmp_path)
    entry = FileEntry(rel_path=p.name, size=p.stat().st_size, abs_path=p)
    with pytest.raises(ParseError):
        list(an.analyze(entry, ctx))


def test_files_without_options_are_not_resources(tmp_path: Path) -> None:
    p = tmp_path / "notes.txt"
    p.write_text("We ran experiments = [many] of them.\n", encoding="utf-8")
    an = analyzer("posture.launch")
    ctx = ScanContext(settings=Settings(), root=tmp_path)
    entry = FileEntry(rel_path=p.name, size=p.stat().st_size, abs_path=p)
    if an.claims(entry):
        outs = list(an.analyze(entry, ctx))
        assert not [o for o in outs if not isinstance(o, Gap)] or all(
            getattr(o, "rule", "") != "DATAFLOW-004" for o in outs
        )


def test_token_budget() -> None:
    with pytest.raises(BudgetExceeded):
        tokenize("( " * (MAX_TOKENS + 10), "c", "big.java")


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("\"'`\\^#/*<>-=,;()[]{} \n\rab")), max_size=400))
def test_tokenizer_never_crashes_on_hostile_text(text: str) -> None:
    for family in ("shell", "powershell", "batch", "c", "generic"):
        toks = tokenize(text, family, "x")  # type: ignore[arg-type]
        assert all(t.line >= 1 for t in toks)
        assert all(t.line <= text.count("\n") + 1 for t in toks)
