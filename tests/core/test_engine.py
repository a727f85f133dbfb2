"""The engine: entries go to the analyzers that claim them; one broken file never stops a scan."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from shareguard.core.analyzer import FileAnalyzer, Output, PostAnalyzer
from shareguard.core.context import ScanContext
from shareguard.core.engine import scan_entries
from shareguard.core.entry import FileEntry
from shareguard.core.errors import ParseError
from shareguard.core.facts import FactStore, TextField
from shareguard.core.masking import mask
from shareguard.core.registry import Registries
from shareguard.core.resource import Location, Resource
from shareguard.core.rules import RuleMeta
from shareguard.core.settings import Settings
from shareguard.core.severity import Severity
from shareguard.sources.workspace import walk

WILDCARD = RuleMeta(
    id="T-IAM-WILDCARD",
    title="IAM statement allows every action",
    severity=Severity.HIGH,
    control_ids=("IAM-C-02",),
    remediation="List the actions the workload needs.",
)
SECRET_TAG = RuleMeta(
    id="T-TAG-SECRET",
    title="Secret-looking value in a tag",
    severity=Severity.MEDIUM,
    control_ids=("STORAGE-C-04",),
    remediation="Move secrets out of tags.",
)


class PolicyAnalyzer:
    """Claims `*.json` with a `Statement`; a JSON error is a per-file ParseError."""

    name = "test.iam_policy"
    version = "1"
    controls = ("IAM-C-02",)

    def claims(self, entry: FileEntry) -> bool:
        return entry.suffix == ".json" and b"Statement" in entry.head()

    def analyze(self, entry: FileEntry, ctx: ScanContext) -> Iterable[Output]:
        try:
            doc = json.loads(entry.read(1 << 20))
        except json.JSONDecodeError as exc:
            raise ParseError(f"invalid JSON: {exc.msg}", path=entry.rel_path, line=exc.lineno) from None
        for i, st in enumerate(doc.get("Statement", [])):
            if st.get("Action") == "*":
                yield WILDCARD.finding(
                    Resource(type="iam_policy", path=entry.rel_path),
                    location=Location(field_path=f"Statement[{i}].Action"),
                    evidence='"Action": "*"',
                    analyzer=self.name,
                )
            for key, value in st.get("Tags", {}).items():
                yield TextField(value, Resource(type="iam_policy", path=entry.rel_path), Location(), key)


class CrashingAnalyzer:
    """Claims `*.bad` and fails as hostile input makes parsers fail."""

    name = "test.crash"
    version = "1"
    controls = ("DLC-C-03",)

    def claims(self, entry: FileEntry) -> bool:
        return entry.suffix == ".bad"

    def analyze(self, entry: FileEntry, ctx: ScanContext) -> Iterable[Output]:
        raise RecursionError("maximum recursion depth exceeded")


class TagPost:
    name = "test.tags"
    version = "1"
    order = 10
    controls = ("STORAGE-C-04",)
    inputs = (TextField,)

    def analyze(self, facts: FactStore, ctx: ScanContext) -> Iterable[Output]:
        for tf in facts.of(TextField):
            if tf.value.startswith("sk_"):
                yield SECRET_TAG.finding(tf.resource, evidence=mask(tf.value), analyzer=self.name)


def _registries(post: bool = True) -> Registries:
    regs = Registries()
    regs.of(FileAnalyzer).add("test.iam_policy", PolicyAnalyzer())  # type: ignore[type-abstract]
    regs.of(FileAnalyzer).add("test.crash", CrashingAnalyzer())  # type: ignore[type-abstract]
    if post:
        regs.of(PostAnalyzer).add("test.tags", TagPost())  # type: ignore[type-abstract]
    return regs


def _workspace(tmp_path: Path) -> Path:
    (tmp_path / "iam").mkdir()
    policy = {"Statement": [{"Action": "*", "Resource": "*", "Tags": {"k": "sk_live_0123456789abcdef"}}]}
    (tmp_path / "iam" / "a.json").write_text(json.dumps(policy), encoding="utf-8")
    (tmp_path / "iam" / "broken.json").write_text('{"Statement": [', encoding="utf-8")
    (tmp_path / "z.bad").write_text("x", encoding="utf-8")
    (tmp_path / "zz.json").write_text(json.dumps(policy), encoding="utf-8")
    (tmp_path / "README.md").write_text("# not claimed\n", encoding="utf-8")
    return tmp_path


def _scan(root: Path, regs: Registries) -> tuple[ScanContext, list]:
    ctx = ScanContext(settings=Settings(), root=root)
    res = scan_entries("audit", str(root), walk(root, ctx), regs, ctx)
    return ctx, res.findings


def test_per_file_errors_are_recorded_and_the_scan_goes_on(tmp_path: Path) -> None:
    root = _workspace(tmp_path)
    ctx, findings = _scan(root, _registries())
    errors = {(i.path, i.analyzer) for i in ctx.issues if i.kind == "error"}
    assert errors == {("iam/broken.json", "test.iam_policy"), ("z.bad", "test.crash")}
    broken = next(i for i in ctx.issues if i.path == "iam/broken.json")
    assert broken.message.startswith("invalid JSON")
    # Files after the broken ones were still analyzed.
    paths = sorted(f.resource.path for f in findings if f.rule_id == "T-IAM-WILDCARD")
    assert paths == ["iam/a.json", "zz.json"]


def test_post_analyzers_read_facts_and_mask(tmp_path: Path) -> None:
    root = _workspace(tmp_path)
    ctx, findings = _scan(root, _registries())
    tags = [f for f in findings if f.rule_id == "T-TAG-SECRET"]
    assert len(tags) == 2
    assert all("sk_live_0123456789abcdef" not in (f.evidence or "") for f in tags)
    assert {"IAM-C-02", "DLC-C-03", "STORAGE-C-04"} <= set(ctx.coverage.duties)


def test_post_analyzer_without_its_inputs_does_not_run(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("nothing\n", encoding="utf-8")
    ctx, findings = _scan(tmp_path, _registries())
    assert findings == [] and ctx.issues == []
    assert ctx.coverage.duties == {}, "no analyzer claimed anything: every duty stays not assessed"


def test_duplicate_findings_are_merged(tmp_path: Path) -> None:
    policy = {"Statement": [{"Action": "*"}, {"Action": "*"}]}
    (tmp_path / "p.json").write_text(json.dumps(policy), encoding="utf-8")
    _, findings = _scan(tmp_path, _registries(post=False))
    # Two statements: different field paths, two findings; scanning twice in one result would not add more.
    assert len(findings) == 2 and len({f.fingerprint for f in findings}) == 2
