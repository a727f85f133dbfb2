"""`--format json`: the versioned, documented report schema (see report/schema/report.schema.json).

Any change to the shape of this output bumps SCHEMA_VERSION (and the schema's `const`) with a
README note; docs/reports.md documents every field.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Iterable
from importlib import resources
from typing import Any, TextIO

from pydantic import BaseModel

from shareguard import __version__
from shareguard.catalog.model import Catalog
from shareguard.core.finding import Finding
from shareguard.core.result import ScanResult
from shareguard.report.options import ReportOptions
from shareguard.report.rollup import Rollup, rollup, severity_counts, status_counts

SCHEMA_VERSION = "2.1.0"
SCHEMA_RESOURCE = "schema/report.schema.json"


def report_schema() -> dict[str, Any]:
    """The shipped JSON Schema (draft 2020-12) of this report."""
    text = resources.files("shareguard.report").joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def control_rollup(result: ScanResult, catalog: Catalog) -> list[dict[str, Any]]:
    """Every duty of the catalog with its status and finding counts (the report's `controls[]`)."""
    return control_rows(rollup(result, catalog))


def control_rows(roll: Rollup) -> list[dict[str, Any]]:
    return [
        {
            "id": d.control.id,
            "service": d.service,
            "owner": d.owner.value,
            "title": d.control.title,
            "status": d.status.value,
            "counts": dict(d.counts),
            "frameworks": {k: list(v) for k, v in d.control.frameworks.items()},
            "evaluated": {"resources": d.resources, "rules": d.rules},
            "reason": d.reason,
            "gaps": [{"path": g.path, "reason": g.reason} for g in d.gaps[:MAX_GAPS]],
            "summary": d.summary(),
        }
        for d in roll.duties()
    ]


MAX_GAPS = 100
"""Gaps listed per duty (the verdict and the count in `summary` stand whatever is listed)."""


def scanned(result: ScanResult) -> dict[str, Any]:
    """What was scanned: per analyzer the inputs it evaluated and skipped; packages nobody could check."""
    return {
        "analyzers": [
            {
                "analyzer": name,
                "evaluated": log.evaluated,
                "evaluated_paths": list(log.evaluated_paths),
                "skipped": log.skipped_count,
                "skipped_paths": [{"path": p, "reason": r} for p, r in log.skipped],
            }
            for name, log in sorted(result.coverage.inputs.items())
        ],
        "unchecked_packages": [dict(n) for n in result.metadata.get("unchecked_packages", [])],
    }


def finding_dict(f: Finding, shared: dict[int, dict[str, Any]] | None = None) -> dict[str, Any]:
    """One entry of `findings[]`; `shared` memoises the parts many findings share (resource, remediation)."""
    memo = {} if shared is None else shared
    return {
        "rule_id": f.rule_id,
        "control_ids": list(f.control_ids),
        "severity": f.severity.value,
        "severity_source": f.severity_source.value,
        "title": f.title,
        "description": f.description,
        "status": f.status.value,
        "resource": _shared_fields(f.resource, memo),
        "location": _fields(f.location),
        "evidence": f.evidence,
        "remediation": _shared_fields(f.remediation, memo),
        "fingerprint": f.fingerprint,
        "analyzer": f.analyzer,
        "waiver": f.waiver,
        "properties": _jsonable(f.properties),
    }


def _shared_fields(model: BaseModel, memo: dict[int, dict[str, Any]]) -> dict[str, Any]:
    # Keyed by identity: the models are immutable and outlive the render, so an id cannot be reused meanwhile.
    out = memo.get(id(model))
    if out is None:
        out = memo[id(model)] = _fields(model)
    return out


def _fields(model: BaseModel) -> dict[str, Any]:
    """`model.model_dump(exclude_none=True)` for our flat models of plain fields, without the serializer's cost."""
    return {k: v for k, v in model.__dict__.items() if v is not None}


_PLAIN = frozenset({str, int, bool, type(None)})
_STR = frozenset({str})


def _jsonable(value: Any) -> Any:
    """Plugins promise JSON-serialisable properties; make the rest (sets, NaN, objects) valid JSON anyway."""
    if type(value) is dict and _PLAIN.issuperset(map(type, value.values())) and _STR.issuperset(map(type, value)):
        return value  # the usual flat mapping of strings: nothing to convert (the report copies nothing)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def report_dict(
    result: ScanResult, catalog: Catalog, *, findings: bool = True, packages: bool = False
) -> dict[str, Any]:
    """The report as a JSON-able document (`findings=False`: `findings` left empty, for a renderer that
    writes them itself; `packages=True`: the package inventory as `packages`, `--list-packages`)."""
    roll = rollup(result, catalog)
    shared: dict[int, dict[str, Any]] = {}
    shown = result.shown()
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "shareguard", "version": __version__},
        "command": result.command,
        "target": result.target,
        "started": result.started.isoformat(),
        "finished": result.finished.isoformat(),
        "metadata": _jsonable(result.metadata),
        "summary": {
            "findings": status_counts(shown),
            "by_severity": severity_counts(shown),
            "duties": roll.customer_status_counts(),
            "filtered_out": len(result.findings) - len(shown),
        },
        "findings": [finding_dict(f, shared) for f in shown] if findings else [],
        "controls": control_rows(roll),
        "scanned": scanned(result),
        "issues": [
            {"path": i.path, "message": i.message, "analyzer": i.analyzer, "kind": i.kind} for i in result.issues
        ],
        "expired_waivers": [
            {"source": w.source, "line": w.line, "expires": w.expires, "reason": w.reason, "matched": w.matched}
            for w in result.expired_waivers
        ],
        **ml_stack_section(result),
        **({"packages": package_section(result)} if packages else {}),
    }


def package_section(result: ScanResult) -> list[dict[str, Any]]:
    """`--list-packages`: every package found, with layer, ecosystem, purl, origin and ML build facts."""
    from shareguard.report.inventory import package_rows

    return package_rows(result)


def ml_stack_section(result: ScanResult) -> dict[str, Any]:
    """The optional top-level `ml_stack` key (images and root filesystems with CUDA, cuDNN, NCCL or a
    framework build): `{}` when the scan found none, so the key is absent."""
    from shareguard.core.facts import Package
    from shareguard.report.ml_stack import summary

    stack = summary(result.facts.of(Package))
    return {"ml_stack": stack} if stack is not None else {}


class JsonReporter:
    name = "json"
    commands: frozenset[str] | None = None

    def __init__(self, options: ReportOptions | None = None) -> None:
        self.options = options or ReportOptions()

    def with_options(self, options: ReportOptions) -> JsonReporter:
        return JsonReporter(options)

    def render(self, result: ScanResult, catalog: Catalog) -> str:
        buf = io.StringIO()
        self.write(result, catalog, buf)
        return buf.getvalue()

    def write(self, result: ScanResult, catalog: Catalog, out: TextIO) -> None:
        """The report written to `out` piece by piece: one finding line at a time, never the whole text at once."""
        doc = report_dict(result, catalog, findings=False, packages=self.options.list_packages)
        writer = _FindingWriter()
        write_document(doc, out, findings_lines=(writer.encode(f) for f in result.shown()))


# `indent` switches json to its pure-Python encoder (≈10x slower); findings are thousands of small objects, so
# each one is written on a line of its own by the C encoder and the rest of the document is indented as usual.
_COMPACT = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(", ", ": "))


def render_document(doc: dict[str, Any], *, findings_text: list[str] | None = None) -> str:
    """The report as text: indented, with one finding per line (`findings_text`: those lines, already encoded)."""
    buf = io.StringIO()
    write_document(doc, buf, findings_lines=findings_text)
    return buf.getvalue()


def write_document(doc: dict[str, Any], out: TextIO, *, findings_lines: Iterable[str] | None = None) -> None:
    """`render_document` written to `out`: the findings (`findings_lines` when given) one line per write."""
    out.write("{\n")
    first = True
    for key, value in doc.items():
        out.write(("" if first else ",\n") + f"  {json.dumps(key)}: ")
        first = False
        lines: Iterable[str] | None = findings_lines if key == "findings" and findings_lines is not None else None
        if lines is None and key == "findings" and value:
            lines = (_COMPACT.encode(f) for f in value)
        if lines is not None and _write_lines(lines, out):
            continue
        out.write(json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False).replace("\n", "\n  "))
    out.write("\n}\n")


def _write_lines(lines: Iterable[str], out: TextIO) -> bool:
    """`[` + the lines, one per row + `]`; False (nothing written) when there are none."""
    sep = "[\n    "
    for line in lines:
        out.write(sep)
        out.write(line)
        sep = ",\n    "
    if sep == "[\n    ":
        return False
    out.write("\n  ]")
    return True


_enc_str = json.encoder.encode_basestring  # what _COMPACT uses for strings (the C version when present)
_MEMO_ENTRIES = 16_384
"""Encoded parts kept per memo: the values findings share recur early; unique ones (a path per finding) would
only hold the report's text in memory again."""


class _FindingWriter:
    """`_COMPACT.encode(finding_dict(f))` for each finding, written field by field.

    Findings of one run repeat most of their text (description, resource, remediation, control ids): those
    parts are encoded once and reused, which is most of the report's cost for thousands of findings."""

    def __init__(self) -> None:
        self._memo: dict[Any, str] = {}
        self._models: dict[int, str] = {}

    def lines(self, findings: list[Finding]) -> list[str]:
        return [self.encode(f) for f in findings]

    def _text(self, value: str | None) -> str:
        if value is None:
            return "null"
        out = self._memo.get(value)
        if out is None:
            out = _enc_str(value)
            if len(self._memo) < _MEMO_ENTRIES:
                self._memo[value] = out
        return out

    def _model(self, model: BaseModel) -> str:
        # Keyed by identity: the models are immutable and outlive the render, so an id cannot be reused meanwhile.
        out = self._models.get(id(model))
        if out is None:
            out = _COMPACT.encode(_fields(model))
            if len(self._models) < _MEMO_ENTRIES:
                self._models[id(model)] = out
        return out

    def _ids(self, ids: tuple[str, ...]) -> str:
        out = self._memo.get(ids)
        if out is None:
            out = self._memo[ids] = _COMPACT.encode(list(ids))
        return out

    def encode(self, f: Finding) -> str:
        if type(f.control_ids) is not tuple or not all(type(c) is str for c in f.control_ids):
            return _COMPACT.encode(finding_dict(f))  # not the usual shape: the plain way
        text = self._text  # memoised: values many findings repeat
        evidence = f.evidence
        return (
            f'{{"rule_id": {text(f.rule_id)}, "control_ids": {self._ids(f.control_ids)}, '
            f'"severity": {text(f.severity.value)}, "severity_source": {text(f.severity_source.value)}, '
            f'"title": {_enc_str(f.title)}, "description": {text(f.description)}, "status": {text(f.status.value)}, '
            f'"resource": {self._model(f.resource)}, "location": {self._flat(f.location.__dict__)}, '
            f'"evidence": {"null" if evidence is None else _enc_str(evidence)}, '
            f'"remediation": {self._model(f.remediation)}, "fingerprint": {_enc_str(f.fingerprint)}, '
            f'"analyzer": {text(f.analyzer)}, "waiver": {text(f.waiver)}, '
            f'"properties": {self._flat(_jsonable(f.properties), skip_none=False)}}}'
        )

    def _flat(self, values: dict[str, Any], *, skip_none: bool = True) -> str:
        """A flat mapping of strings and integers (a location, the usual properties) as the encoder writes it."""
        parts: list[str] = []
        for k, v in values.items():
            t = type(v)
            if v is None:
                if skip_none:
                    continue
                enc = "null"
            elif t is str:
                enc = _enc_str(v)
            elif t is int:
                enc = int.__repr__(v)
            else:
                return _COMPACT.encode({k: v for k, v in values.items() if not (skip_none and v is None)})
            if type(k) is not str:
                return _COMPACT.encode({k: v for k, v in values.items() if not (skip_none and v is None)})
            parts.append(f"{self._text(k)}: {enc}")
        return "{" + ", ".join(parts) + "}"
