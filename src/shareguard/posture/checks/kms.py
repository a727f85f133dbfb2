"""KMS checks: key rotation (AWS, GCP) and key policies open to every principal."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from shareguard.core.context import ScanContext
from shareguard.posture.checks._util import as_bool, is_unknown, v
from shareguard.posture.checks.storage import public_principal
from shareguard.posture.model import PostureResource, Unresolved, Violation

MAX_ROTATION_SECONDS = 90 * 24 * 3600
_SECONDS = re.compile(r"^(\d+(?:\.\d+)?)s$")


@dataclass(frozen=True)
class KmsChecks:
    name: str = "kms"
    types: frozenset[str] = frozenset({"aws.kms.key", "gcp.kms.crypto_key", "aws.iam.policy"})

    def check(self, res: PostureResource, ctx: ScanContext) -> Iterable[Violation | Unresolved]:
        # Only symmetric keys rotate automatically: KMS-001/002 select keys whose `key_spec` is unset or the
        # symmetric one (rules/kms.yaml); an unknown key spec leaves rotation undecided.
        a = res.attributes
        if res.type == "aws.kms.key":
            spec = a.get("key_spec")
            if is_unknown(spec):
                yield Unresolved("KMS-001", "key_spec", f"key spec is {spec}")
                return
            if (spec or "SYMMETRIC_DEFAULT") != "SYMMETRIC_DEFAULT":
                return  # AWS rotates only symmetric keys automatically
            rot = a.get("rotation_enabled")
            if is_unknown(rot):
                yield Unresolved("KMS-001", "rotation_enabled", f"rotation is {rot}")
            elif as_bool(rot) is not True:
                yield v("KMS-001", res, "rotation_enabled", evidence=str(rot if rot is not None else "not set"))
        elif res.type == "gcp.kms.crypto_key":
            purpose = a.get("key_spec")
            if is_unknown(purpose):
                yield Unresolved("KMS-002", "key_spec", f"key purpose is {purpose}")
                return
            if (purpose or "ENCRYPT_DECRYPT") != "ENCRYPT_DECRYPT":
                return  # only symmetric keys support automatic rotation
            period = a.get("rotation_period")
            m = _SECONDS.match(period) if isinstance(period, str) else None
            if period is None:
                yield v("KMS-002", res, "rotation_period", detail="no rotation period")
            elif m is None:
                yield Unresolved("KMS-002", "rotation_period", f"rotation period is {period}")
            elif float(m.group(1)) > MAX_ROTATION_SECONDS:
                yield v(
                    "KMS-002", res, "rotation_period", evidence=period, detail=f"{float(m.group(1)) / 86400:.0f} days"
                )
        elif res.type == "aws.iam.policy" and a.get("context") == "key":
            for i, st in enumerate(a.get("statements") or []):
                if st.get("effect", "Allow").lower() == "allow" and public_principal(st) and not st.get("conditions"):
                    field = f"statements[{i}]"
                    yield v("KMS-003", res, field, evidence="Principal * " + ", ".join(st["actions"][:3]), key=field)


CHECKS = (KmsChecks(),)
