"""IAM-011 / IAM-012 across resources: the IAM policies of the role a SageMaker notebook, model, monitoring job,
pipeline or a domain's / user profile's default apps run as, judged on that resource (Checkov's CKV2_AWS_68 and
more): a role that may do everything (or everything of a service) on every resource, or pass any role, makes
the notebook as powerful as the role.

The policies of a role, from every place Terraform (HCL and plan JSON) and CloudFormation attach them:
`aws_iam_role` `inline_policy` blocks and `managed_policy_arns`; `aws_iam_role_policy` (its `policy`, or the
`data "aws_iam_policy_document"` it names); `aws_iam_role_policy_attachment` / `aws_iam_policy_attachment` /
`aws_iam_role_policy_attachments_exclusive` of an `aws_iam_policy` in the scan or of an AWS managed policy;
CloudFormation `AWS::IAM::Role` `Policies` / `ManagedPolicyArns`, `AWS::IAM::Policy`, `AWS::IAM::ManagedPolicy`
and `AWS::IAM::RolePolicy` naming the role. Each statement is judged by the IAM checks themselves (IAM-001 and
IAM-002's logic, not a copy); AWS managed policies by name (`posture/data/execution_roles.yaml`).

Outcomes per resource and rule: a finding naming the role, the policy and the statement; a pass where the role
and every policy attached to it are in the scan and none is overly permissive; unresolved (the duty is left
incomplete, never passed) where the role is not in the scanned files, a reference cannot be resolved, a policy
document is computed, or an attachment of the same module / template names a role that cannot be resolved.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from shareguard.core.analyzer import Output
from shareguard.core.context import ScanContext
from shareguard.core.facts import ConfigResource, FactStore
from shareguard.posture.canonical import canonical_type
from shareguard.posture.canonical import resolve as resolve_path
from shareguard.posture.check import to_finding
from shareguard.posture.checks._util import data
from shareguard.posture.checks.iam import IamChecks
from shareguard.posture.graph.refs import (
    Key,
    Literal,
    Ref,
    Unresolvable,
    arn_name,
    key_of,
    raw_type,
    resolve,
    scope_of,
)
from shareguard.posture.graph.rule_verdicts import rule_verdicts
from shareguard.posture.model import PostureResource, Violation, coverage_key, posture_of
from shareguard.posture.post_analyzer import RulesPostAnalyzer

RULES = ("IAM-011", "IAM-012")
_FROM_IAM = {"IAM-001": "IAM-011", "IAM-002": "IAM-012"}
_ROLE_TYPES = frozenset({"aws_iam_role", "AWS::IAM::Role"})
_POLICY_TYPES = frozenset({"aws_iam_policy", "AWS::IAM::ManagedPolicy"})
_MANAGED_ARN = "arn:*:iam::aws:policy/"


@dataclass(frozen=True)
class _Policy:
    """A policy attached to a role: its statements, an AWS managed policy, or why it cannot be read."""

    label: str
    statements: tuple[dict[str, Any], ...] = ()
    managed: str | None = None
    unresolved: str | None = None


@dataclass
class _Graph:
    resources: dict[Key, ConfigResource] = field(default_factory=dict)
    docs: dict[Key, list[ConfigResource]] = field(default_factory=dict)
    """Embedded `aws.iam.policy` documents by the key of their name (`aws_iam_role_policy.p.policy`)."""
    roles_by_name: dict[str, list[Key]] = field(default_factory=dict)
    policies_by_name: dict[str, list[Key]] = field(default_factory=dict)
    attached: dict[Key, list[_Policy]] = field(default_factory=dict)
    open_scopes: dict[tuple[str, str], str] = field(default_factory=dict)
    """Module / template → why an attachment there names a role that cannot be resolved."""


def _name(res: ConfigResource, *keys: str) -> str | None:
    for k in keys:
        value = res.attributes.get(k)
        if isinstance(value, str) and value and "${" not in value and not value.startswith("("):
            return value
    return None


def _statements(docs: list[ConfigResource]) -> tuple[dict[str, Any], ...]:
    out: list[dict[str, Any]] = []
    for d in docs:
        stmts = d.attributes.get("statements")
        if isinstance(stmts, list):
            out.extend(s for s in stmts if isinstance(s, dict))
    return tuple(out)


def _items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


class _Builder:
    def __init__(self, facts: FactStore) -> None:
        self.g = _Graph()
        self.holders: list[ConfigResource] = []
        for res in facts.of(ConfigResource):
            key = key_of(res)
            if key is None:
                continue
            if res.type == "aws.iam.policy":
                self.g.docs.setdefault(key, []).append(res)
                continue
            self.g.resources.setdefault(key, res)
            rtype = raw_type(res)
            if rtype in _ROLE_TYPES:
                name = _name(res, "name", "role_name")
                if name is not None:
                    self.g.roles_by_name.setdefault(name, []).append(key)
                self.holders.append(res)
            elif rtype in _POLICY_TYPES:
                name = _name(res, "name", "managed_policy_name")
                if name is not None:
                    self.g.policies_by_name.setdefault(name, []).append(key)
                if rtype == "AWS::IAM::ManagedPolicy":
                    self.holders.append(res)
            elif rtype.startswith(("aws_iam_", "AWS::IAM::")):
                self.holders.append(res)

    def build(self) -> _Graph:
        for res in self.holders:
            self._attach(res)
        return self.g

    # --- policies of a holder -------------------------------------------------------------------------

    def _own_docs(self, res: ConfigResource, suffix: str) -> list[ConfigResource]:
        key = key_of(res)
        assert key is not None
        return self.g.docs.get((key[0], key[1], f"{key[2]}.{suffix}"), [])

    def _document(self, res: ConfigResource, attr: str, suffix: str) -> _Policy:
        """The policy document a resource holds in `attr` (embedded, or a policy-document data source)."""
        label = res.name
        docs = self._own_docs(res, suffix)
        if docs:
            return _Policy(label, _statements(docs))
        value = res.attributes.get(attr)
        target = resolve(value, res, attr)
        if isinstance(target, Ref) and target.key[2].startswith("data.aws_iam_policy_document."):
            found = self.g.docs.get(target.key)
            if found:
                return _Policy(f"{label} ({target.key[2]})", _statements(found))
        if target is None:
            return _Policy(label)  # no document (e.g. an empty inline policy)
        return _Policy(label, unresolved=f"the policy document of {label} cannot be read statically")

    def _by_arn(self, value: Any, res: ConfigResource, path: str) -> _Policy:
        """A policy named by ARN (or reference) in an attachment or `managed_policy_arns`."""
        target = resolve(value, res, path)
        if isinstance(target, Literal):
            text = target.value.replace("${AWS::Partition}", "*")
            if fnmatch.fnmatchcase(text, _MANAGED_ARN + "*") or text.startswith("arn:aws:iam::aws:policy/"):
                name = text.split(":policy/", 1)[1]
                return _Policy(f"{name} (AWS managed)", managed=name)
            name = arn_name(text, "policy") or text
            keys = self.g.policies_by_name.get(name, [])
            if keys:
                return self._policy_resource(self.g.resources[keys[0]])
            return _Policy(text, unresolved=f"policy {text} is not in the scanned files")
        if isinstance(target, Ref):
            found = self.g.resources.get(target.key)
            if found is not None and raw_type(found) in _POLICY_TYPES:
                return self._policy_resource(found)
            return _Policy(target.key[2], unresolved=f"policy {target.key[2]} is not in the scanned files")
        why = target.why if isinstance(target, Unresolvable) else "no policy named"
        return _Policy(str(value)[:80], unresolved=why)

    def _policy_resource(self, res: ConfigResource) -> _Policy:
        if raw_type(res) == "AWS::IAM::ManagedPolicy":
            return self._document(res, "policy_document", "PolicyDocument")
        return self._document(res, "policy", "policy")

    # --- role targets --------------------------------------------------------------------------------

    def _roles(self, value: Any, res: ConfigResource, path: str) -> list[Key]:
        """Roles an attachment names; an unresolvable one opens its module / template."""
        target = resolve(value, res, path)
        if isinstance(target, Ref):
            return [target.key]  # a role outside the scan is no execution role we judge
        if isinstance(target, Literal):
            name = arn_name(target.value, "role") or target.value
            return list(self.g.roles_by_name.get(name, []))
        if isinstance(target, Unresolvable):
            scope = scope_of(res)
            if scope is not None:
                self.g.open_scopes.setdefault(scope, f"{res.name} names a role that cannot be resolved ({target.why})")
        return []

    def _add(self, roles: Iterable[Key], policy: _Policy) -> None:
        for key in roles:
            self.g.attached.setdefault(key, []).append(policy)

    def _attach(self, res: ConfigResource) -> None:
        a = res.attributes
        rtype = raw_type(res)
        own = key_of(res)
        assert own is not None
        if rtype == "aws_iam_role":
            embedded = iter(self._own_docs(res, "inline_policy.policy"))  # one per block written out, in order
            for i, block in enumerate(_items(a.get("inline_policy"))):
                value = block.get("policy") if isinstance(block, dict) else None
                if value in (None, ""):
                    continue
                label = f"{res.name} inline_policy {block.get('name') or i}"
                written = isinstance(value, dict) or (isinstance(value, str) and value.lstrip().startswith("{"))
                doc = next(embedded, None) if written else None
                target = None if written else resolve(value, res, "inline_policy.policy")
                if doc is not None:
                    self._add([own], _Policy(label, _statements([doc])))
                elif isinstance(target, Ref) and target.key in self.g.docs:
                    self._add([own], _Policy(f"{label} ({target.key[2]})", _statements(self.g.docs[target.key])))
                else:
                    self._add([own], _Policy(label, unresolved=f"{label} cannot be read statically"))
            for arn in _items(a.get("managed_policy_arns")):
                self._add([own], self._by_arn(arn, res, "managed_policy_arns"))
        elif rtype == "AWS::IAM::Role":
            for i, item in enumerate(_items(a.get("policies"))):
                docs = self._own_docs(res, f"Policies[{i}].PolicyDocument")
                pname = item.get("policy_name") if isinstance(item, dict) else None
                label = f"{res.name} Policies[{i}]" + (f" ({pname})" if isinstance(pname, str) else "")
                if docs:
                    self._add([own], _Policy(label, _statements(docs)))
                else:
                    self._add([own], _Policy(label, unresolved=f"{label} cannot be read statically"))
            for arn in _items(a.get("managed_policy_arns")):
                self._add([own], self._by_arn(arn, res, "managed_policy_arns"))
        elif rtype == "aws_iam_role_policy":
            self._add(self._roles(a.get("role"), res, "role"), self._document(res, "policy", "policy"))
        elif rtype == "aws_iam_role_policy_attachment":
            roles = self._roles(a.get("role"), res, "role")
            if roles:
                self._add(roles, self._by_arn(a.get("policy_arn"), res, "policy_arn"))
        elif rtype == "aws_iam_policy_attachment":
            roles = [k for r in _items(a.get("roles")) for k in self._roles(r, res, "roles")]
            if roles:
                self._add(roles, self._by_arn(a.get("policy_arn"), res, "policy_arn"))
        elif rtype == "aws_iam_role_policy_attachments_exclusive":
            roles = self._roles(a.get("role_name"), res, "role_name")
            for arn in _items(a.get("policy_arns")) if roles else []:
                self._add(roles, self._by_arn(arn, res, "policy_arns"))
        elif rtype in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            roles = [k for r in _items(a.get("roles")) for k in self._roles(r, res, "roles")]
            self._add(roles, self._document(res, "policy_document", "PolicyDocument"))
        elif rtype == "AWS::IAM::RolePolicy":
            self._add(
                self._roles(a.get("role_name"), res, "role_name"),
                self._document(res, "policy_document", "PolicyDocument"),
            )


@dataclass
class ExecutionRoles(RulesPostAnalyzer):
    """PostAnalyzer `posture.execution_roles`."""

    name: str = "posture.execution_roles"
    rule_ids: ClassVar[tuple[str, ...]] = RULES
    types: frozenset[str] = field(default=frozenset())
    """The canonical types of the resources it judges (the `consumers` of its data table)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.types:
            self.types = frozenset(canonical_type(raw) or raw for raw in data("execution_roles")["consumers"])

    def analyze(self, facts: FactStore, ctx: ScanContext) -> Iterable[Output]:
        consumers: dict[str, list[str]] = data("execution_roles")["consumers"]
        mine = [r for r in facts.of(ConfigResource) if raw_type(r) in consumers]
        if not mine:
            return []
        graph = _Builder(facts).build()
        out: list[Output] = []
        for res in mine:
            for path in consumers[raw_type(res)]:
                got = resolve_path(res.attributes, path)
                if got is not None and got[0] not in (None, ""):
                    out.extend(self._judge(res, path, got[0], graph, ctx))
        return out

    def _judge(self, res: ConfigResource, path: str, value: Any, g: _Graph, ctx: ScanContext) -> Iterator[Output]:
        rules = self.rules()
        where = f"{res.path}: {res.name}.{path}"
        target = resolve(value, res, path)
        roles: list[Key] = []
        why: str | None = None
        if isinstance(target, Ref):
            if target.key in g.resources and raw_type(g.resources[target.key]) in _ROLE_TYPES:
                roles = [target.key]
            else:
                why = f"execution role {target.key[2]} is not in the scanned files"
        elif isinstance(target, Literal):
            name = arn_name(target.value, "role") or target.value
            roles = g.roles_by_name.get(name, [])
            why = None if roles else f"execution role {target.value} is not in the scanned files"
        elif isinstance(target, Unresolvable):
            why = f"execution role {target.why}"
        key = coverage_key(res)
        if why is not None:
            yield from rule_verdicts(rules, RULES, where=where, resource=key, unresolved=dict.fromkeys(RULES, why))
            return
        failed: set[str] = set()
        open_why: list[str] = []
        for role_key in roles:
            role = g.resources[role_key]
            scope = (role_key[0], role_key[1])
            if scope in g.open_scopes:
                open_why.append(g.open_scopes[scope])
            for pol in g.attached.get(role_key, []):
                if pol.unresolved is not None:
                    open_why.append(pol.unresolved)
                    continue
                for rid, field_ev, detail in _violations(pol, ctx):
                    failed.add(rid)
                    v = Violation(
                        rid,
                        field_path=path,
                        evidence=f"{role.name} → {pol.label}: {field_ev}",
                        detail=f"role {role.name}, policy {pol.label}{detail}",
                        fingerprint_key=f"{path}:{role.name}:{pol.label}:{detail}",
                    )
                    yield to_finding(v, posture_of(res), rules, self.name)
        unresolved = dict.fromkeys(RULES, open_why[0]) if open_why else None
        yield from rule_verdicts(rules, RULES, where=where, resource=key, failed=failed, unresolved=unresolved)


def _violations(pol: _Policy, ctx: ScanContext) -> Iterator[tuple[str, str, str]]:
    """(rule, evidence, detail) of every overly permissive statement of a policy."""
    if pol.managed is not None:
        tables = data("execution_roles")
        if any(fnmatch.fnmatchcase(pol.managed, p) for p in tables["aws_managed_wildcard"]):
            yield "IAM-011", f"AWS managed {pol.managed} grants broad actions on every resource", ""
        if any(fnmatch.fnmatchcase(pol.managed, p) for p in tables["aws_managed_passrole_any"]):
            yield "IAM-012", f"AWS managed {pol.managed} allows iam:PassRole on every resource", ""
        return
    doc = PostureResource(
        type="aws.iam.policy",
        name=pol.label,
        file="",
        line=None,
        attributes={"statements": list(pol.statements), "context": "identity"},
    )
    for out in _IAM.check(doc, ctx):
        if isinstance(out, Violation) and out.rule_id in _FROM_IAM:
            sid = _sid(pol.statements, out.field_path)
            yield _FROM_IAM[out.rule_id], out.evidence or "", f" {out.field_path}{sid}"


def _sid(statements: tuple[dict[str, Any], ...], field_path: str | None) -> str:
    try:
        i = int((field_path or "").removeprefix("statements[").rstrip("]"))
    except ValueError:
        return ""
    sid = statements[i].get("sid") if 0 <= i < len(statements) else None
    return f" ({sid})" if isinstance(sid, str) and sid else ""


_IAM = IamChecks()
