"""The sensitive-data file analyzer: one `FileEntry` in, masked findings, evaluations and gaps out.

The same analyzer runs on a workspace (`audit`, `data`), on every file of an image layer and on a root
filesystem (`image`, `rootfs`), and on object-store objects (`data s3://…`), through the one analyzer model.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import cache

from shareguard.core.analyzer import Output, PathHint
from shareguard.core.context import ScanContext
from shareguard.core.coverage import Evaluation, Gap
from shareguard.core.entry import FileEntry
from shareguard.core.masking import mask, mask_url
from shareguard.core.resource import Resource
from shareguard.core.result import HIDDEN
from shareguard.core.rules import RuleMeta, load_package_rules
from shareguard.core.severity import Severity
from shareguard.sensitive.binary import classify, unsupported_reason
from shareguard.sensitive.catalog import Confidence
from shareguard.sensitive.engine import engine
from shareguard.sensitive.formats import (
    ARCHIVES,
    BINARY_SUFFIXES,
    COMPRESSED,
    DATA_SUFFIXES,
    Limits,
    Located,
    Outcome,
    Scanner,
    is_binary,
    sniff_kind,
    truncation_skip,
)
from shareguard.sensitive.options import SensitiveOptions
from shareguard.sensitive.split import SPLITTABLE, Block

VERSION = "1"
ALL_RULES = ("DATA-001", "DATA-002", "DATA-003")
RULE_OF = {"personal": "DATA-001", "financial": "DATA-002", "credential": "DATA-003"}
DETECTION_FLOOR = Confidence.POSSIBLE
"""Matches under this likelihood are detections only where `--min-confidence` is set lower."""
BELOW_THRESHOLD = "below the confidence threshold"
"""Why a finding is hidden (`core.result.HIDDEN`): its confidence is under `--min-confidence`."""
PERSON_NAMES = "sensitive: person names"
PERSON_NAMES_WHY = "no named-entity model installs from PyPI with shareguard; see docs/sensitive.md"
CONFIG_SUFFIXES = (".tf", ".tfvars", ".hcl", ".yaml", ".yml", ".toml", ".cfg", ".ini", ".conf")
"""Configuration formats: the configuration checks read their fields (a secret there is reported once, by
them), except under `shareguard data`, which scans every file."""
CONFIG_NAMES = ("dockerfile", "containerfile")
SECRET_NAMES = (".env", ".npmrc", ".pypirc", ".netrc", ".git-credentials", "credentials", ".pem", ".key", ".p8")
CODE_SUFFIXES = (".py", ".sh", ".bash", ".js", ".ts", ".go", ".java", ".scala", ".r", ".sql", ".properties", ".md")


@cache
def rules() -> dict[str, RuleMeta]:
    return load_package_rules("shareguard.sensitive", "rules.yaml")


def _wanted_name(path: str, opts: SensitiveOptions) -> bool:
    low = path.lower()
    name = low.rsplit("/", 1)[-1]
    if opts.all_files:  # every object: a binary one is classified as a format without text, or unsupported
        return True
    if name.endswith(tuple(BINARY_SUFFIXES)):
        return False
    if name.startswith(CONFIG_NAMES) or name.endswith(CONFIG_SUFFIXES):
        return False
    return (
        name.endswith(DATA_SUFFIXES + COMPRESSED + ARCHIVES + CODE_SUFFIXES)
        or name.endswith(SECRET_NAMES)
        or name.startswith(".env")
    )


def _sampled(path: str, percent: int) -> bool:
    if percent >= 100:
        return True
    digest = hashlib.blake2b(path.encode("utf-8", "surrogatepass"), digest_size=2).digest()
    return int.from_bytes(digest, "big") % 100 < percent


@dataclass
class SensitiveAnalyzer:
    name: str = "sensitive.files"
    version: str = VERSION
    controls: tuple[str, ...] = ("STORAGE-C-03", "IAM-C-05")
    path_hint: PathHint = field(default_factory=lambda: PathHint(prefixes=("",)))
    options: SensitiveOptions | None = None
    """Fixed options (tests, object stores); otherwise the scan's `SensitiveOptions`."""

    def required(self, path: str, size: int) -> bool:
        return size > 0 and _wanted_name(path, self.options or SensitiveOptions())

    def claims(self, entry: FileEntry) -> bool:
        if entry.size == 0:
            return False
        return _wanted_name(entry.rel_path, self.options or SensitiveOptions())

    def analyze(self, entry: FileEntry, ctx: ScanContext) -> Iterable[Output]:
        opts = self.options or ctx.options.get(SensitiveOptions)
        if not _wanted_name(entry.rel_path, opts):
            return
        if not _sampled(entry.rel_path, opts.sample_percent):
            why = f"not in the {opts.sample_percent}% sample"
            ctx.coverage.input_skipped(self.name, entry.rel_path, why)
            # An object left out of the sample was not checked: its duties are incomplete, never a pass.
            meta = rules()
            skipped = _evaluates(entry.rel_path, opts, ctx)
            if skipped:
                yield Gap(tuple(sorted({c for rid in skipped for c in meta[rid].control_ids})), entry.rel_path, why)
            return
        limit = opts.max_bytes_per_object
        with entry.open() as fh:
            data = fh.read(limit + 1)
        truncated = len(data) > limit
        data = data[:limit]
        if is_binary(data[:8192]) and not _container(entry.rel_path, data):
            fmt = classify(entry.rel_path, data[:64])
            if not fmt.carries_data:  # an image, a font, compiled code: nothing to classify in it
                ctx.coverage.input_skipped(self.name, entry.rel_path, fmt.reason)
                return
            why = unsupported_reason(fmt)
            ctx.coverage.input_skipped(self.name, entry.rel_path, why)
            evaluates = _evaluates(entry.rel_path, opts, ctx)
            if "DATA-001" in evaluates:  # data at rest that could not be read: its duties cannot pass
                meta = rules()
                yield Gap(tuple(sorted({c for rid in evaluates for c in meta[rid].control_ids})), entry.rel_path, why)
            return
        outcome = Scanner(engine(), Limits(max_bytes=limit)).scan(entry.rel_path, data, truncated=truncated)
        yield from findings_of(
            entry.rel_path, outcome, opts, ctx, layer=entry.layer, evaluates=_evaluates(entry.rel_path, opts, ctx)
        )


def split_kind(path: str, head: bytes, opts: SensitiveOptions) -> str | None:
    """The scanner kind (`split.SPLITTABLE`) of an object `analyze` would scan as lines, which may therefore be
    cut into byte ranges; None for anything else (not wanted, not in the sample, binary, a container, JSON)."""
    if not _wanted_name(path, opts) or not _sampled(path, opts.sample_percent):
        return None
    if is_binary(head[:8192]) or _container(path, head):
        return None
    kind = sniff_kind(path, head[:8192])
    return kind if kind in SPLITTABLE else None


def analyze_part(path: str, kind: str, block: Block, index: int, ctx: ScanContext) -> Iterator[Output]:
    """One byte range of an object `split_kind` accepted: the findings of the values that start in the
    part's own lines, every one (the per-detector cap applies to the merged object), with line numbers and
    CSV/JSONL record numbers relative to the part's first line. Part 0 also yields the object's
    evaluations and its truncation gap, as `analyze` does for the whole object."""
    opts = ctx.options.get(SensitiveOptions)
    outcome = Scanner(engine(), Limits(max_bytes=opts.max_bytes_per_object)).scan_lines(kind, path, block.data)
    shift = block.first_line - 1
    own = Outcome(scanned_bytes=block.own_end - block.own_start)
    for loc in outcome.hits:
        if block.own_start <= loc.hit.start < block.own_end:
            own.hits.append(_shifted(loc, -shift))
    evaluates: tuple[str, ...] = ()
    if index == 0:
        evaluates = _evaluates(path, opts, ctx)
        if block.object_size > opts.max_bytes_per_object:
            own.skips.append(truncation_skip(path, opts.max_bytes_per_object))
    every = replace(opts, max_findings_per_detector=0)
    yield from findings_of(path, own, every, ctx, evaluates=evaluates)


def _shifted(loc: Located, by: int) -> Located:
    where = loc.location
    record = where.record
    if record is not None and record.isdigit():
        record = str(int(record) + by)
    return Located(loc.hit, where.model_copy(update={"line": (where.line or 1) + by, "record": record}))


def _container(path: str, data: bytes) -> bool:
    head = data[:300]
    return (
        path.lower().endswith(COMPRESSED + ARCHIVES + (".parquet",))
        or head.startswith((b"PAR1", b"\x1f\x8b", b"PK\x03\x04", b"BZh", b"\xfd7zXZ\x00", b"\x28\xb5\x2f\xfd"))
        or head[257:262] == b"ustar"
    )


def _evaluates(path: str, opts: SensitiveOptions, ctx: ScanContext) -> tuple[str, ...]:
    """The rules a scan of this file evaluates (what its duties may pass on): data files are data at rest
    (all three); files that hold credentials by their nature, and every file of an image or root filesystem,
    are where credentials must not be (DATA-003); code and documents in a workspace get findings but
    assess no duty (a hello-world script is not evidence that credentials are kept out of anything)."""
    name = path.lower().rsplit("/", 1)[-1]
    if opts.all_files or name.endswith(DATA_SUFFIXES + COMPRESSED + ARCHIVES):
        return ALL_RULES
    if ctx.command in ("image", "rootfs") or name.endswith(SECRET_NAMES) or name.startswith(".env"):
        return ("DATA-003",)
    return ()


def findings_of(
    path: str,
    outcome: Outcome,
    opts: SensitiveOptions,
    ctx: ScanContext,
    *,
    layer: str | None = None,
    evaluates: tuple[str, ...] = ("DATA-001", "DATA-002", "DATA-003"),
    resource_type: str = "file",
) -> Iterator[Output]:
    """Masked findings, the per-object summary, evaluations and gaps of one scanned object."""
    meta = rules()
    resource = Resource(type=resource_type, path=path)
    counts: Counter[str] = Counter()
    shown: Counter[tuple[str, bool]] = Counter()
    # As DLP's default minimum likelihood: under `possible` a match is no detection (a MAC address with no
    # context word), unless the user lowers `--min-confidence` to see such matches, which then count too.
    floor = min(opts.min_confidence, DETECTION_FLOOR)
    for loc in outcome.hits:
        hit = loc.hit
        det = hit.detector
        if hit.confidence < floor:
            continue
        # `--min-confidence` above the floor filters what is shown, never what is decided: a detection under
        # the threshold is a finding reports do not list, and it still fails its duty.
        below = hit.confidence < opts.min_confidence
        counts[det.id] += 1
        if opts.max_findings_per_detector and shown[det.id, below] >= opts.max_findings_per_detector:
            continue
        shown[det.id, below] += 1
        yield _finding(meta[RULE_OF[det.category]], resource, loc, hit.confidence, layer, hidden=below)
    if "DATA-001" in evaluates:
        # Person names need a NER model, and none installs with shareguard (docs/sensitive.md): the report says
        # they were not looked for, instead of letting the personal-data duty pass as if they had been.
        ctx.metadata.setdefault("not_assessed", {})[PERSON_NAMES] = PERSON_NAMES_WHY
    if counts:
        summary = ctx.metadata.setdefault("sensitive_summary", {})
        summary[path] = dict(sorted(counts.items()))
    for rid in evaluates:
        yield Evaluation(rid, meta[rid].control_ids, path)
    for where, why in outcome.skips:
        controls = tuple(sorted({c for rid in evaluates or ALL_RULES for c in meta[rid].control_ids}))
        shown_where = path if where == path else f"{path}!{where}" if where else path
        yield Gap(controls, shown_where, why)


def _finding(
    rule: RuleMeta, resource: Resource, loc: Located, confidence: Confidence, layer: str | None, *, hidden: bool
) -> Output:
    hit = loc.hit
    det = hit.detector
    evidence = mask_url(hit.value) if det.url else mask(hit.value)
    if det.url and evidence == hit.value:  # a query secret mask_url did not know: mask all but the scheme
        evidence = mask(hit.value, keep=8)
    location = loc.location.model_copy(update={"layer_digest": layer}) if layer else loc.location
    where = f" in {location.field_path}" if location.field_path else ""
    return rule.finding(
        resource,
        location=location,
        evidence=evidence,
        title=f"{det.label.capitalize()}{where} ({confidence.label})",
        severity=Severity(det.severity) if det.severity else None,
        analyzer="sensitive.files",
        properties={
            "detector": det.id,
            "category": det.category,
            "confidence": confidence.label,
            **({HIDDEN: BELOW_THRESHOLD} if hidden else {}),
        },
    )
