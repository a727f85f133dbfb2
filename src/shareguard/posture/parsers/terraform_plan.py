"""`terraform show -json` output (plan or state): resources of the root and child modules.

Values come from `resource_changes[].change.after` (deleted resources skipped; `after_unknown` values
become the unknown marker) or, for state files and plans without changes, from
`planned_values`/`values` `root_module` + `child_modules`. The same canonical types and embedded-policy
handling as the HCL parser apply. Lines: the line of the resource's `"address"` in the text.
"""

from __future__ import annotations

import json
import re
from typing import Any

from shareguard.core.context import ScanContext
from shareguard.core.entry import FileEntry
from shareguard.posture.model import PostureResource
from shareguard.posture.parsers._build import build
from shareguard.posture.parsers._common import (
    UNKNOWN,
    LineIndex,
    as_list,
    json_head,
    json_lines,
    json_path,
    load_json_text,
)
from shareguard.posture.parsers.terraform import embedded_policies
from shareguard.posture.plugin import ANY_PATH, FormatSpec

_MAX_MODULE_DEPTH = 50


def claim(entry: FileEntry) -> bool:
    head = json_head(entry)
    if head is None or not head.startswith(b"{"):
        return False
    return b'"format_version"' in head and b'"terraform_version"' in head


def _apply_unknown(after: Any, unknown: Any, depth: int = 0) -> Any:
    if unknown is True:
        return UNKNOWN
    if depth > 100:
        return after
    if isinstance(unknown, dict):
        base = dict(after) if isinstance(after, dict) else {}
        for k, u in unknown.items():
            base[k] = _apply_unknown(base.get(k), u, depth + 1)
        return base
    if isinstance(unknown, list) and isinstance(after, list):
        return [_apply_unknown(a, unknown[i] if i < len(unknown) else None, depth + 1) for i, a in enumerate(after)]
    return after


def _module_resources(module: Any, depth: int = 0) -> list[dict[str, Any]]:
    if not isinstance(module, dict) or depth > _MAX_MODULE_DEPTH:
        return []
    out = [r for r in as_list(module.get("resources")) if isinstance(r, dict)]
    for child in as_list(module.get("child_modules")):
        out.extend(_module_resources(child, depth + 1))
    return out


def _items(doc: dict[str, Any]) -> tuple[str, list[tuple[str, str, str, dict[str, Any]]]]:
    """The section used and (address, mode, type, values) for every resource."""
    out: list[tuple[str, str, str, dict[str, Any]]] = []
    changes = [c for c in as_list(doc.get("resource_changes")) if isinstance(c, dict)]
    if changes:
        for c in changes:
            change = c.get("change")
            if not isinstance(change, dict):
                continue
            actions = as_list(change.get("actions"))
            if actions == ["delete"] or not isinstance(change.get("after"), dict):
                continue
            values: dict[str, Any] = _apply_unknown(change["after"], change.get("after_unknown"))
            out.append((str(c.get("address", "")), str(c.get("mode", "managed")), str(c.get("type", "")), values))
        return "resource_changes", out
    root = None
    used = ""
    for key in ("planned_values", "values"):
        section = doc.get(key)
        if isinstance(section, dict) and isinstance(section.get("root_module"), dict):
            root = section["root_module"]
            used = key
            break
    for r in _module_resources(root):
        raw_values = r.get("values")
        state_values: dict[str, Any] = raw_values if isinstance(raw_values, dict) else {}
        out.append((str(r.get("address", "")), str(r.get("mode", "managed")), str(r.get("type", "")), state_values))
    return used, out


def parse(entry: FileEntry, ctx: ScanContext) -> list[PostureResource]:
    text, doc = load_json_text(entry, ctx)
    if not isinstance(doc, dict):
        return []
    idx = LineIndex(text)
    out: list[PostureResource] = []
    section, items = _items(doc)
    section_at = max(0, text.find(f'"{section}"')) if section else 0
    expressions: dict[str, Any] | None = None
    for address, mode, rtype, values in items:
        if mode != "managed" or not rtype:
            continue
        m = re.compile(r'"address"\s*:\s*' + re.escape(json.dumps(address))).search(text, section_at)
        line = idx.line_at(m.start()) if m else None
        lines: dict[str, int] = {}
        if m is not None:
            key = "after" if section == "resource_changes" else "values"
            body = idx.json_key(key, m.end())
            if body is not None:
                json_lines(idx, values, body, "", lines, [2000])
        name = address.rsplit(".", 1)[-1] if "." in address else address
        out.append(
            build(
                raw_type=rtype,
                name=address,
                file=entry.rel_path,
                line=line,
                view=values,
                source_format="terraform-plan",
                lines=lines,
            )
        )
        if rtype == "aws_s3_bucket_public_access_block" and not _known_name(values.get("bucket")):
            ref = _bucket_reference(doc, address)  # the bucket it protects, for `bucket_public_access`
            if ref is not None:
                out[-1].attributes["bucket"] = ref
        if expressions is None:
            expressions = _config_expressions(doc)
        refs = _references(expressions.get(_INDEX.sub("", address)), address)
        if refs:  # what values known only after apply refer to (the cross-resource rules resolve them)
            out[-1].attributes["config_references"] = refs
        policies = embedded_policies(rtype, name, values, entry.rel_path, line, lines, "terraform-plan", address)
        if rtype == "aws_s3_bucket_policy" and policies and not _known_name(values.get("bucket")):
            ref = _bucket_reference(doc, address)
            if ref is not None:
                for pol in policies:
                    pol.attributes["bucket"] = ref
        out.extend(policies)
    return out


def _known_name(value: Any) -> bool:
    return isinstance(value, str) and value != UNKNOWN and "${" not in value


_INDEX = re.compile(r"\[[^\]]*\]")


def _config_expressions(doc: dict[str, Any]) -> dict[str, Any]:
    """Resource address (module path included, no instance keys) → its `expressions` in the plan's configuration."""
    out: dict[str, Any] = {}
    stack: list[tuple[Any, str, int]] = [((doc.get("configuration") or {}).get("root_module"), "", 0)]
    while stack:
        module, prefix, depth = stack.pop()
        if not isinstance(module, dict) or depth > _MAX_MODULE_DEPTH:
            continue
        for res in as_list(module.get("resources")):
            if isinstance(res, dict) and isinstance(res.get("address"), str):
                out[prefix + res["address"]] = res.get("expressions")
        for call_name, call in (module.get("module_calls") or {}).items():
            if isinstance(call, dict):
                stack.append((call.get("module"), f"{prefix}module.{call_name}.", depth + 1))
    return out


def _references(expressions: Any, address: str) -> dict[str, str]:
    """Attribute path (dotted, first block) → `${ADDRESS.attr}` of the first resource it refers to."""
    prefix = "".join(f"{p}." for p in _module_prefix(address))
    out: dict[str, str] = {}
    stack: list[tuple[Any, str, int]] = [(expressions, "", 0)]
    while stack:
        node, path, depth = stack.pop()
        if depth > 20:
            continue
        if isinstance(node, list):
            stack.extend((item, path, depth + 1) for item in reversed(node))
        elif isinstance(node, dict):
            refs = node.get("references")
            if isinstance(refs, list) and path:
                first = next((r for r in refs if isinstance(r, str)), None)
                if first is not None and path not in out:
                    local = first.startswith(("var.", "local.", "each.", "count.", "path.", "module."))
                    out[path] = f"${{{first if local and not first.startswith('module.') else prefix + first}}}"
                continue
            if "constant_value" in node and path:
                continue
            for key, child in node.items():
                if isinstance(key, str):
                    stack.append((child, f"{path}.{key}" if path else key, depth + 1))
    return out


def _module_prefix(address: str) -> list[str]:
    parts = _INDEX.sub("", address).split(".")
    out: list[str] = []
    while len(parts) > 2 and parts[0] == "module":
        out.append(f"module.{parts[1]}")
        parts = parts[2:]
    return out


def _bucket_reference(doc: dict[str, Any], address: str) -> str | None:
    """The bucket an `aws_s3_bucket_policy` of a plan refers to, from the plan's `configuration` (the name is
    usually known only after apply): `${<module path>aws_s3_bucket.NAME.id}`, or None."""
    parts = _INDEX.sub("", address).split(".")
    module: Any = (doc.get("configuration") or {}).get("root_module")
    prefix = ""
    while len(parts) > 2 and parts[0] == "module" and isinstance(module, dict):
        call = (module.get("module_calls") or {}).get(parts[1])
        module = call.get("module") if isinstance(call, dict) else None
        prefix += f"module.{parts[1]}."
        parts = parts[2:]
    if not isinstance(module, dict):
        return None
    local = ".".join(parts)
    for res in as_list(module.get("resources")):
        if not isinstance(res, dict) or res.get("address") != local:
            continue
        expr = (res.get("expressions") or {}).get("bucket")
        refs = expr.get("references") if isinstance(expr, dict) else None
        for r in as_list(refs):
            if isinstance(r, str) and r.startswith("aws_s3_bucket."):
                target = ".".join(_INDEX.sub("", r).split(".")[:2])
                return f"${{{prefix}{target}.id}}"
    return None


FORMAT = FormatSpec(
    name="terraform_plan",
    claim=claim,
    parse=parse,
    path_hint=ANY_PATH,  # extension-less files too (`json_head`)
    required=json_path,
)
