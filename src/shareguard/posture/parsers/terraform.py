"""Terraform HCL2 (`*.tf`) with python-hcl2: resources, data sources, module calls, providers.

- values are computed as Terraform would, as far as they are static (`hcl_eval`): variable defaults (from any
  `*.tf` in the same directory) overlaid by `terraform.tfvars`/`*.auto.tfvars`, `locals`, conditionals, `lookup`,
  `try`, `coalesce`, `merge`…; anything else stays an expression string (`${…}`), which checks treat as unknown
  (never a finding on an unknown value, and never a pass);
- `count` computed to 0 skips the resource; a `for_each` over a known collection yields one resource per
  instance (`type.name["key"]`, with `each.key`/`each.value` bound), over an empty one none, otherwise ONE
  resource whose `each.*` values are unknown;
- `dynamic "x" { for_each … content { … } }` becomes one `x` block per element of a known `for_each` (none when
  it is empty), or one `x` block with unknown values when it is not known.
- `module "m" { source = "./dir" }` is recorded as a `terraform.module` resource; local module directories
  are scanned as their own files by the workspace walk.
- Embedded IAM policies (`aws_iam_policy.policy` heredoc/`jsonencode`, `data "aws_iam_policy_document"`,
  bucket/key policies) become extra `aws.iam.policy` resources; `google_*_iam_*` become `gcp.iam.policy`.

python-hcl2 8.x does not report positions, so lines come from a light scan of the text (`_BlockLines`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Protocol

from shareguard.core.context import ScanContext
from shareguard.core.entry import FileEntry
from shareguard.core.errors import BudgetExceeded, ParseError, ShareguardError
from shareguard.core.files import read_regular_text
from shareguard.posture.model import PostureResource
from shareguard.posture.parsers import _hcl_ts
from shareguard.posture.parsers._build import build
from shareguard.posture.parsers._common import as_list, check_depth, first_block
from shareguard.posture.parsers.hcl_eval import UNKNOWN_VALUE, Evaluator, Scope
from shareguard.posture.parsers.iam_policy import (
    aws_policy_resource,
    from_policy_document_blocks,
    gcp_policy_resource,
    normalize_audit_configs,
    normalize_aws_policy,
    normalize_gcp_bindings,
)
from shareguard.posture.plugin import FormatSpec, name_of, suffix_hint, suffix_of


def _hcl2_loads(text: str) -> dict[str, Any]:
    """python-hcl2 (imported here: it and lark cost ~70 ms of start-up and are only the fallback parser)."""
    import hcl2
    from hcl2.utils import SerializationOptions

    opts = SerializationOptions(
        with_comments=False,
        strip_string_quotes=True,
        preserve_heredocs=False,
        explicit_blocks=False,
    )
    doc: dict[str, Any] = hcl2.loads(text, serialization_options=opts)
    return doc


_META_ARGS = frozenset({"count", "for_each", "provider", "depends_on", "lifecycle", "provisioner", "connection"})
_JSONENCODE = re.compile(r"^\$\{jsonencode\((.*)\)\}$", re.S)
_MAX_VAR_FILES = 200
_MAX_INSTANCES = 256
"""`for_each` instances judged one by one (beyond, the rest of a huge static map is not expanded)."""

# Resource type → (attribute holding an AWS policy, policy context).
_AWS_POLICY_ATTRS: dict[str, tuple[tuple[str, str], ...]] = {
    "aws_iam_policy": (("policy", "identity"),),
    "aws_iam_role_policy": (("policy", "identity"),),
    "aws_iam_user_policy": (("policy", "identity"),),
    "aws_iam_group_policy": (("policy", "identity"),),
    "aws_iam_role": (("assume_role_policy", "trust"), ("inline_policy.policy", "identity")),
    "aws_s3_bucket_policy": (("policy", "bucket"),),
    "aws_s3_bucket": (("policy", "bucket"),),
    "aws_kms_key": (("policy", "key"),),
    "aws_kms_key_policy": (("policy", "key"),),
    "aws_sqs_queue_policy": (("policy", "unknown"),),
    "aws_sns_topic_policy": (("policy", "unknown"),),
}
_GCP_IAM = re.compile(r"^google_(?P<scope>[a-z_]+?)_iam_(?P<kind>binding|member|policy|audit_config)$")


def claim(entry: FileEntry) -> bool:
    return entry.suffix == ".tf"


def required(path: str, size: int) -> bool:
    """`claim` by path (it reads no content)."""
    return suffix_of(name_of(path)) == ".tf"


def load_hcl(text: str, path: str) -> tuple[dict[str, Any], _LineSource]:
    """Parse with tree-sitter-hcl when installed (fast, exact lines), else with python-hcl2 + a line scan."""
    if _hcl_ts.available():
        doc, blocks = _hcl_ts.loads(text, path)
        return doc, _TsLines(blocks)
    if text.count(",") + text.count("=") > 2 * _hcl_ts.MAX_VALUES:  # as `_hcl_ts.loads`, before any parsing
        raise BudgetExceeded(f"HCL holds more than {_hcl_ts.MAX_VALUES} values (a huge list?); not parsed", path=path)
    return _hcl(text, path), _BlockLines(text)


class _TsLines:
    def __init__(self, blocks: _hcl_ts.BlockLines) -> None:
        self.blocks = blocks

    def get(self, *key: str) -> tuple[int | None, dict[str, int]]:
        hit = self.blocks.get(key)
        return (hit[0], hit[1]) if hit else (None, {})


def _quiet_load(text: str, path: str) -> dict[str, Any] | None:
    """A sibling file's document, or None when it does not parse (it is reported when scanned itself)."""
    try:
        return load_hcl(text, path)[0]
    except Exception:
        return None


def _hcl(text: str, path: str) -> dict[str, Any]:
    from lark.exceptions import LarkError

    try:
        doc = _hcl2_loads(text)
    except (LarkError, ValueError, TypeError, AttributeError) as exc:
        line = getattr(exc, "line", None)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ParseError(
            f"HCL syntax error: {first[:200]}", path=path, line=line if isinstance(line, int) else None
        ) from None
    except RecursionError:
        raise ParseError("HCL nested too deeply", path=path) from None
    return doc if isinstance(doc, dict) else {}


# --- variables -----------------------------------------------------------------------------------------


def _variables(entry: FileEntry, ctx: ScanContext, own: dict[str, Any], text: str) -> dict[str, Any]:
    """The values of the module's variables: defaults (same directory), then the arguments of the local module
    calls that use this directory (`source = "./modules/x"` one or two directories up), or — for a root module,
    which nobody calls — `terraform.tfvars` / `*.auto.tfvars`. A variable the callers set differently, or from
    a value that is not static, is left out (unknown)."""
    values: dict[str, Any] = {}
    _collect_defaults(own, values)
    referenced = {m.group(1) for m in re.finditer(r"\bvar\.([A-Za-z_][\w-]*)", text)}
    if entry.abs_path is None or not referenced:
        return values
    missing = referenced - set(values)
    directory = entry.abs_path.parent
    limit = ctx.settings.budgets.max_config_bytes
    tfvars: list[Path] = []
    try:
        siblings = sorted(directory.iterdir())[:_MAX_VAR_FILES]
    except OSError:
        return values
    for p in siblings:
        if p == entry.abs_path or p.is_symlink() or not p.is_file():
            continue
        if p.suffix == ".tf":
            if not missing:
                continue
            sib_text = _read_small(p, limit)
            # Only parse siblings that declare a variable this file uses (keeps big directories linear-ish).
            if sib_text and any(f'variable "{name}"' in sib_text for name in missing):
                sibling = _quiet_load(sib_text, p.name)
                if sibling is not None:
                    _collect_defaults(sibling, values)
        elif p.name == "terraform.tfvars" or p.name.endswith(".auto.tfvars"):
            tfvars.append(p)
    callers = _caller_arguments(entry, ctx, directory, referenced)
    if callers is not None:
        for name, value in callers.items():
            if value is UNKNOWN_VALUE:
                values.pop(name, None)
            else:
                values[name] = value
        return values
    for p in tfvars:
        tf_text = _read_small(p, limit)
        doc = _quiet_load(tf_text, p.name) if tf_text else None
        if doc is None:
            continue
        for k, v in doc.items():
            values[str(k)] = v
    return values


def _caller_arguments(
    entry: FileEntry, ctx: ScanContext, directory: Path, referenced: set[str]
) -> dict[str, Any] | None:
    """Arguments the local module calls of `directory` pass for `referenced` variables (UNKNOWN_VALUE where the
    callers disagree or pass something not static), or None when no caller is found in the scan (a root module).
    Callers are looked for one and two directories up, inside the scanned root."""
    root = ctx.root.resolve() if ctx.root is not None else None
    target = directory.resolve()
    found: list[dict[str, Any]] = []
    limit = ctx.settings.budgets.max_config_bytes
    for up in (directory.parent, directory.parent.parent):
        try:
            up_resolved = up.resolve()
        except OSError:
            continue
        if root is None or (up_resolved != root and root not in up_resolved.parents):
            continue
        try:
            files = sorted(up.glob("*.tf"))[:_MAX_VAR_FILES]
        except OSError:
            continue
        for p in files:
            if p.is_symlink():
                continue
            text = _read_small(p, limit)
            if not text or "module" not in text or directory.name not in text:
                continue
            doc = _quiet_load(text, p.name)
            if doc is None:
                continue
            caller_vars: dict[str, Any] = {}
            _collect_defaults(doc, caller_vars)
            ev = Evaluator(Scope(caller_vars))
            for block in as_list(doc.get("module")):
                for body in block.values() if isinstance(block, dict) else ():
                    src = body.get("source") if isinstance(body, dict) else None
                    if not isinstance(src, str) or not src.startswith(("./", "../")):
                        continue
                    try:
                        if (up / src).resolve() != target:
                            continue
                    except OSError:
                        continue
                    found.append({k: ev.compute(v) for k, v in body.items() if k in referenced})
        if found:
            break
    if not found:
        return None
    out: dict[str, Any] = {}
    for name in referenced:
        given = [args[name] for args in found if name in args]
        if not given:
            continue  # every caller leaves it at its default
        if len(given) < len(found) or any(g is UNKNOWN_VALUE or g != given[0] for g in given):
            out[name] = UNKNOWN_VALUE
        else:
            out[name] = given[0]
    return out


def _dlvm_without_oslogin(res: PostureResource) -> bool:
    """Only then is project-wide metadata worth reading (it may turn OS Login on)."""
    if res.type != "gcp.compute.instance" or "deeplearning-platform-release" not in str(res.attributes.get("image")):
        return False
    meta = res.attributes.get("metadata") or {}
    return not ("enable-oslogin" in meta and "enable-oslogin-2fa" in meta)


def _project_metadata(entry: FileEntry, ctx: ScanContext, own: dict[str, Any]) -> dict[str, Any]:
    """Project-wide metadata (`google_compute_project_metadata[_item]`) of this module: OS Login may be set
    there rather than on each instance."""
    docs = [own]
    if entry.abs_path is not None:
        try:
            siblings = sorted(entry.abs_path.parent.glob("*.tf"))[:_MAX_VAR_FILES]
        except OSError:
            siblings = []
        for p in siblings:
            if p == entry.abs_path or p.is_symlink():
                continue
            text = _read_small(p, ctx.settings.budgets.max_config_bytes)
            if text and "google_compute_project_metadata" in text:
                sibling = _quiet_load(text, p.name)
                if sibling is not None:
                    docs.append(sibling)
    meta: dict[str, Any] = {}
    for d in docs:
        for block in as_list(d.get("resource")):
            if not isinstance(block, dict):
                continue
            for body in (block.get("google_compute_project_metadata") or {}).values():
                if isinstance(body, dict) and isinstance(body.get("metadata"), dict):
                    meta.update(body["metadata"])
            for body in (block.get("google_compute_project_metadata_item") or {}).values():
                if isinstance(body, dict) and isinstance(body.get("key"), str):
                    meta[body["key"]] = body.get("value")
    return meta


def _read_small(p: Path, limit: int) -> str | None:
    """A sibling file's text, or None: read outside the workspace walker, so through the budgeted reader
    (a FIFO or `/dev/zero` named `*.tf`, a symlink, a file over the budget are never read)."""
    try:
        return read_regular_text(p, limit, follow_symlinks=False, errors="replace")
    except ShareguardError:
        return None


def _collect_defaults(doc: dict[str, Any], out: dict[str, Any]) -> None:
    for block in as_list(doc.get("variable")):
        if not isinstance(block, dict):
            continue
        for name, body in block.items():
            if isinstance(body, dict) and "default" in body:
                out[str(name)] = body["default"]


def _locals(entry: FileEntry, ctx: ScanContext, own: dict[str, Any], text: str) -> dict[str, Any]:
    """The module's `locals` (this file's, and those of sibling `*.tf` files that define the ones it uses)."""
    out: dict[str, Any] = {}
    _collect_locals(own, out)
    needed = {m.group(1) for m in re.finditer(r"\blocal\.([A-Za-z_][\w-]*)", text)} - set(out)
    if entry.abs_path is None or not needed:
        return out
    try:
        siblings = sorted(entry.abs_path.parent.glob("*.tf"))[:_MAX_VAR_FILES]
    except OSError:
        return out
    for p in siblings:
        if p == entry.abs_path or p.is_symlink():
            continue
        sib_text = _read_small(p, ctx.settings.budgets.max_config_bytes)
        if sib_text and "locals" in sib_text and any(name in sib_text for name in needed):
            sibling = _quiet_load(sib_text, p.name)
            if sibling is not None:
                _collect_locals(sibling, out)
    return out


def _collect_locals(doc: dict[str, Any], out: dict[str, Any]) -> None:
    for block in as_list(doc.get("locals")):
        if isinstance(block, dict):
            for name, value in block.items():
                out.setdefault(str(name), value)


def _iterations(value: Any, *, keys_are_values: bool) -> list[tuple[Any, Any]] | None:
    """(key, value) of each iteration over a computed collection; None when it is not known."""
    if isinstance(value, dict):
        return list(value.items())
    if isinstance(value, list):
        return [(v if keys_are_values else i, v) for i, v in enumerate(value)]
    return None


def _iterator_name(spec: dict[str, Any], block_name: str) -> str:
    raw = spec.get("iterator")
    if isinstance(raw, str):
        name = raw[2:-1] if raw.startswith("${") and raw.endswith("}") else raw
        if re.fullmatch(r"[A-Za-z_][\w-]*", name):
            return name
    return block_name


def _expand(body: dict[str, Any], ev: Evaluator, scope: Scope, depth: int = 0) -> dict[str, Any]:
    """Values computed as far as they are static; `dynamic "x"` blocks become `x` blocks, one per element of a
    known `for_each` (none for an empty one), or one block with unknown values when `for_each` is not known."""
    out: dict[str, Any] = {}
    if depth > 64:
        return body
    for k, v in body.items():
        if k == "dynamic":
            for dyn in as_list(v):
                if not isinstance(dyn, dict):
                    continue
                for block_name, spec in dyn.items():
                    if not isinstance(spec, dict):
                        continue
                    content = first_block(spec.get("content"))
                    it_name = _iterator_name(spec, block_name)
                    items = _iterations(ev.compute(spec.get("for_each"), scope), keys_are_values=False)
                    blocks = out.setdefault(block_name, [])
                    if items is None:
                        blocks.append(_expand(content, ev, scope.child(it_name, UNKNOWN_VALUE), depth + 1))
                    for key, item in (items or [])[:_MAX_INSTANCES]:
                        child = scope.child(it_name, {"key": key, "value": item})
                        blocks.append(_expand(content, ev, child, depth + 1))
            continue
        if isinstance(v, list) and v and all(isinstance(i, dict) for i in v):
            out[k] = [_expand(i, ev, scope, depth + 1) for i in v]
        elif isinstance(v, dict):
            out[k] = _expand(v, ev, scope, depth + 1)
        else:
            out[k] = ev.value(v, scope)
    for k in [k for k, v in out.items() if k in body and v == [] and body.get(k) is None]:
        del out[k]
    return out


def _count_zero(body: dict[str, Any]) -> bool:
    count = body.get("count")
    return (isinstance(count, int) and not isinstance(count, bool) and count == 0) or count is False


class _LineSource(Protocol):
    def get(self, *key: str) -> tuple[int | None, dict[str, int]]: ...


# --- line numbers --------------------------------------------------------------------------------------

_BLOCK_HEAD = re.compile(r'^\s*(resource|data|module|provider|variable)\s+((?:"[^"]*"\s*)+)\{')
_NESTED_HEAD = re.compile(r'^\s*([A-Za-z_][\w-]*)((?:\s+"[^"]*")*)\s*\{')
_ATTR = re.compile(r'^\s*"?([A-Za-z_][\w.:/-]*)"?\s*=(?!=)')
_HEREDOC = re.compile(r"<<-?\s*([A-Za-z_]\w*)\s*$")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


class _BlockLines:
    """Top-level block → (start line, {attribute path without list indices: line})."""

    def __init__(self, text: str) -> None:
        self.blocks: dict[tuple[str, ...], tuple[int, dict[str, int]]] = {}
        self._scan(text)

    def _scan(self, text: str) -> None:
        key: tuple[str, ...] | None = None
        paths: dict[str, int] = {}
        stack: list[str | None] = []
        depth = 0
        heredoc: str | None = None
        for lineno, line in enumerate(text.splitlines(), start=1):
            if heredoc is not None:
                if line.strip() == heredoc:
                    heredoc = None
                continue
            clean = re.sub(r"(#|//).*$", "", _STRING.sub('""', line))
            opener: str | None = None
            if depth == 0:
                m = _BLOCK_HEAD.match(line)
                if m:
                    key = (m.group(1), *re.findall(r'"([^"]*)"', m.group(2)))
                    paths = {}
                    self.blocks.setdefault(key, (lineno, paths))
                    stack = []
            elif key is not None:
                prefix = ".".join(s for s in stack if s)
                am = _ATTR.match(line)
                nm = None if am else _NESTED_HEAD.match(line)
                name: str | None = None
                if am:
                    name = am.group(1)
                elif nm:
                    labels = re.findall(r'"([^"]*)"', nm.group(2) or "")
                    name = nm.group(1)
                    if name == "dynamic" and labels:
                        name = labels[0]
                    elif name == "content":
                        name = ""
                if name:
                    paths.setdefault(f"{prefix}.{name}" if prefix else name, lineno)
                opener = name
            opens, closes = clean.count("{"), clean.count("}")
            if depth > 0 and key is not None:
                for i in range(opens):
                    stack.append(opener if i == 0 else None)
                for _ in range(closes):
                    if stack:
                        stack.pop()
            depth += opens - closes
            if depth <= 0:
                depth = 0
                key = None if closes else key
            hm = _HEREDOC.search(clean)
            if hm:
                heredoc = hm.group(1)

    def get(self, *key: str) -> tuple[int | None, dict[str, int]]:
        hit = self.blocks.get(key)
        return (hit[0], hit[1]) if hit else (None, {})


# --- parse ---------------------------------------------------------------------------------------------


def _policy_value(value: Any) -> Any:
    """A policy attribute: JSON string (heredoc/file), `jsonencode({…})` (HCL object), or an expression."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        m = _JSONENCODE.match(value.strip())
        if m:
            try:
                doc = _hcl2_loads("x = " + m.group(1))
            except Exception:
                return None
            return doc.get("x")
        return value
    return None


def embedded_policies(
    rtype: str,
    name: str,
    body: dict[str, Any],
    file: str,
    line: int | None,
    lines: dict[str, int],
    source_format: str = "terraform",
    addr: str | None = None,
) -> list[PostureResource]:
    """IAM policies held by a resource's attributes (AWS documents, GCP bindings/audit configs)."""
    out: list[PostureResource] = []
    addr = addr or f"{rtype}.{name}"
    for attr, context in _AWS_POLICY_ATTRS.get(rtype, ()):
        head, _, tail = attr.partition(".")
        holders = [body] if not tail else [b for b in as_list(body.get(head)) if isinstance(b, dict)]
        for holder in holders:
            value = _policy_value(holder.get(tail or head))
            stmts = normalize_aws_policy(value)
            if not stmts:
                continue
            pline = lines.get(attr, line)
            out.append(
                aws_policy_resource(
                    stmts,
                    name=f"{addr}.{attr}",
                    file=file,
                    line=pline,
                    context=context,
                    source_format=source_format,
                    raw_type=rtype,
                    statement_lines=[pline] * len(stmts),
                    raw=value,
                    # an inline bucket policy attaches to its own bucket; aws_s3_bucket_policy names it
                    bucket=f"${{{addr}.id}}" if rtype == "aws_s3_bucket" else body.get("bucket"),
                )
            )
    m = _GCP_IAM.match(rtype)
    if m:
        scope = m.group("scope")
        kind = m.group("kind")
        if kind == "audit_config":
            configs = normalize_audit_configs([body])
            out.append(
                gcp_policy_resource(
                    bindings=[],
                    audit_configs=configs,
                    scope=scope,
                    name=addr,
                    file=file,
                    line=line,
                    source_format=source_format,
                    raw_type=rtype,
                    lines={"audit_configs": lines.get("audit_log_config", line or 0)},
                    raw=body,
                )
            )
        elif kind in ("binding", "member"):
            out.append(
                gcp_policy_resource(
                    bindings=normalize_gcp_bindings([body]),
                    audit_configs=None,
                    scope=scope,
                    name=addr,
                    file=file,
                    line=line,
                    source_format=source_format,
                    raw_type=rtype,
                    lines={"bindings[0]": lines.get("members", lines.get("member", line or 0))},
                    raw=body,
                )
            )
    return out


def parse(entry: FileEntry, ctx: ScanContext) -> list[PostureResource]:
    text = entry.read_text(ctx.settings.budgets.max_config_bytes)
    doc, idx = load_hcl(text, entry.rel_path)
    check_depth(doc, ctx.settings.budgets.max_depth)
    variables = _variables(entry, ctx, doc, text) if "var." in text else {}
    scope = Scope(variables, _locals(entry, ctx, doc, text) if "local." in text else {})
    ev = Evaluator(scope)
    file = entry.rel_path
    out: list[PostureResource] = []
    for block in as_list(doc.get("resource")):
        if not isinstance(block, dict):
            continue
        for rtype, named in block.items():
            if not isinstance(named, dict):
                continue
            for name, body in named.items():
                if not isinstance(body, dict):
                    continue
                count = ev.compute(body["count"]) if "count" in body else None
                if _count_zero({"count": count}):
                    continue  # count computed to 0 (e.g. `var.enabled ? 1 : 0` with a false default)
                instances: list[tuple[Any, Scope]] = [(None, scope)]
                if "for_each" in body:
                    items = _iterations(ev.compute(body["for_each"]), keys_are_values=True)
                    if items is not None and not items:
                        continue  # for_each over an empty collection: no instance
                    instances = (
                        [(None, scope.child("each", UNKNOWN_VALUE))]
                        if items is None
                        else [(k, scope.child("each", {"key": k, "value": v})) for k, v in items[:_MAX_INSTANCES]]
                    )
                plain = {k: v for k, v in body.items() if k not in _META_ARGS}
                line, lines = idx.get("resource", rtype, name)
                extra = {
                    "count": count if count is not UNKNOWN_VALUE else body.get("count"),
                    "for_each": body.get("for_each"),
                }
                for key, inst_scope in instances:
                    view = _expand(plain, ev, inst_scope)
                    inst = name if key is None else f'{name}["{key}"]'
                    out.append(
                        build(
                            raw_type=rtype,
                            name=f"{rtype}.{inst}",
                            file=file,
                            line=line,
                            view=view,
                            source_format="terraform",
                            lines=lines,
                            extra={k: v for k, v in extra.items() if v is not None},
                        )
                    )
                    out.extend(embedded_policies(rtype, inst, view, file, line, lines))
    for block in as_list(doc.get("data")):
        if not isinstance(block, dict):
            continue
        for dtype, named in block.items():
            if not isinstance(named, dict):
                continue
            for name, body in named.items():
                if not isinstance(body, dict):
                    continue
                body = _expand(body, ev, scope)
                line, lines = idx.get("data", dtype, name)
                if dtype == "aws_iam_policy_document":
                    stmts = from_policy_document_blocks(body.get("statement"))
                    out.append(
                        aws_policy_resource(
                            stmts,
                            name=f"data.{dtype}.{name}",
                            file=file,
                            line=line,
                            context="unknown",
                            source_format="terraform",
                            raw_type=f"data.{dtype}",
                            statement_lines=[lines.get("statement", line)] * len(stmts),
                            raw=body,
                        )
                    )
                elif dtype == "google_iam_policy":
                    out.append(
                        gcp_policy_resource(
                            bindings=normalize_gcp_bindings(body.get("binding")),
                            audit_configs=normalize_audit_configs(body.get("audit_config")) or None,
                            scope="resource",
                            name=f"data.{dtype}.{name}",
                            file=file,
                            line=line,
                            source_format="terraform",
                            raw_type=f"data.{dtype}",
                            lines={"bindings": lines.get("binding", line or 0)},
                            raw=body,
                        )
                    )
    if any(_dlvm_without_oslogin(r) for r in out):
        project_meta = _project_metadata(entry, ctx, doc)
        if project_meta:
            for r in out:
                if r.type == "gcp.compute.instance":
                    r.attributes["project_metadata"] = project_meta
    for block in as_list(doc.get("module")):
        if not isinstance(block, dict):
            continue
        for name, body in block.items():
            if not isinstance(body, dict):
                continue
            line, lines = idx.get("module", name)
            out.append(
                build(
                    raw_type="terraform.module",
                    name=f"module.{name}",
                    file=file,
                    line=line,
                    view=ev.value(body),
                    source_format="terraform",
                    lines=lines,
                )
            )
    for block in as_list(doc.get("provider")):
        if not isinstance(block, dict):
            continue
        for pname, body in block.items():
            for body_item in as_list(body):
                if not isinstance(body_item, dict):
                    continue
                line, lines = idx.get("provider", pname)
                out.append(
                    build(
                        raw_type=f"provider:{pname}",
                        name=f"provider.{pname}"
                        + (f".{body_item['alias']}" if isinstance(body_item.get("alias"), str) else ""),
                        file=file,
                        line=line,
                        view=ev.value(body_item),
                        source_format="terraform",
                        lines=lines,
                    )
                )
    return out


FORMAT = FormatSpec(
    name="terraform",
    claim=claim,
    parse=parse,
    path_hint=suffix_hint(".tf"),
    required=required,
)
