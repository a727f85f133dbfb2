"""Dataflow job checks over the canonical `gcp.dataflow.job` (Terraform, plan, describe JSON, Beam options)
and `gcp.dataflow.sdk` (apache-beam pins)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from shareguard.core.clock import ScanClock
from shareguard.core.context import ScanContext
from shareguard.core.errors import ShareguardError
from shareguard.core.masking import mask
from shareguard.freshness import store
from shareguard.freshness.beam import newest_supported, sdk_support
from shareguard.posture import tables
from shareguard.posture.checks._util import DEFAULT_COMPUTE_SA, as_list, is_unknown, known, present, v
from shareguard.posture.model import PostureResource, Unresolved, Violation
from shareguard.posture.options import PostureOptions

_BAD_STATUS = frozenset({"DEPRECATED", "UNSUPPORTED", "DECOMMISSIONED"})
_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def _explicit(res: PostureResource) -> bool:
    """A *missing* option is a finding only where the whole job is described (`described`, see
    parsers/_build.py): not Beam code whose options may come from the command line at run time, nor a Flex
    Template spec file (image + sdkInfo, no job settings), nor the summary view of a job."""
    return res.attributes.get("described") in ("complete", "environment")


def _all_settings(res: PostureResource) -> bool:
    """Whether a missing worker IP configuration / service account means the default (public IPs, the
    Compute Engine default account): not in describe-API output, which may simply not show them."""
    return res.attributes.get("described") == "complete"


_OWN_SA = re.compile(r"^\$\{google_service_account\.[\w-]+\.email\}$")


def _sdk_judgement(sdk: str, res: PostureResource, ctx: ScanContext) -> Iterable[Violation | Unresolved]:
    """DATAFLOW-005 from the freshness release catalog's Beam SDK table (one source of truth with `catalog show
    --framework beam`): deprecated or decommissioned fails, supported passes, a version the catalog does not
    list (or a catalog that cannot be read) is unresolved, never a pass."""
    try:
        catalog = store.load(ctx.settings)
    except ShareguardError as exc:
        yield Unresolved("DATAFLOW-005", "sdk_version", f"release catalog unreadable: {exc.message}")
        return
    today = ctx.options.get(ScanClock).today()
    got = sdk_support(sdk, catalog, today)
    if got.status in ("deprecated", "decommissioned"):
        move = newest_supported(catalog, today)
        yield v(
            "DATAFLOW-005",
            res,
            "sdk_version",
            evidence=f"{sdk} {got.status.upper()}",
            detail=f"Beam SDK {sdk}: {got.detail}" + (f"; move to {move}" if move else ""),
        )
    elif got.status == "unknown":
        yield Unresolved("DATAFLOW-005", "sdk_version", f"Beam SDK {sdk} unidentified: {got.detail}")


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


@dataclass(frozen=True)
class DataflowChecks:
    name: str = "dataflow"
    types: frozenset[str] = frozenset({"gcp.dataflow.job", "gcp.dataflow.sdk"})

    def check(self, res: PostureResource, ctx: ScanContext) -> Iterable[Violation | Unresolved]:
        a = res.attributes
        if res.type == "gcp.dataflow.sdk":
            yield from self._sdk(res, ctx)
            return
        if _explicit(res) and not present(a.get("kms_key_name")):
            yield v("DATAFLOW-001", res, "kms_key_name")
        ip = a.get("ip_configuration")
        if is_unknown(ip):
            yield Unresolved("DATAFLOW-002", "ip_configuration", f"worker IP configuration is {ip}")
        elif known(ip) and str(ip).upper() != "WORKER_IP_PRIVATE":
            yield v("DATAFLOW-002", res, "ip_configuration", evidence=str(ip))
        elif ip is None and _all_settings(res):
            yield v(
                "DATAFLOW-002", res, "ip_configuration", detail="worker IP configuration not set (public by default)"
            )
        sa = a.get("service_account_email")
        if is_unknown(sa) and not _OWN_SA.match(str(sa)):  # a service account created here is not the default
            yield Unresolved("DATAFLOW-003", "service_account_email", f"worker service account is {sa}")
        elif known(sa) and DEFAULT_COMPUTE_SA.match(str(sa)):
            yield v("DATAFLOW-003", res, "service_account_email", evidence=mask(str(sa), 6))
        elif sa is None and _all_settings(res):
            yield v(
                "DATAFLOW-003",
                res,
                "service_account_email",
                detail="no worker service account (defaults to the Compute Engine default one)",
            )
        deprecated = tables.load("dataflow", ctx.settings).doc["deprecated_experiments"]
        for i, exp in enumerate(as_list(a.get("experiments"))):
            name = str(exp).split("=", 1)[0]
            if name in deprecated:  # `experiments[i]`: the line of that item where the format knows it
                yield v("DATAFLOW-004", res, f"experiments[{i}]", evidence=name, detail=name, key=name)
        sdk = a.get("sdk_version")
        if is_unknown(sdk):
            yield Unresolved("DATAFLOW-005", "sdk_version", f"Beam SDK version is {sdk}")
        reported = str(a.get("sdk_support_status") or "").upper()
        if known(sdk) and reported in _BAD_STATUS:  # what Dataflow itself said of the job's SDK wins
            yield v("DATAFLOW-005", res, "sdk_version", evidence=f"{sdk} {reported}", detail=f"Beam SDK {sdk}")
        elif known(sdk):
            yield from _sdk_judgement(str(sdk), res, ctx)
        for field in ("container_image", "template_image"):
            img = a.get(field)
            if is_unknown(img):
                yield Unresolved("DATAFLOW-006", field, f"image is {img}")
            elif known(img) and not _DIGEST.search(str(img)):
                yield v("DATAFLOW-006", res, field, evidence=str(img), key=field)
        img = a.get("template_image")
        if is_unknown(img):
            yield Unresolved("DATAFLOW-007", "template_image", f"Flex Template image is {img}")
        elif known(img):
            minimal = tables.load("dataflow", ctx.settings).doc["flex_template_minimal_images"]
            if not any(str(img).startswith(p) for p in minimal) and "distroless" not in str(img):
                yield v("DATAFLOW-007", res, "template_image", evidence=str(img))
        yield from self._long_running(res, ctx)

    def _sdk(self, res: PostureResource, ctx: ScanContext) -> Iterable[Violation | Unresolved]:
        sdk = res.attributes.get("sdk_version")
        if is_unknown(sdk):
            yield Unresolved("DATAFLOW-005", "sdk_version", f"Beam SDK version is {sdk}")
        elif known(sdk):
            yield from _sdk_judgement(str(sdk), res, ctx)

    def _long_running(self, res: PostureResource, ctx: ScanContext) -> Iterable[Violation | Unresolved]:
        a = res.attributes
        if a.get("job_type") != "streaming" or "RUNNING" not in str(a.get("state") or "").upper():
            return
        started = _parse_time(a.get("create_time")) or _parse_time(a.get("current_state_time"))
        if started is None:
            yield Unresolved("DATAFLOW-008", "create_time", "running streaming job without a readable start time")
            return
        limit = (
            ctx.options.get(PostureOptions).long_running_days
            or tables.load("dataflow", ctx.settings).doc["long_running_days"]
        )
        try:
            limit_days = int(limit)
        except (TypeError, ValueError):
            limit_days = 30
        age = (ctx.options.get(ScanClock).now() - started).days
        if age > limit_days:
            yield v(
                "DATAFLOW-008",
                res,
                "create_time",
                evidence=str(a.get("create_time") or a.get("current_state_time")),
                detail=f"running for {age} days (limit {limit_days})",
            )


CHECKS = (DataflowChecks(),)
