"""Activity-logging checks: CloudTrail trails (multi-region, log file validation, KMS, logging on) and GCP
Data Access audit logs (`auditConfigs` / `google_project_iam_audit_config`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from shareguard.core.context import ScanContext
from shareguard.posture.checks._util import is_false, is_true, known, present, v
from shareguard.posture.model import PostureResource, Violation

_DATA_LOGS = frozenset({"DATA_READ", "DATA_WRITE"})


@dataclass(frozen=True)
class LoggingChecks:
    name: str = "logging"
    types: frozenset[str] = frozenset({"aws.cloudtrail.trail", "gcp.iam.policy"})

    def check(self, res: PostureResource, ctx: ScanContext) -> Iterable[Violation]:
        a = res.attributes
        if res.type == "aws.cloudtrail.trail":
            if not is_true(a.get("multi_region")) and (a.get("multi_region") is None or known(a.get("multi_region"))):
                yield v("LOG-001", res, "multi_region")
            if not is_true(a.get("log_file_validation")) and (
                a.get("log_file_validation") is None or known(a.get("log_file_validation"))
            ):
                yield v("LOG-002", res, "log_file_validation")
            if not present(a.get("kms_key_id")):
                yield v("LOG-003", res, "kms_key_id")
            if is_false(a.get("logging")):
                yield v("LOG-004", res, "logging")
            return
        configs = a.get("audit_configs")
        if configs is None:
            return  # a binding-only resource says nothing about audit logs
        if res.raw_type == "gcp:iam-policy" and a.get("scope") != "project":
            return
        all_services = [c for c in configs if c.get("service") == "allServices"]
        if res.source_format == "terraform" and not all_services:
            return  # an audit config for one service; allServices may be configured elsewhere
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
