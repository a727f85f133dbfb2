"""Deep Learning VM checks over `gcp.compute.instance` resources that boot a Deep Learning VM image."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from shareguard.core.clock import ScanClock
from shareguard.core.context import ScanContext
from shareguard.core.errors import ShareguardError
from shareguard.freshness import store
from shareguard.freshness.identify import from_family
from shareguard.freshness.judge import judge
from shareguard.posture.checks._util import DEFAULT_COMPUTE_SA, as_bool, is_unknown, v
from shareguard.posture.model import PostureResource, Unresolved, Violation
from shareguard.posture.parsers._build import dlvm_image

_FAMILY = re.compile(r"(?:^|/)family/([a-z0-9-]+)")
_IMAGE_NAME = re.compile(r"(?:^|/)images/([a-z0-9-]+)$")


def is_dlvm(image: Any) -> bool:
    return dlvm_image(image) is not None


_UNKNOWN = object()


def _meta_flag(metadata: Any, key: str) -> bool | object | None:
    """The flag's value; None when not set; `_UNKNOWN` when set from an expression (not statically known)."""
    if not isinstance(metadata, dict) or key not in metadata:
        return None
    value = metadata[key]
    if is_unknown(value):
        return _UNKNOWN
    return as_bool(value)


@dataclass(frozen=True)
class DlvmChecks:
    name: str = "dlvm"
    types: frozenset[str] = frozenset({"gcp.compute.instance"})

    def check(self, res: PostureResource, ctx: ScanContext) -> Iterable[Violation | Unresolved]:
        a = res.attributes
        image = a.get("image")
        if a.get("dlvm_image") is None:
            return  # not a Deep Learning VM: no rule of this family judges it (applies_to selects on dlvm_image)
        yield from self._image(res, str(image), ctx)
        meta = a.get("metadata") or {}
        project = a.get("project_metadata") or {}
        for rule, key in (("DLVM-003", "enable-oslogin"), ("DLVM-004", "enable-oslogin-2fa")):
            flag = _meta_flag(meta, key)
            if flag is None:
                flag = _meta_flag(project, key)
            if flag is _UNKNOWN:
                yield Unresolved(rule, "metadata", f"{key} is set from an expression")
            elif flag is not True:
                yield v(rule, res, "metadata", evidence=f"{key}={meta.get(key, 'unset')}")
        if a.get("public_ip") is True:
            yield v("DLVM-005", res, "public_ip")
        boot = a.get("secure_boot")
        if is_unknown(boot):
            yield Unresolved("DLVM-006", "secure_boot", "secure boot is set from an expression")
        elif boot is None or as_bool(boot) is False:
            yield v("DLVM-006", res, "secure_boot", evidence=str(boot) if boot is not None else "not set")
        for i, sa in enumerate(a.get("service_accounts") or []):
            email = sa.get("email") if isinstance(sa, dict) else None
            scopes = [str(s) for s in (sa.get("scopes") or [])] if isinstance(sa, dict) else []
            default = email in (None, "", "default") or (isinstance(email, str) and DEFAULT_COMPUTE_SA.match(email))
            broad = any(s in ("cloud-platform", "https://www.googleapis.com/auth/cloud-platform") for s in scopes)
            if default and broad:
                yield v(
                    "DLVM-007",
                    res,
                    "service_accounts",
                    evidence=f"{email or 'default'} with cloud-platform",
                    key=str(i),
                )

    def _image(self, res: PostureResource, image: str, ctx: ScanContext) -> Iterable[Violation | Unresolved]:
        fam = _FAMILY.search(image)
        if fam:
            yield from _family(res, image, fam.group(1), ctx)
            return
        name = _IMAGE_NAME.search(image)
        if name:
            yield v("DLVM-002", res, "image", evidence=image)


def _family(res: PostureResource, image: str, family: str, ctx: ScanContext) -> Iterable[Violation | Unresolved]:
    """DLVM-001 from the freshness release catalog's Deep Learning VM / Workbench families (the `audit`
    command's FRESH-DLVM rules read the same records, so both commands agree): a family past its end of patch or
    older than every supported line fails; a tracking family passes; a family the catalog cannot identify, or a
    catalog that cannot be read, is unresolved, never a pass."""
    try:
        catalog = store.load(ctx.settings)
    except ShareguardError as exc:
        yield Unresolved("DLVM-001", "image", f"release catalog unreadable: {exc.message}")
        return
    ident = from_family(family, image, res.file, catalog)
    if not ident.identified:
        yield Unresolved("DLVM-001", "image", f"image family {family} is not one the release catalog can identify")
        return
    verdict = judge(ident, catalog, ctx.options.get(ScanClock).today())
    bad = [j for j in verdict.judgements if j.check in ("eop", "unsupported")]
    if bad:
        yield v("DLVM-001", res, "image", evidence=image, detail=f"{family}: {bad[0].message}")
    elif not verdict.checked:
        yield Unresolved("DLVM-001", "image", verdict.reason or f"image family {family} not judged")


CHECKS = (DlvmChecks(),)
