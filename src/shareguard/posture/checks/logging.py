"""Activity-logging checks: CloudTrail trails (multi-region, log file validation, KMS, logging on) and GCP
Data Access audit logs (`auditConfigs` / `google_project_iam_audit_config`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from shareguard.core.context import ScanContext
from shareguard.posture.checks._util import is_false, is_true, is_unknown, known, present, v
from shareguard.posture.model import PostureResource, Unresolved, Violation

_DATA_LOGS = frozenset({"DATA_READ", "DATA_WRITE"})


@dataclass(frozen=True)
class LoggingChecks:
    name: str = "logging"
    types: frozenset[str] = frozenset({"aws.cloudtrail.trail", "gcp.iam.policy"})

    def check(self, res: PostureResource, ctx: ScanContext) -> Iterable[Violation | Unresolved]:
        a = res.attributes
        if res.type == "aws.cloudtrail.trail":
            for rule, key in (("LOG-001", "multi_region"), ("LOG-002", "log_file_validation")):
                value = a.get(key)
                if is_unknown(value):
                    yield Unresolved(rule, key, f"{key} is {value}")
                elif not is_true(value) and (value is None or known(value)):
                    yield v(rule, res, key)
            if not present(a.get("kms_key_id")):
                yield v("LOG-003", res, "kms_key_id")
            if is_unknown(a.get("logging")):
                yield Unresolved("LOG-004", "logging", f"logging is {a.get('logging')}")
            elif is_false(a.get("logging")):
                yield v("LOG-004", res, "logging")
            return
        if not a.get("audit_configs_complete"):
            # A binding-only resource says nothing about audit logs; an audit config for one service leaves
            # allServices to be configured elsewhere; a bucket's policy has no audit configs.
            return
        configs = a.get("audit_configs") or []
        all_services = [c for c in configs if c.get("service") == "allServices"]
        types = {t for c in all_services for t in c.get("log_types", [])}
        missing = sorted(_DATA_LOGS - types)
        if missing:
            yield v(
                "LOG-005",
                res,
                "audit_configs",
                detail="missing " + ", ".join(missing),
                evidence=", ".join(sorted(types)) or "no auditConfigs",
            )


CHECKS = (LoggingChecks(),)
