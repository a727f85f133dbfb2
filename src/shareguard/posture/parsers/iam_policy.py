"""IAM policy documents: AWS (standalone JSON, and the normaliser the Terraform/CloudFormation parsers use for
embedded policies) and GCP (`gcloud … get-iam-policy --format=json`: bindings, conditions, auditConfigs).

Canonical resources:
- `aws.iam.policy`: `statements` = [{sid, effect, actions, not_actions, resources, not_resources, principals,
  not_principals, conditions}] (lists always; principals `{"AWS": [...], "Service": [...], "*": ["*"]}`;
  conditions `{operator: {key: [values]}}`), `context` = identity | trust | bucket | key | unknown.
- `gcp.iam.policy`: `bindings` = [{role, members, condition}], `audit_configs` = [{service, log_types}],
  `scope` = project | bucket | service_account | organization | folder | resource.
"""

from __future__ import annotations

import json
import re
from typing import Any

from shareguard.core.context import ScanContext
from shareguard.core.entry import FileEntry
from shareguard.posture.model import PostureResource
from shareguard.posture.parsers._common import LineIndex, as_list, json_head, json_path, load_json_text
from shareguard.posture.plugin import ANY_PATH, FormatSpec

AWS_CONTEXTS = ("identity", "trust", "bucket", "key", "unknown")


def _strs(value: Any) -> list[str]:
    return [v if isinstance(v, str) else json.dumps(v, sort_keys=True) for v in as_list(value)]


def _principals(value: Any) -> dict[str, list[str]] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return {"*": ["*"]} if value.strip() == "*" else {"AWS": [value]}
    if isinstance(value, dict):
        return {str(k): _strs(v) for k, v in value.items()}
    return {"AWS": _strs(value)}


def _conditions(value: Any) -> dict[str, dict[str, list[str]]]:
    out: dict[str, dict[str, list[str]]] = {}
    if not isinstance(value, dict):
        return out
    for op, body in value.items():
        if isinstance(body, dict):
            out[str(op)] = {str(k): _strs(v) for k, v in body.items()}
    return out


def normalize_statement(st: Any) -> dict[str, Any] | None:
    """One AWS statement in the canonical shape; None when it is not a statement object."""
    if not isinstance(st, dict):
        return None
    g = {str(k).lower(): v for k, v in st.items()}
    effect = g.get("effect")
    return {
        "sid": g.get("sid") if isinstance(g.get("sid"), str) else None,
        "effect": effect if isinstance(effect, str) else "Allow",
        "actions": _strs(g.get("action")),
        "not_actions": _strs(g.get("notaction")),
        "resources": _strs(g.get("resource")),
        "not_resources": _strs(g.get("notresource")),
        "principals": _principals(g.get("principal")),
        "not_principals": _principals(g.get("notprincipal")),
        "conditions": _conditions(g.get("condition")),
    }


def normalize_aws_policy(doc: Any) -> list[dict[str, Any]]:
    """Statements of an AWS policy document (a JSON string or a parsed document); [] when it is not one."""
    if isinstance(doc, str):
        text = doc.strip()
        if not text.startswith("{"):
            return []
        try:
            doc = json.loads(text)
        except (json.JSONDecodeError, RecursionError):
            return []
    if not isinstance(doc, dict):
        return []
    lowered = {str(k).lower(): v for k, v in doc.items()}
    stmts = lowered.get("statement")
    out = []
    for st in as_list(stmts):
        norm = normalize_statement(st)
        if norm is not None:
            out.append(norm)
    return out


def from_policy_document_blocks(statements: Any) -> list[dict[str, Any]]:
    """Terraform `data "aws_iam_policy_document"` statement blocks → canonical statements."""
    out = []
    for st in as_list(statements):
        if not isinstance(st, dict):
            continue
        principals: dict[str, list[str]] | None = None
        for p in as_list(st.get("principals")):
            if isinstance(p, dict):
                kind = str(p.get("type", "AWS"))
                ids = _strs(p.get("identifiers"))
                principals = principals or {}
                if kind == "*" or (ids == ["*"] and kind == "AWS"):
                    principals.setdefault("*", []).append("*")
                principals.setdefault(kind, []).extend(ids)
        conditions: dict[str, dict[str, list[str]]] = {}
        for c in as_list(st.get("condition")):
            if isinstance(c, dict):
                conditions.setdefault(str(c.get("test")), {})[str(c.get("variable"))] = _strs(c.get("values"))
        out.append(
            {
                "sid": st.get("sid") if isinstance(st.get("sid"), str) else None,
                "effect": st.get("effect") if isinstance(st.get("effect"), str) else "Allow",
                "actions": _strs(st.get("actions")),
                "not_actions": _strs(st.get("not_actions")),
                "resources": _strs(st.get("resources")),
                "not_resources": _strs(st.get("not_resources")),
                "principals": principals,
                "not_principals": None,
                "conditions": conditions,
            }
        )
    return out


def aws_policy_resource(
    statements: list[dict[str, Any]],
    *,
    name: str,
    file: str,
    line: int | None,
    context: str,
    source_format: str,
    raw_type: str,
    statement_lines: list[int | None] | None = None,
    raw: Any = None,
    bucket: Any = None,
) -> PostureResource:
    """`bucket` (bucket policies): the bucket the policy attaches to, as written — a name, a Terraform
    reference (`${aws_s3_bucket.b.id}`), a CloudFormation `{"Ref": …}` — for the cross-resource STORAGE-005."""
    lines = {}
    for i, ln in enumerate(statement_lines or []):
        if ln is not None:
            lines[f"statements[{i}]"] = ln
    return PostureResource(
        type="aws.iam.policy",
        name=name,
        file=file,
        line=line,
        attributes={"statements": statements, "context": context}
        | ({"bucket": bucket} if context == "bucket" and bucket is not None else {}),
        source_format=source_format,
        raw_type=raw_type,
        lines=lines,
        raw=raw,
    )


def normalize_gcp_bindings(bindings: Any) -> list[dict[str, Any]]:
    out = []
    for b in as_list(bindings):
        if not isinstance(b, dict):
            continue
        members = as_list(b.get("members")) + as_list(b.get("member"))
        out.append(
            {
                "role": b.get("role") if isinstance(b.get("role"), str) else None,
                "members": [m for m in members if isinstance(m, str)],
                "condition": b.get("condition") if b.get("condition") else None,
            }
        )
    return out


def normalize_audit_configs(configs: Any) -> list[dict[str, Any]]:
    out = []
    for c in as_list(configs):
        if not isinstance(c, dict):
            continue
        logs = as_list(c.get("auditLogConfigs") or c.get("audit_log_configs") or c.get("audit_log_config"))
        types = [
            str(x.get("logType") or x.get("log_type"))
            for x in logs
            if isinstance(x, dict) and (x.get("logType") or x.get("log_type"))
        ]
        out.append({"service": c.get("service"), "log_types": types})
    return out


def gcp_policy_resource(
    *,
    bindings: list[dict[str, Any]],
    audit_configs: list[dict[str, Any]] | None,
    scope: str,
    name: str,
    file: str,
    line: int | None,
    source_format: str,
    raw_type: str,
    lines: dict[str, int] | None = None,
    raw: Any = None,
) -> PostureResource:
    # Whether the resource holds the whole audit-log configuration (LOG-005 judges only those): a project's
    # get-iam-policy output, or any config for `allServices`.
    complete = audit_configs is not None and (
        any(c.get("service") == "allServices" for c in audit_configs)
        or (raw_type == "gcp:iam-policy" and scope == "project")
    )
    return PostureResource(
        type="gcp.iam.policy",
        name=name,
        file=file,
        line=line,
        attributes={
            "bindings": bindings,
            "audit_configs": audit_configs,
            "scope": scope,
            "audit_configs_complete": complete,
            "has_bindings": bool(bindings),
        },
        source_format=source_format,
        raw_type=raw_type,
        lines=dict(lines or {}),
        raw=raw,
    )


def _guess_scope(filename: str, bindings: list[dict[str, Any]]) -> str:
    """`get-iam-policy` output does not say what it belongs to: bucket policies hold legacy bucket roles,
    project policies always hold an owner."""
    roles = {b.get("role") for b in bindings}
    if any(isinstance(r, str) and r.startswith("roles/storage.legacy") for r in roles):
        return "bucket"
    if "roles/owner" in roles or "project" in filename.lower():
        return "project"
    return "resource"


# --- standalone files ------------------------------------------------------------------------------


_S3_ARN = re.compile(r"^arn:aws[\w-]*:s3:::([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:/.*)?$")


def _is_aws_policy(doc: Any) -> bool:
    return isinstance(doc, dict) and "Statement" in doc and ("Version" in doc or "Id" in doc)


def _is_gcp_policy(doc: Any) -> bool:
    return (
        isinstance(doc, dict)
        and ("bindings" in doc or "auditConfigs" in doc)
        and ("etag" in doc or "version" in doc or "bindings" in doc)
        and all(isinstance(b, dict) and "role" in b for b in as_list(doc.get("bindings")))
    )


def claim(entry: FileEntry) -> bool:
    head = json_head(entry)
    if head is None or not head.startswith(b"{"):
        return False
    if b"AWSTemplateFormatVersion" in head or b'"Resources"' in head or b'"format_version"' in head:
        return False
    return (b'"Statement"' in head and (b'"Version"' in head or b'"Id"' in head)) or (
        b'"bindings"' in head or b'"auditConfigs"' in head
    )


def parse(entry: FileEntry, ctx: ScanContext) -> list[PostureResource]:
    text, doc = load_json_text(entry, ctx)
    idx = LineIndex(text)
    if _is_aws_policy(doc):
        stmts = normalize_aws_policy(doc)
        lines: list[int | None] = []
        pos = 0
        for _ in stmts:
            off = idx.json_key("Effect", pos) or idx.json_key("Action", pos)
            if off is None:
                lines.append(None)
                continue
            lines.append(idx.line_at(off))
            pos = off + 1
        context = (
            "trust"
            if any(a == "sts:AssumeRole" for s in stmts for a in s["actions"]) and any(s["principals"] for s in stmts)
            else ("bucket" if any(s["principals"] for s in stmts) else "identity")
        )
        buckets = {
            m.group(1)
            for s in stmts
            for r in s["resources"]
            if isinstance(r, str) and (m := _S3_ARN.match(r)) is not None
        }
        return [
            aws_policy_resource(
                stmts,
                name=entry.rel_path,
                file=entry.rel_path,
                line=1,
                context=context,
                source_format="iam",
                raw_type="aws:iam-policy-document",
                statement_lines=lines,
                raw=doc,
                bucket=next(iter(buckets)) if len(buckets) == 1 else None,
            )
        ]
    if _is_gcp_policy(doc):
        bindings = normalize_gcp_bindings(doc.get("bindings"))
        glines: dict[str, int] = {}
        pos = 0
        for i in range(len(bindings)):
            off = idx.json_key("role", pos)
            if off is None:
                break
            glines[f"bindings[{i}]"] = idx.line_at(off)
            pos = off + 1
        off = idx.json_key("auditConfigs")
        if off is not None:
            glines["audit_configs"] = idx.line_at(off)
        return [
            gcp_policy_resource(
                bindings=bindings,
                audit_configs=normalize_audit_configs(doc.get("auditConfigs")),
                scope=_guess_scope(entry.name, bindings),
                name=entry.rel_path,
                file=entry.rel_path,
                line=1,
                source_format="iam",
                raw_type="gcp:iam-policy",
                lines=glines,
                raw=doc,
            )
        ]
    return []  # JSON that merely mentions these keys (e.g. inside another document) is not a policy file


FORMAT = FormatSpec(
    name="iam",
    claim=claim,
    parse=parse,
    path_hint=ANY_PATH,  # extension-less files too (`json_head`)
    required=json_path,
)
