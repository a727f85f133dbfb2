"""References between configuration resources, for the cross-resource ("graph") rules.

One resource names another in a format's own way; this module turns every form into a `Ref` (the resource it
points at, in the same module / plan / template) or a `Literal` (a name or ARN, matched across the scan: IAM role
names and ARNs are account-wide), or says why it cannot be resolved:

- Terraform HCL: `${aws_iam_role.exec.arn}`, `${module.m.aws_iam_role.exec.name}`, `${data.aws_iam_policy_document.d.json}`
  (the evaluator leaves references as expression strings) → the resource of that address in the same directory;
- plan JSON: the same, from the plan's `configuration` (`config_references`, added by the plan parser where a
  value is known only after apply) → that address in the same plan;
- CloudFormation: `{"Ref": Id}`, `{"Fn::GetAtt": [Id, Attr]}`, `{"Fn::Sub": "…${Id}…"}` / `"${Id.Arn}"` → the
  logical id in the same template.

A reference to a variable, a module output, a data source that is not a policy document, a parameter… cannot
be resolved: callers report the rule unresolved (never secure).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from shareguard.core.facts import ConfigResource
from shareguard.posture.parsers._common import UNKNOWN

Key = tuple[str, str, str]
"""(format family, scope, local id): ("tf", directory, address), ("plan", file, address), ("cfn", file, logical id)."""

_INDEX = re.compile(r"\[[^\]]*\]")
_TF_REF = re.compile(
    r"^\$\{(?P<addr>(?:module\.[\w-]+(?:\[[^\]]*\])?\.)*(?:data\.)?[a-z][a-z0-9_]*\.[\w-]+)(?:\[[^\]]*\])?"
    r"(?:\.(?P<attr>[\w]+))?(?:\[[^\]]*\])*(?:\.[\w\[\]]+)*\}$"
)
_SUB_VAR = re.compile(r"\$\{([^}!]+)\}")
_FAMILY = {"terraform": "tf", "terraform-plan": "plan", "cloudformation": "cfn"}


@dataclass(frozen=True)
class Ref:
    """A reference to another resource of the same module / plan / template."""

    key: Key
    attr: str
    """The attribute referred to (`arn`, `name`, `id`, `Arn`, `Ref`…)."""


@dataclass(frozen=True)
class Literal:
    """A name or ARN written out (or an AWS managed policy ARN)."""

    value: str


@dataclass(frozen=True)
class Unresolvable:
    why: str


Target = Ref | Literal | Unresolvable


def family(res: ConfigResource) -> str | None:
    return _FAMILY.get(res.source_format)


def _dir(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""


def scope_of(res: ConfigResource) -> tuple[str, str] | None:
    fam = family(res)
    if fam is None:
        return None
    return (fam, _dir(res.path) if fam == "tf" else res.path)


def key_of(res: ConfigResource) -> Key | None:
    """The key other resources of its module / plan / template reach it by (`for_each`/`count` index dropped)."""
    scope = scope_of(res)
    if scope is None:
        return None
    return (*scope, res.name if scope[0] == "cfn" else _INDEX.sub("", res.name))


def raw_type(res: ConfigResource) -> str:
    """The format's own type (`aws_iam_role`, `AWS::IAM::Role`): parsers record it as the `raw_type` attribute."""
    raw = res.attributes.get("raw_type")
    return raw if isinstance(raw, str) else res.type


def _shown(value: Any) -> str:
    if isinstance(value, dict) and value:
        k = next(iter(value))
        return f"{k} {value[k]}"[:120]
    return str(value)[:120]


def resolve(value: Any, res: ConfigResource, path: str | None = None) -> Target | None:
    """What `value` (an attribute of `res`, at `path` when known) refers to; None when it is not set."""
    if value is None or value == "" or value == []:
        return None
    scope = scope_of(res)
    if scope is None:
        return Literal(value) if isinstance(value, str) and "${" not in value and value != UNKNOWN else None
    fam, where = scope
    if fam == "plan" and (value == UNKNOWN or (isinstance(value, str) and "${" in value)) and path is not None:
        refs = res.attributes.get("config_references")
        found = refs.get(path) if isinstance(refs, dict) else None
        if isinstance(found, str):
            value = found
    if isinstance(value, str):
        if value == UNKNOWN:
            return Unresolvable("known only after apply")
        if "${" not in value:
            return Literal(value)
        if fam in ("tf", "plan"):
            m = _TF_REF.match(value)
            if m is not None:
                addr = _INDEX.sub("", m.group("addr"))
                if not addr.startswith(("var.", "local.", "each.", "count.", "path.", "terraform.", "self.")):
                    return Ref((fam, where, addr), m.group("attr") or "")
        return Unresolvable(f"{value[:120]} cannot be resolved statically")
    if isinstance(value, dict) and fam == "cfn" and len(value) == 1:
        ((fn, arg),) = value.items()
        if fn == "Ref" and isinstance(arg, str) and not arg.startswith("AWS::"):
            return Ref((fam, where, arg), "Ref")
        if fn == "Fn::GetAtt":
            parts = arg.split(".", 1) if isinstance(arg, str) else arg
            if isinstance(parts, list) and len(parts) == 2 and all(isinstance(p, str) for p in parts):
                return Ref((fam, where, parts[0]), parts[1])
        if fn == "Fn::Sub":
            text = arg[0] if isinstance(arg, list) and arg and isinstance(arg[0], str) else arg
            if isinstance(text, str):
                names = [n for n in _SUB_VAR.findall(text) if not n.startswith("AWS::")]
                if not names:  # only pseudo parameters: a literal in any partition and account
                    return Literal(_SUB_VAR.sub("*", text))
                if len(names) == 1 and not isinstance(arg, list):
                    target, _, attr = names[0].partition(".")
                    return Ref((fam, where, target), attr or "Ref")
    return Unresolvable(f"{_shown(value)} cannot be resolved statically")


def arn_name(text: str, kind: str) -> str | None:
    """The name in an IAM ARN of `kind` (`role`, `policy`): `arn:aws:iam::1:role/path/x` → `x`; None if not one."""
    m = re.match(rf"^arn:[\w*-]+:iam::[\w*-]*:{kind}/(?:.*/)?([^/]+)$", text)
    return m.group(1) if m else None
