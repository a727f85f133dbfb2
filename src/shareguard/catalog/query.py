"""Select duties from the catalog: by service (with the shared services it rests on), owner and framework."""

from __future__ import annotations

import re
from dataclasses import dataclass

from packaging.version import InvalidVersion, Version

from shareguard.catalog.model import Catalog, Control, Owner, Requirement
from shareguard.core.errors import UnknownIdError

FRAMEWORK_ALIASES: dict[str, str] = {
    "nist": "nist-800-53",
    "nist-800-53": "nist-800-53",
    "iso": "iso-27001",
    "iso27001": "iso-27001",
    "iso-27001": "iso-27001",
    "cis-aws": "cis-aws-foundations",
    "cis-gcp": "cis-gcp-foundations",
}
"""Friendly name → framework key prefix; the newest version of that family is chosen."""


def _version_of(key: str, prefix: str) -> Version:
    rest = key[len(prefix) :].lstrip("-")
    m = re.search(r"\d+(\.\d+)*", rest)
    try:
        return Version(m.group(0)) if m else Version("0")
    except InvalidVersion:
        return Version("0")


def resolve_framework(catalog: Catalog, name: str) -> str:
    """A framework key (`nist-800-53-rev5`) or alias (`nist`, `iso27001`, `cis-aws`, `cis-gcp`) → framework key."""
    wanted = name.strip().lower()
    if wanted in catalog.frameworks:
        return wanted
    prefix = FRAMEWORK_ALIASES.get(wanted)
    if prefix is not None:
        family = [k for k in catalog.frameworks if k.startswith(prefix)]
        if family:
            return max(family, key=lambda k: (_version_of(k, prefix), k))
    known = ", ".join([*sorted(catalog.frameworks), *sorted(FRAMEWORK_ALIASES)])
    raise UnknownIdError(f"unknown framework {name!r} (known: {known})")


def parse_owner(value: str) -> Owner:
    try:
        return Owner(value.strip().lower())
    except ValueError:
        raise UnknownIdError(f"unknown owner {value!r} (known: customer, provider)") from None


def service_controls(catalog: Catalog, service: str, *, include_shared: bool = True) -> list[Control]:
    """The service's own duties, then those of the shared services it rests on (iam, logging, ...)."""
    svc = catalog.service(service)
    out = list(svc.controls)
    if include_shared:
        for name in svc.rests_on:
            out.extend(catalog.service(name).controls)
    return out


def select_controls(
    catalog: Catalog,
    *,
    service: str | None = None,
    owner: Owner | None = None,
    framework: str | None = None,
    include_shared: bool = True,
) -> list[Control]:
    """Duties matching every given filter; `framework` must already be a resolved key."""
    if service is not None:
        controls = service_controls(catalog, service, include_shared=include_shared)
    else:
        controls = [c for s in catalog.services.values() for c in s.controls]
    if owner is not None:
        controls = [c for c in controls if c.owner is owner]
    if framework is not None:
        controls = [c for c in controls if c.frameworks.get(framework)]
    return controls


@dataclass(frozen=True)
class MappedRequirement:
    framework: str
    """Framework key."""
    framework_name: str
    requirement: Requirement


def mapped_requirements(catalog: Catalog, control: Control) -> list[MappedRequirement]:
    """The control's framework requirements with their titles, in the order the catalog lists them."""
    out: list[MappedRequirement] = []
    for key, ids in control.frameworks.items():
        fw = catalog.framework(key)
        by_id = {r.id: r for r in fw.requirements}
        out.extend(MappedRequirement(key, fw.framework, by_id[rid]) for rid in ids if rid in by_id)
    return out
