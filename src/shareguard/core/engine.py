"""The scan engine: hand each entry to the analyzers that claim it, then run post analyzers."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from shareguard.core.analyzer import FileAnalyzer, Output, PostAnalyzer, RuleProvider, runs_on
from shareguard.core.context import ScanContext
from shareguard.core.coverage import Evaluation, Evaluations, Gap, Unassessed, resource_key
from shareguard.core.entry import FileEntry
from shareguard.core.errors import ShareguardError
from shareguard.core.facts import Fact
from shareguard.core.finding import Finding
from shareguard.core.registry import Registries
from shareguard.core.result import ScanResult
from shareguard.core.rules import RuleMeta


def collect_rules(registries: Registries) -> dict[str, RuleMeta]:
    out: dict[str, RuleMeta] = {}
    for provider in registries.of(RuleProvider):  # type: ignore[type-abstract]
        for rule in provider.rules():
            out[rule.id] = rule
    return out


def consume(outputs: Iterable[Output], findings: list[Finding], ctx: ScanContext) -> None:
    """File an analyzer's outputs: findings (each also an evaluation of its rule), facts, coverage records."""
    coverage = ctx.coverage
    facts = ctx.facts
    for out in outputs:
        # Plain classes first: `isinstance` of anything but a Finding against the pydantic model costs more.
        if isinstance(out, Evaluations):
            coverage.evaluated_all(out.rules, out.resource)
        elif isinstance(out, Fact):
            facts.add(out)
        elif isinstance(out, Finding):
            findings.append(out)
            coverage.evaluated(out.rule_id, out.control_ids, resource_key(out))
        elif isinstance(out, Evaluation | Evaluations | Gap | Unassessed):
            coverage.add(out)
        else:  # pragma: no cover - a plugin bug
            raise TypeError(f"analyzer yielded {type(out).__name__}, not a Finding, Fact or coverage record")


def analyze_entries(
    entries: Iterable[FileEntry],
    analyzers: list[FileAnalyzer],
    ctx: ScanContext,
    findings: list[Finding],
    on_entry: Callable[[FileEntry], None] | None = None,
) -> None:
    """Offer every entry to every analyzer; a per-file error is recorded and the scan goes on.

    The workspace source: every file is offered to `claims` (a head read is cheap on disk). Image
    layers and root filesystems go through `core/dispatch.py`, which asks the path predicates first;
    both end in `analyze_entry`."""
    declare_scopes(analyzers, ctx)
    for entry in entries:
        if on_entry is not None:
            on_entry(entry)
        for analyzer in analyzers:
            if claimed(analyzer, entry, ctx):
                analyze_entry(analyzer, entry, ctx, findings)


def declare_scopes(analyzers: Iterable[FileAnalyzer], ctx: ScanContext) -> None:
    """Record each analyzer's duties: what a file it cannot analyse leaves incomplete."""
    for analyzer in analyzers:
        ctx.coverage.scopes[analyzer.name] = tuple(analyzer.controls)


def claimed(analyzer: FileAnalyzer, entry: FileEntry, ctx: ScanContext) -> bool:
    """`analyzer.claims(entry)`; a claim that fails to read the entry is a per-file error."""
    try:
        return analyzer.claims(entry)
    except (OSError, ShareguardError) as exc:
        ctx.error(entry.rel_path, _msg(exc), analyzer.name)
        return False


def analyze_entry(analyzer: FileAnalyzer, entry: FileEntry, ctx: ScanContext, findings: list[Finding]) -> None:
    """Run one analyzer on one entry it claimed and file its outputs (`consume`); a hostile or broken
    file, or an analyzer bug, becomes `ctx.error` for that file and the scan goes on. The input counts
    as evaluated when the analyzer reported no error for it."""
    errors = len(ctx.issues)
    try:
        consume(analyzer.analyze(entry, ctx), findings, ctx)
    except ShareguardError as exc:
        ctx.error(entry.rel_path, _msg(exc), analyzer.name)
    except (OSError, RecursionError, MemoryError, UnicodeError, ValueError) as exc:
        # A hostile or broken file must not stop the rest of the scan.
        ctx.error(entry.rel_path, f"{type(exc).__name__}: {exc}", analyzer.name)
    except Exception as exc:  # an analyzer bug must not lose the rest of the scan
        ctx.error(
            entry.rel_path,
            f"internal error in {analyzer.name} ({type(exc).__name__}: {exc}); please report it",
            analyzer.name,
        )
    else:
        if not any(i.kind == "error" and i.analyzer == analyzer.name for i in ctx.issues[errors:]):
            ctx.coverage.input_evaluated(analyzer.name, entry.rel_path)


def run_post_analyzers(registries: Registries, ctx: ScanContext, findings: list[Finding]) -> None:
    posts = sorted(registries.of(PostAnalyzer), key=lambda p: p.order)  # type: ignore[type-abstract]
    for post in posts:
        ctx.coverage.scopes[post.name] = tuple(post.controls)
    for post in posts:
        if post.inputs and not any(ctx.facts.of(t) for t in post.inputs):
            continue
        try:
            consume(post.analyze(ctx.facts, ctx), findings, ctx)
        except ShareguardError as exc:
            ctx.error(ctx.root.as_posix() if ctx.root else "-", _msg(exc), post.name)
        except Exception as exc:  # a post-analyzer bug is reported, the scan result kept
            ctx.error(
                ctx.root.as_posix() if ctx.root else "-",
                f"internal error in {post.name} ({type(exc).__name__}: {exc}); please report it",
                post.name,
            )


def scan_entries(
    command: str,
    target: str,
    entries: Iterable[FileEntry],
    registries: Registries,
    ctx: ScanContext,
    *,
    analyzer_filter: Callable[[FileAnalyzer], bool] | None = None,
    on_entry: Callable[[FileEntry], None] | None = None,
) -> ScanResult:
    """Run a workspace scan end to end and return its result (before waivers): the file analyzers that
    run on a workspace (`runs_on`) and that `analyzer_filter` keeps."""
    started = datetime.now(UTC)
    analyzers = [
        a
        for a in registries.of(FileAnalyzer)  # type: ignore[type-abstract]
        if runs_on(a, "workspace") and (analyzer_filter is None or analyzer_filter(a))
    ]
    findings: list[Finding] = []
    analyze_entries(entries, analyzers, ctx, findings, on_entry)
    run_post_analyzers(registries, ctx, findings)
    return finish(command, target, started, findings, registries, ctx)


def finish(
    command: str,
    target: str,
    started: datetime,
    findings: list[Finding],
    registries: Registries,
    ctx: ScanContext,
) -> ScanResult:
    return ScanResult(
        command=command,
        target=target,
        started=started,
        finished=datetime.now(UTC),
        findings=_dedupe(findings),
        facts=ctx.facts,
        coverage=ctx.coverage,
        issues=list(ctx.issues),
        rules=collect_rules(registries),
        metadata=dict(ctx.metadata),
    )


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen: set[str] = set()
    out: list[Finding] = []
    for f in findings:
        if f.fingerprint in seen:
            continue
        seen.add(f.fingerprint)
        out.append(f)
    return out


def _msg(exc: BaseException) -> str:
    if isinstance(exc, ShareguardError):
        return exc.message
    return str(exc)
