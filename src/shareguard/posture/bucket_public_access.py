"""STORAGE-001 across resources in Terraform (HCL and plan JSON), as CloudFormation judges it inline: an S3 bucket
with no public access block fails, whatever format it is written in.

CloudFormation keeps the block inside the bucket (`PublicAccessBlockConfiguration`, judged by the storage checks);
Terraform keeps it in a separate `aws_s3_bucket_public_access_block` that names the bucket, often in another file
of the module. This post analyzer reads the `ConfigResource` facts and, for each Terraform / plan bucket, looks for
a block that attaches to it (resolved as `bucket_policies` resolves bucket policies: a reference in the same
module or plan, or a literal bucket name anywhere in the scan) or an account-wide
`aws_s3_account_public_access_block`. The block's own flags are judged by the storage checks.

- a bucket with a block, or in a scan with an account-wide block: evaluated, passes here;
- a bucket with neither: fails (new buckets get Block Public Access by default since April 2023, but a bucket
  imported into the configuration or created earlier does not; the configuration does not say which);
- a block whose bucket reference cannot be resolved, in the bucket's module: the bucket is left incomplete.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import ClassVar

from shareguard.core.analyzer import Output
from shareguard.core.context import ScanContext
from shareguard.core.coverage import Evaluation, Gap
from shareguard.core.facts import ConfigResource, FactStore
from shareguard.posture.bucket_policies import Key, _bucket_key, _bucket_name, _scope, _target
from shareguard.posture.check import to_finding
from shareguard.posture.model import Violation, coverage_key, posture_of
from shareguard.posture.post_analyzer import RulesPostAnalyzer

RULE = "STORAGE-001"
_FORMATS = frozenset({"terraform", "terraform-plan"})


@dataclass
class BucketPublicAccess(RulesPostAnalyzer):
    """PostAnalyzer `posture.bucket_public_access`."""

    name: str = "posture.bucket_public_access"
    rule_ids: ClassVar[tuple[str, ...]] = (RULE,)
    types: frozenset[str] = frozenset({"aws.s3.bucket", "aws.s3.public_access_block"})

    def analyze(self, facts: FactStore, ctx: ScanContext) -> Iterable[Output]:
        return list(self._run(facts))

    def _run(self, facts: FactStore) -> Iterator[Output]:
        rules = self.rules()
        meta = rules[RULE]
        buckets: dict[Key, ConfigResource] = {}
        by_name: dict[str, list[Key]] = {}
        covered: set[Key] = set()
        open_scopes: set[tuple[str, str] | None] = set()
        account_wide = False
        blocks: list[ConfigResource] = []
        for res in facts.of(ConfigResource):
            if res.source_format not in _FORMATS:
                continue
            if res.type == "aws.s3.bucket":
                key = _bucket_key(res)
                if key is not None:
                    buckets.setdefault(key, res)
                    name = _bucket_name(res)
                    if name is not None:
                        by_name.setdefault(name, []).append(key)
            elif res.type == "aws.s3.public_access_block":
                if "aws_s3_account_public_access_block" in res.name:
                    account_wide = True
                else:
                    blocks.append(res)
        for block in blocks:
            target, why = _target(block)
            if why is not None or target is None:
                open_scopes.add(_scope(block))
                continue
            keys = [target] if isinstance(target, tuple) else by_name.get(target, [])
            covered.update(keys)
        for key, bucket in buckets.items():
            if key in covered or account_wide:
                yield Evaluation(RULE, meta.control_ids, coverage_key(bucket))
            elif (key[0], key[1]) in open_scopes:
                yield Gap(
                    meta.control_ids,
                    f"{bucket.path}: {bucket.name}",
                    f"{RULE} unresolved: a public access block of the same module names a bucket that cannot be resolved",
                )
            else:
                violation = Violation(RULE, detail="no aws_s3_bucket_public_access_block attaches to it")
                yield to_finding(violation, posture_of(bucket), rules, self.name)
