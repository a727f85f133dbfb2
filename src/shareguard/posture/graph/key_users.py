"""KMS-004 / KMS-005 across resources: a resource that encrypts with a KMS key of the scan whose rotation is off or
whose key policy is open to every principal gets a finding of its own, naming the key.

The key is judged by the KMS checks themselves (KMS-001 / KMS-002 for rotation, KMS-003 for an AWS key policy;
IAM-007 for a Cloud KMS key's IAM members `allUsers` / `allAuthenticatedUsers`), not by a copy of their logic.
A resource names its key in any attribute whose name says so (`kms_key_id`, `kms_key_arn`, `kms_key_name`,
`kms_master_key_id`, `volume_kms_key_id`, `encryption_config.provider.key_arn`,
`database_encryption.key_name`…): SageMaker, Vertex AI, Dataflow, EKS, GKE, S3 and every other service alike.
References resolve as `graph.refs` resolves them, and through `aws_kms_alias` / `AWS::KMS::Alias`; a key policy
attaches inline (`policy`, `KeyPolicy`) or through `aws_kms_key_policy`; Cloud KMS members through
`google_kms_crypto_key_iam_member` / `_binding`.

Outcomes per resource and rule: a finding naming the key; a pass where the key is in the scan and is fine; AWS
managed keys (`alias/aws/…`) pass (AWS rotates them and owns their policy); unresolved (never a pass) where the
key is not in the scanned files, a reference cannot be resolved, or the key's own settings are not known
statically.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from shareguard.core.analyzer import Output
from shareguard.core.context import ScanContext
from shareguard.core.facts import ConfigResource, FactStore
from shareguard.posture.check import to_finding
from shareguard.posture.checks.iam import IamChecks
from shareguard.posture.checks.kms import KmsChecks
from shareguard.posture.graph.refs import (
    Key,
    Literal,
    Ref,
    Unresolvable,
    key_of,
    raw_type,
    resolve,
    scope_of,
)
from shareguard.posture.graph.rule_verdicts import rule_verdicts
from shareguard.posture.model import PostureResource, Unresolved, Violation, coverage_key, posture_of
from shareguard.posture.post_analyzer import RulesPostAnalyzer

ROTATION, POLICY = "KMS-004", "KMS-005"
RULES = (ROTATION, POLICY)
_KEY_TYPES = frozenset({"aws_kms_key", "AWS::KMS::Key", "google_kms_crypto_key"})
_ALIAS_TYPES = frozenset({"aws_kms_alias", "AWS::KMS::Alias"})
_GCP_MEMBER_TYPES = ("google_kms_crypto_key_iam_member", "google_kms_crypto_key_iam_binding")
_SKIP_PREFIXES = ("aws_kms_", "google_kms_", "AWS::KMS::", "aws_iam_", "AWS::IAM::", "google_iam_", "data.")
_SKIP_ATTRS = frozenset({"config_references", "raw_type", "count", "for_each", "tags", "labels", "tags_all"})
_MAX_NODES = 2000
_KEYLIKE = re.compile(
    r"^arn:[\w-]+:kms:|(?:^|/)alias/|cryptoKeys/|^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$|^mrk-[0-9a-f]+$"
)
"""A literal that names a key: a KMS key or alias ARN, an alias, a Cloud KMS key path, a key id."""
_GCP_KEY = re.compile(r"(?:^|/)projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/([^/]+)$")


def _key_field(path: str) -> bool:
    leaf = path.rsplit(".", 1)[-1]
    return "kms" in leaf or leaf == "key_arn" or path.endswith("database_encryption.key_name")


def key_fields(attrs: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """(dotted path, value) of every attribute that names a KMS key (lists entered, budgeted)."""
    stack: list[tuple[str, Any, int]] = [(k, v, 0) for k, v in attrs.items() if k not in _SKIP_ATTRS]
    seen = 0
    while stack and seen < _MAX_NODES:
        path, value, depth = stack.pop()
        seen += 1
        if isinstance(value, str) or (isinstance(value, dict) and _intrinsic(value)):
            if value and _key_field(path):
                yield path, value
        elif isinstance(value, dict) and depth < 8:
            stack.extend((f"{path}.{k}", v, depth + 1) for k, v in value.items() if isinstance(k, str))
        elif isinstance(value, list) and depth < 8:
            stack.extend((path, v, depth + 1) for v in value)


def _intrinsic(value: dict[str, Any]) -> bool:
    return len(value) == 1 and next(iter(value)) in ("Ref", "Fn::GetAtt", "Fn::Sub", "Fn::ImportValue", "Fn::If")


@dataclass
class _Keys:
    keys: dict[Key, ConfigResource] = field(default_factory=dict)
    aliases: dict[Key, ConfigResource] = field(default_factory=dict)
    alias_names: dict[str, ConfigResource] = field(default_factory=dict)
    gcp_names: dict[str, list[Key]] = field(default_factory=dict)
    docs: dict[Key, list[ConfigResource]] = field(default_factory=dict)
    """Key policy documents (`aws.iam.policy`, context key) by their own key."""
    policies: dict[Key, list[ConfigResource]] = field(default_factory=dict)
    """Key → key policy documents attached by `aws_kms_key_policy`."""
    members: dict[Key, list[ConfigResource]] = field(default_factory=dict)
    """Cloud KMS key → its IAM bindings / members (`gcp.iam.policy`)."""
    open_scopes: dict[tuple[str, str], str] = field(default_factory=dict)
    kinds: dict[Key, str] = field(default_factory=dict)
    """Every resource of the scan → its raw type (a reference to a non-key resource names no key)."""


def _collect(facts: FactStore) -> tuple[_Keys, list[ConfigResource]]:
    k = _Keys()
    users: list[ConfigResource] = []
    attachers: list[ConfigResource] = []
    for res in facts.of(ConfigResource):
        key = key_of(res)
        if key is None:
            continue
        rtype = raw_type(res)
        k.kinds.setdefault(key, rtype)
        if res.type == "aws.iam.policy":
            if res.attributes.get("context") == "key" or key[2].startswith("data.aws_iam_policy_document."):
                k.docs.setdefault(key, []).append(res)
        elif rtype in _KEY_TYPES:
            k.keys.setdefault(key, res)
            name = res.attributes.get("name")
            if rtype == "google_kms_crypto_key" and isinstance(name, str) and "${" not in name:
                k.gcp_names.setdefault(name, []).append(key)
        elif rtype in _ALIAS_TYPES:
            k.aliases.setdefault(key, res)
            name = res.attributes.get("name", res.attributes.get("alias_name"))
            if isinstance(name, str) and name.startswith("alias/"):
                k.alias_names.setdefault(name, res)
        elif rtype in ("aws_kms_key_policy", *_GCP_MEMBER_TYPES):
            attachers.append(res)
        elif not rtype.startswith(_SKIP_PREFIXES):
            users.append(res)
    for res in attachers:
        gcp = raw_type(res) in _GCP_MEMBER_TYPES
        target_attr = "crypto_key_id" if gcp else "key_id"
        target = resolve(res.attributes.get(target_attr), res, target_attr)
        scope = scope_of(res)
        if isinstance(target, Ref) and target.key in k.keys:
            if gcp:
                k.members.setdefault(target.key, []).append(res)
            else:
                k.policies.setdefault(target.key, []).append(res)
        elif scope is not None and not isinstance(target, Ref):
            k.open_scopes.setdefault(scope, f"{res.name} names a key that cannot be resolved")
    return k, users


@dataclass
class KeyUsers(RulesPostAnalyzer):
    """PostAnalyzer `posture.key_users`."""

    name: str = "posture.key_users"
    rule_ids: ClassVar[tuple[str, ...]] = RULES
    types: frozenset[str] = frozenset({"*"})
    """Any resource may name a key."""

    def analyze(self, facts: FactStore, ctx: ScanContext) -> Iterable[Output]:
        k, users = _collect(facts)
        out: list[Output] = []
        for res in users:
            fields = list(key_fields(res.attributes))
            if fields:
                out.extend(self._judge(res, fields, k, ctx))
        return out

    def _key(self, value: Any, res: ConfigResource, path: str, k: _Keys) -> tuple[Key | None, str | None]:
        """(the key in the scan, None) / (None, why unresolved) / (None, None) for an AWS managed key / (None, "")
        for a value that names no key."""
        target = resolve(value, res, path)
        if isinstance(target, Ref):
            if target.key in k.keys:
                return target.key, None
            alias = k.aliases.get(target.key)
            if alias is not None:
                return self._key(alias.attributes.get("target_key_id"), alias, "target_key_id", k)
            if target.key in k.kinds:
                return None, ""  # a resource of the scan that is no key (e.g. a bucket ARN in a `*_kms_*` field)
            return None, f"key {target.key[2]} is not in the scanned files"
        if isinstance(target, Literal):
            text = target.value
            if not _KEYLIKE.search(text):
                return None, ""  # not a key (`aws:kms`, `true`, a flag): nothing to judge
            alias_name = text[text.index("alias/") :] if "alias/" in text else None
            if alias_name is not None and alias_name.startswith("alias/aws/"):
                return None, None  # an AWS managed key: rotated by AWS, its policy is AWS's
            if alias_name is not None and alias_name in k.alias_names:
                alias = k.alias_names[alias_name]
                return self._key(alias.attributes.get("target_key_id"), alias, "target_key_id", k)
            m = _GCP_KEY.search(text)
            if m is not None and len(k.gcp_names.get(m.group(1), [])) == 1:
                return k.gcp_names[m.group(1)][0], None
            return None, f"key {text[:120]} is not in the scanned files"
        if isinstance(target, Unresolvable):
            return None, f"key {target.why}"
        return None, "no key"

    def _judge(
        self, res: ConfigResource, fields: list[tuple[str, Any]], k: _Keys, ctx: ScanContext
    ) -> Iterator[Output]:
        rules = self.rules()
        judged: set[Key] = set()
        failed: set[str] = set()
        why: dict[str, str] = {}
        evaluated = False
        for path, value in fields:
            key, reason = self._key(value, res, path, k)
            if key is None:
                if reason == "":
                    continue
                if reason is not None:
                    for rid in RULES:
                        why.setdefault(rid, f"{path}: {reason}")
                else:
                    evaluated = True
                continue
            if key in judged:
                continue
            judged.add(key)
            evaluated = True
            for rid, outcome in _key_outcomes(k.keys[key], key, k, ctx):
                if isinstance(outcome, Unresolved):
                    why.setdefault(rid, f"{path}: key {k.keys[key].name}: {outcome.reason}")
                    continue
                failed.add(rid)
                v = Violation(
                    rid,
                    field_path=path,
                    evidence=f"{path} → {k.keys[key].name}: {outcome.field_path}: {outcome.evidence or outcome.detail}",
                    detail=f"key {k.keys[key].name}",
                    fingerprint_key=f"{path}:{k.keys[key].name}",
                )
                yield to_finding(v, posture_of(res), rules, self.name)
        resource = coverage_key(res)
        yield from rule_verdicts(
            rules,
            RULES,
            where=f"{res.path}: {res.name}",
            resource=resource,
            failed=failed,
            unresolved=why,
            evaluated=evaluated,
        )


def _key_outcomes(
    key_res: ConfigResource, key: Key, k: _Keys, ctx: ScanContext
) -> Iterator[tuple[str, Violation | Unresolved]]:
    """The KMS checks' own verdicts on a key, as (KMS-004 / KMS-005, violation or unresolved)."""
    pres = posture_of(key_res)
    for out in _KMS.check(pres, ctx):
        if out.rule_id in ("KMS-001", "KMS-002"):
            yield ROTATION, out
    scope = (key[0], key[1])
    if raw_type(key_res) == "google_kms_crypto_key":
        for member in k.members.get(key, []):
            bindings = PostureResource(
                type="gcp.iam.policy",
                name=member.name,
                file=member.path,
                line=member.line,
                attributes={"bindings": [_binding(member.attributes)], "scope": "kms_crypto_key"},
            )
            for out in _IAM.check(bindings, ctx):
                if out.rule_id == "IAM-007":
                    yield POLICY, out
    else:
        holders = [key_res, *k.policies.get(key, [])]  # the key's own policy, and aws_kms_key_policy
        for holder in holders:
            docs, readable = _policy_docs(holder, k)
            if not readable:
                yield POLICY, Unresolved(POLICY, "policy", f"the key policy of {holder.name} cannot be read statically")
            for doc in docs:
                as_key = PostureResource(
                    type="aws.iam.policy",
                    name=doc.name,
                    file=doc.path,
                    line=doc.line,
                    attributes={"statements": doc.attributes.get("statements") or [], "context": "key"},
                )
                for out in _KMS.check(as_key, ctx):
                    if out.rule_id == "KMS-003":
                        yield POLICY, out
    if scope in k.open_scopes:
        yield POLICY, Unresolved(POLICY, None, k.open_scopes[scope])


def _policy_docs(holder: ConfigResource, k: _Keys) -> tuple[list[ConfigResource], bool]:
    """The key policy documents a key or `aws_kms_key_policy` holds (inline, or the policy-document data source
    it names), and whether its policy could be read (a missing policy is AWS's default: the account only)."""
    own = key_of(holder)
    assert own is not None
    suffix = "KeyPolicy" if own[0] == "cfn" else "policy"
    found = k.docs.get((own[0], own[1], f"{own[2]}.{suffix}"), [])
    if found:
        return found, True
    attr = "policy" if "policy" in holder.attributes else "key_policy"
    value = holder.attributes.get(attr)
    if value in (None, "", {}):
        return [], True
    target = resolve(value, holder, attr)
    if isinstance(target, Ref) and target.key[2].startswith("data.aws_iam_policy_document."):
        data_docs = k.docs.get(target.key)
        if data_docs:
            return data_docs, True
    return [], False


def _binding(attrs: dict[str, Any]) -> dict[str, Any]:
    """A `google_kms_crypto_key_iam_member` / `_binding` as the binding the IAM checks read."""
    members = [m for m in (*_list(attrs.get("members")), *_list(attrs.get("member"))) if isinstance(m, str)]
    role = attrs.get("role")
    return {"role": role if isinstance(role, str) else None, "members": members, "condition": attrs.get("condition")}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


_KMS = KmsChecks()
_IAM = IamChecks()
