"""SageMaker checks: notebook instances, training/processing jobs, endpoint configs, models."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from shareguard.core.context import ScanContext
from shareguard.posture.checks._util import is_true, is_unknown, known, present, v
from shareguard.posture.model import PostureResource, Unresolved, Violation


def _enabled_or_default(value: object) -> bool:
    """RootAccess / DirectInternetAccess default to `Enabled` when not set."""
    if value is None:
        return True
    return known(value) and str(value).strip().lower() == "enabled"


_JOB: dict[str, tuple[str, ...]] = {
    "inter_container_traffic_encryption": ("SAGEMAKER-007",),
    "network_isolation": ("SAGEMAKER-008",),
}
# Resource type → attribute → the rules an unresolved expression there leaves undecided.
_JUDGED: dict[str, dict[str, tuple[str, ...]]] = {
    "aws.sagemaker.notebook": {"root_access": ("SAGEMAKER-001",), "direct_internet_access": ("SAGEMAKER-002",)},
    "aws.sagemaker.training_job": _JOB,
    "aws.sagemaker.processing_job": _JOB,
    "aws.sagemaker.model": {"network_isolation": ("SAGEMAKER-008",)},
}


@dataclass(frozen=True)
class SageMakerChecks:
    name: str = "sagemaker"
    types: frozenset[str] = frozenset(
        {
            "aws.sagemaker.notebook",
            "aws.sagemaker.training_job",
            "aws.sagemaker.processing_job",
            "aws.sagemaker.endpoint_config",
            "aws.sagemaker.model",
        }
    )

    def check(self, res: PostureResource, ctx: ScanContext) -> Iterable[Violation | Unresolved]:
        a = res.attributes
        for key, rules in _JUDGED.get(res.type, {}).items():
            if is_unknown(a.get(key)):
                for rule in rules:
                    yield Unresolved(rule, key, f"{key} is {a[key]}")
        if res.type == "aws.sagemaker.notebook":
            if _enabled_or_default(a.get("root_access")):
                yield v("SAGEMAKER-001", res, "root_access", evidence=str(a.get("root_access") or "Enabled (default)"))
            if _enabled_or_default(a.get("direct_internet_access")):
                yield v(
                    "SAGEMAKER-002",
                    res,
                    "direct_internet_access",
                    evidence=str(a.get("direct_internet_access") or "Enabled (default)"),
                )
            if not present(a.get("subnet_id")):
                yield v("SAGEMAKER-003", res, "subnet_id")
            if not present(a.get("kms_key_id")):
                yield v("SAGEMAKER-004", res, "kms_key_id")
        elif res.type in ("aws.sagemaker.training_job", "aws.sagemaker.processing_job"):
            if not present(a.get("volume_kms_key_id")):
                yield v("SAGEMAKER-005", res, "volume_kms_key_id")
            if not present(a.get("output_kms_key_id")):
                yield v("SAGEMAKER-006", res, "output_kms_key_id")
            if not is_true(a.get("inter_container_traffic_encryption")) and not _unknown(
                a, "inter_container_traffic_encryption"
            ):
                yield v("SAGEMAKER-007", res, "inter_container_traffic_encryption")
            if not is_true(a.get("network_isolation")) and not _unknown(a, "network_isolation"):
                yield v("SAGEMAKER-008", res, "network_isolation")
        elif res.type == "aws.sagemaker.endpoint_config":
            if not present(a.get("kms_key_id")):
                yield v("SAGEMAKER-009", res, "kms_key_id")
        elif (
            res.type == "aws.sagemaker.model"
            and not is_true(a.get("network_isolation"))
            and not _unknown(a, "network_isolation")
        ):
            yield v("SAGEMAKER-008", res, "network_isolation")


def _unknown(a: dict[str, object], key: str) -> bool:
    value = a.get(key)
    return value is not None and not known(value)


CHECKS = (SageMakerChecks(),)
