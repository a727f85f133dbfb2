"""STORAGE-005 across resources and files: every S3 bucket of a scan needs a bucket policy that denies
requests without TLS (`aws:SecureTransport` false).

A post analyzer, because a bucket and the policy that attaches to it are separate resources, often in separate
files (Terraform `aws_s3_bucket` + `aws_s3_bucket_policy` in one directory, CloudFormation `AWS::S3::Bucket` +
`AWS::S3::BucketPolicy`, a plan's resources). It reads the `ConfigResource` facts the posture parsers publish:
buckets (`aws.s3.bucket`) and bucket policies (`aws.iam.policy` with `context: bucket` and the `bucket` they
attach to, as written). A policy's bucket is resolved by:

- a Terraform reference `${aws_s3_bucket.NAME.id|bucket|arn}` → that bucket in the same directory (a module);
- a plan reference (`${ADDRESS.id}`, from the plan's configuration) → that address in the same plan;
- a CloudFormation `{"Ref": ID}` → that logical id in the same template;
- a literal name → the bucket of that name anywhere in the scan (S3 names are global).

Verdicts: a bucket whose policy denies insecure transport passes; a bucket without such a policy fails (on the
bucket when it has no policy, on its policy otherwise). A policy whose bucket is not in the scan (or that names
none) is judged by itself. A policy whose bucket reference cannot be resolved (an unset variable, a module
output, a data source, an import) fails when it lacks the deny (whatever bucket it protects lacks it too); when
it has the deny the bucket it protects is unknown: the duty is left incomplete, and buckets of the same module
or template without a deny of their own are not failed but left incomplete too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from shareguard.core.analyzer import Output
from shareguard.core.context import ScanContext
from shareguard.core.coverage import Evaluation, Gap
from shareguard.core.facts import ConfigResource, FactStore
from shareguard.core.rules import RuleMeta
from shareguard.posture.check import to_finding
from shareguard.posture.checks.storage import denies_insecure_transport
from shareguard.posture.model import Violation, coverage_key, posture_of
from shareguard.posture.parsers._common import UNKNOWN
from shareguard.posture.post_analyzer import RulesPostAnalyzer

RULE = "STORAGE-005"
_TF_REF = re.compile(
    r"^\$\{(?P<addr>(?:module\.[\w-]+(?:\[[^\]]*\])?\.)*aws_s3_bucket\.[\w-]+)(?:\[[^\]]*\])?\.(?:id|bucket|arn)\}$"
)
_INDEX = re.compile(r"\[[^\]]*\]")

Key = tuple[str, str, str]
"""(format family, scope, local id): ("tf", directory, address), ("plan", file, address), ("cfn", file, logical id)."""


def _dir(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""


def _bucket_key(res: ConfigResource) -> Key | None:
    if res.source_format == "terraform":
        return ("tf", _dir(res.path), _INDEX.sub("", res.name))
    if res.source_format == "terraform-plan":
        return ("plan", res.path, _INDEX.sub("", res.name))
    if res.source_format == "cloudformation":
        return ("cfn", res.path, res.name)
    return None


def _bucket_name(res: ConfigResource) -> str | None:
    a = res.attributes
    for key in ("bucket", "bucket_name"):
        value = a.get(key)
        if isinstance(value, str) and value and value != UNKNOWN and "${" not in value:
            return value
    return None


def _scope(res: ConfigResource) -> tuple[str, str] | None:
    key = _bucket_key(res)
    return (key[0], key[1]) if key is not None else None


@dataclass
class _Policy:
    res: ConfigResource
    denies: bool
    target: Key | str | None = None
    """A bucket key, a literal bucket name, or None (names no bucket)."""
    unresolved: str | None = None
    """Why the bucket reference cannot be resolved (None when it can)."""


def _target(res: ConfigResource) -> tuple[Key | str | None, str | None]:
    """(target, why unresolved) of a bucket policy."""
    ref = res.attributes.get("bucket")
    if ref is None:
        return None, None
    if isinstance(ref, str) and ref and ref != UNKNOWN and "${" not in ref:
        return ref, None  # a literal bucket name
    if isinstance(ref, str) and res.source_format in ("terraform", "terraform-plan"):
        m = _TF_REF.match(ref)
        if m is not None:
            family = "tf" if res.source_format == "terraform" else "plan"
            scope = _dir(res.path) if family == "tf" else res.path
            return (family, scope, _INDEX.sub("", m.group("addr"))), None
    if isinstance(ref, dict) and res.source_format == "cloudformation" and isinstance(ref.get("Ref"), str):
        return ("cfn", res.path, ref["Ref"]), None
    shown = ref if isinstance(ref, str) else next(iter(ref), "?") if isinstance(ref, dict) else type(ref).__name__
    return None, f"bucket reference {shown} cannot be resolved"


@dataclass
class BucketPolicies(RulesPostAnalyzer):
    """PostAnalyzer `posture.bucket_policies`."""

    name: str = "posture.bucket_policies"
    rule_ids: ClassVar[tuple[str, ...]] = (RULE,)
    types: frozenset[str] = frozenset({"aws.s3.bucket", "aws.iam.policy"})
    """The resource types it judges (the `applies_to` of its rule selects among them)."""

    def analyze(self, facts: FactStore, ctx: ScanContext) -> Iterable[Output]:
        return list(self._run(facts))

    def _run(self, facts: FactStore) -> Iterator[Output]:
        rules = self.rules()
        meta = rules[RULE]
        buckets: dict[Key, ConfigResource] = {}
        by_name: dict[str, list[Key]] = {}
        policies: list[_Policy] = []
        for res in facts.of(ConfigResource):
            if res.type == "aws.s3.bucket":
                key = _bucket_key(res)
                if key is None:
                    continue
                buckets.setdefault(key, res)
                name = _bucket_name(res)
                if name is not None:
                    by_name.setdefault(name, []).append(key)
            elif res.type == "aws.iam.policy" and res.attributes.get("context") == "bucket":
                target, why = _target(res)
                statements: Any = res.attributes.get("statements") or []
                policies.append(_Policy(res, denies_insecure_transport(statements), target, why))
        attached: dict[Key, list[_Policy]] = {}
        for pol in policies:
            if pol.unresolved is not None:
                if pol.denies:
                    yield Gap(
                        meta.control_ids, f"{pol.res.path}: {pol.res.name}", f"{RULE} unresolved: {pol.unresolved}"
                    )
                else:
                    yield self._fail(pol.res, rules, "statements", None)
                continue
            keys = [pol.target] if isinstance(pol.target, tuple) else by_name.get(pol.target or "", [])
            keys = [k for k in keys if k in buckets]
            for k in keys:
                attached.setdefault(k, []).append(pol)
            if not keys:  # the bucket is not in the scan (or not named): the policy is judged by itself
                if pol.denies:
                    yield Evaluation(RULE, meta.control_ids, coverage_key(pol.res))
                else:
                    yield self._fail(pol.res, rules, "statements", None)
        open_scopes = {_scope(p.res) for p in policies if p.unresolved is not None and p.denies}
        for key, bucket in buckets.items():
            mine = attached.get(key, [])
            if any(p.denies for p in mine):
                yield Evaluation(RULE, meta.control_ids, coverage_key(bucket))
            elif mine:
                for pol in mine:
                    yield self._fail(
                        pol.res, rules, "statements", f"the policy of bucket {bucket.name} has no such deny"
                    )
            elif (key[0], key[1]) in open_scopes:
                yield Gap(
                    meta.control_ids,
                    f"{bucket.path}: {bucket.name}",
                    f"{RULE} unresolved: a bucket policy of the same {'template' if key[0] == 'cfn' else 'module'} "
                    "denies insecure transport but its bucket reference cannot be resolved",
                )
            else:
                yield self._fail(bucket, rules, None, "no bucket policy attaches to it")

    def _fail(
        self, res: ConfigResource, rules: dict[str, RuleMeta], field_path: str | None, detail: str | None
    ) -> Output:
        violation = Violation(RULE, field_path=field_path, detail=detail)
        return to_finding(violation, posture_of(res), rules, self.name)
