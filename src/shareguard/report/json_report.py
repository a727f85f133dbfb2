"""`--format json`: the versioned, documented report schema (see report/schema/report.schema.json).

Any change to the shape of this output bumps SCHEMA_VERSION (and the schema's `const`) with a
README note; docs/reports.md documents every field.
"""

from __future__ import annotations

import json
import math
from importlib import resources
from typing import Any

from pydantic import BaseModel

from shareguard import __version__
from shareguard.catalog.model import Catalog
from shareguard.core.finding import Finding
from shareguard.core.result import ScanResult
from shareguard.report.rollup import Rollup, rollup, severity_counts, status_counts

SCHEMA_VERSION = "1.0.0"
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
        }
        for d in roll.duties()
    ]


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


def report_dict(result: ScanResult, catalog: Catalog) -> dict[str, Any]:
    roll = rollup(result, catalog)
    shared: dict[int, dict[str, Any]] = {}
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "shareguard", "version": __version__},
        "command": result.command,
        "target": result.target,
        "started": result.started.isoformat(),
        "finished": result.finished.isoformat(),
        "metadata": _jsonable(result.metadata),
        "summary": {
            "findings": status_counts(result.findings),
            "by_severity": severity_counts(result.findings),
            "duties": roll.customer_status_counts(),
        },
        "findings": [finding_dict(f, shared) for f in result.findings],
        "controls": control_rows(roll),
        "issues": [
            {"path": i.path, "message": i.message, "analyzer": i.analyzer, "kind": i.kind} for i in result.issues
        ],
        "expired_waivers": [
            {"source": w.source, "line": w.line, "expires": w.expires, "reason": w.reason, "matched": w.matched}
            for w in result.expired_waivers
        ],
    }


class JsonReporter:
    name = "json"
    commands: frozenset[str] | None = None

    def render(self, result: ScanResult, catalog: Catalog) -> str:
        return render_document(report_dict(result, catalog))


# `indent` switches json to its pure-Python encoder (≈10x slower); findings are thousands of small objects, so
# each one is written on a line of its own by the C encoder and the rest of the document is indented as usual.
_COMPACT = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(", ", ": "))


def render_document(doc: dict[str, Any]) -> str:
    """The report as text: indented, with one finding per line."""
    parts: list[str] = []
    for key, value in doc.items():
        if key == "findings" and value:
            body = ",\n    ".join(_COMPACT.encode(f) for f in value)
            text = f"[\n    {body}\n  ]"
        else:
            text = json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False).replace("\n", "\n  ")
        parts.append(f"  {json.dumps(key)}: {text}")
    return "{\n" + ",\n".join(parts) + "\n}\n"
