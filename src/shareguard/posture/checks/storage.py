"""Storage checks: S3 public access blocks, public ACLs, public bucket policies, SSE-KMS with a CMK; Cloud
Storage uniform access, public access prevention, CMEK. The `aws:SecureTransport` deny (STORAGE-005) is a
cross-resource rule (a bucket and the policy that attaches to it): `posture.bucket_policies`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from shareguard.core.context import ScanContext
from shareguard.posture.checks._util import as_bool, is_unknown, known, present, v
from shareguard.posture.model import PostureResource, Unresolved, Violation

PAB_FLAGS = ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
_PUBLIC_ACLS = frozenset(
    {"public-read", "public-read-write", "authenticated-read", "publicread", "publicreadwrite", "authenticatedread"}
)


def public_principal(st: dict[str, Any]) -> bool:
    p = st.get("principals") or {}
    return "*" in p or "*" in p.get("AWS", [])


def denies_insecure_transport(statements: list[dict[str, Any]]) -> bool:
    for st in statements:
        if st.get("effect", "").lower() != "deny":
            continue
        for op, body in (st.get("conditions") or {}).items():
            if "bool" not in op.lower():
                continue
            for key, values in body.items():
                if key.lower() == "aws:securetransport" and any(str(x).lower() == "false" for x in values):
                    return True
    return False


@dataclass(frozen=True)
class StorageChecks:
    name: str = "storage"
    types: frozenset[str] = frozenset(
        {
            "aws.s3.bucket",
            "aws.s3.bucket_acl",
            "aws.s3.encryption",
            "aws.s3.public_access_block",
            "aws.iam.policy",
            "gcp.storage.bucket",
        }
    )

    def check(self, res: PostureResource, ctx: ScanContext) -> Iterable[Violation | Unresolved]:
        a = res.attributes
        if res.type == "aws.s3.public_access_block":
            yield from self._pab(res, a, "")
        elif res.type == "aws.s3.bucket":
            pab = a.get("public_access_block")
            if isinstance(pab, dict):
                yield from self._pab(res, pab, "public_access_block.")
            elif res.source_format == "cloudformation":
                yield v("STORAGE-001", res, None, detail="no PublicAccessBlockConfiguration")
            yield from self._acl(res, a)
            yield from self._sse(res, a, required=res.source_format == "cloudformation")
        elif res.type == "aws.s3.bucket_acl":
            yield from self._acl(res, a)
        elif res.type == "aws.s3.encryption":
            yield from self._sse(res, a, required=True)
        elif res.type == "aws.iam.policy" and a.get("context") == "bucket":
            statements = a.get("statements") or []
            for i, st in enumerate(statements):
                if st.get("effect", "Allow").lower() == "allow" and public_principal(st) and not st.get("conditions"):
                    field = f"statements[{i}]"
                    yield v(
                        "STORAGE-003", res, field, evidence="Principal * " + ", ".join(st["actions"][:3]), key=field
                    )
        elif res.type == "gcp.storage.bucket":
            ubla = a.get("uniform_bucket_level_access")
            if is_unknown(ubla):
                yield Unresolved("STORAGE-006", "uniform_bucket_level_access", f"uniform access is {ubla}")
            elif ubla is None or as_bool(ubla) is False:
                yield v("STORAGE-006", res, "uniform_bucket_level_access")
            pap = a.get("public_access_prevention")
            if is_unknown(pap):
                yield Unresolved("STORAGE-007", "public_access_prevention", f"public access prevention is {pap}")
            elif pap is None or (known(pap) and str(pap).lower() != "enforced"):
                yield v("STORAGE-007", res, "public_access_prevention", evidence=str(pap or "inherited (default)"))
            if not present(a.get("kms_key_name")):
                yield v("STORAGE-008", res, "kms_key_name")

    def _pab(self, res: PostureResource, pab: dict[str, Any], prefix: str) -> Iterable[Violation | Unresolved]:
        off = [f for f in PAB_FLAGS if not is_unknown(pab.get(f)) and as_bool(pab.get(f)) is not True]
        unknown = [f for f in PAB_FLAGS if is_unknown(pab.get(f))]
        if off:
            yield v("STORAGE-001", res, prefix + off[0], detail="not enabled: " + ", ".join(off))
        elif unknown:
            yield Unresolved("STORAGE-001", prefix + unknown[0], "set from an expression: " + ", ".join(unknown))

    def _acl(self, res: PostureResource, a: dict[str, Any]) -> Iterable[Violation | Unresolved]:
        acl = a.get("acl")
        if is_unknown(acl):
            yield Unresolved("STORAGE-002", "acl", f"ACL is {acl}")
        elif known(acl) and str(acl).lower().replace("_", "-") in _PUBLIC_ACLS:
            yield v("STORAGE-002", res, "acl", evidence=str(acl))

    def _sse(self, res: PostureResource, a: dict[str, Any], *, required: bool) -> Iterable[Violation | Unresolved]:
        algo = a.get("sse_algorithm")
        if algo is None:
            if required:
                yield v("STORAGE-004", res, "sse_algorithm", detail="no default encryption with a KMS key")
            return
        if is_unknown(algo):
            yield Unresolved("STORAGE-004", "sse_algorithm", f"encryption algorithm is {algo}")
        elif known(algo) and not str(algo).lower().startswith("aws:kms"):
            yield v("STORAGE-004", res, "sse_algorithm", evidence=str(algo))
        elif known(algo) and not present(a.get("kms_key_id")):
            yield v("STORAGE-004", res, "sse_algorithm", detail="aws:kms without a customer-managed key id")


CHECKS = (StorageChecks(),)
