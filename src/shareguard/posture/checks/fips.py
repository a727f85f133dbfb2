"""FIPS endpoint checks, active only when FIPS is required (`fips: required` in `.shareguard.yaml` or the
`fips_required` scan option).

AWS offers FIPS 140-validated endpoints per service and region; the provider/SDK must be told to use them
(`use_fips_endpoint`, `AWS_USE_FIPS_ENDPOINT`) and explicit endpoint URLs must be the `-fips` ones.
Google Cloud has no separate FIPS endpoints (its TLS and storage encryption use the FIPS 140-validated
BoringCrypto module), so no GCP setting is flagged here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from shareguard.core.context import ScanContext
from shareguard.core.masking import mask_url
from shareguard.posture.checks._util import as_bool, is_unknown, v
from shareguard.posture.model import PostureResource, Unresolved, Violation
from shareguard.posture.options import PostureOptions

_AWS_ENDPOINT = re.compile(r"^https?://(?P<host>[a-z0-9.-]+\.amazonaws\.com(?:\.cn)?)(?::\d+)?(?:/|$)", re.I)
_FIPS_VAR = "AWS_USE_FIPS_ENDPOINT"


def fips_required(ctx: ScanContext) -> bool:
    return bool(ctx.options.get(PostureOptions).fips_required)


def _walk(value: Any, path: str, depth: int = 0) -> Iterator[tuple[str, Any, Any]]:
    """(path, key, value) of every scalar below `value`."""
    if depth > 60:
        return
    if isinstance(value, dict):
        for k, item in value.items():
            sub = f"{path}.{k}" if path else str(k)
            if isinstance(item, dict | list):
                yield from _walk(item, sub, depth + 1)
            else:
                yield sub, k, item
        name = value.get("name")
        if name == _FIPS_VAR and "value" in value:  # Kubernetes env entry
            yield f"{path}.value", _FIPS_VAR, value.get("value")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _walk(item, f"{path}[{i}]", depth + 1)


def _non_fips_endpoint(url: str) -> bool:
    m = _AWS_ENDPOINT.match(url.strip())
    return m is not None and "fips" not in m.group("host").lower()


@dataclass(frozen=True)
class FipsChecks:
    name: str = "fips"
    types: frozenset[str] = frozenset({"*"})

    def active(self, ctx: ScanContext) -> bool:
        """Only when FIPS is required does the FIPS duty get assessed (else it stays "not assessed")."""
        return fips_required(ctx)

    def check(self, res: PostureResource, ctx: ScanContext) -> Iterable[Violation | Unresolved]:
        if not fips_required(ctx):
            return
        if res.type == "aws.provider":
            flag = res.attributes.get("use_fips_endpoint")
            if is_unknown(flag):
                yield Unresolved("FIPS-001", "use_fips_endpoint", f"use_fips_endpoint is {flag}")
            elif as_bool(flag) is not True:
                yield v("FIPS-001", res, "use_fips_endpoint", evidence=str(flag if flag is not None else "not set"))
        for path, key, value in _walk(res.attributes, ""):
            if str(key).upper() == _FIPS_VAR and as_bool(value) is False:
                yield v("FIPS-001", res, path, evidence=f"{_FIPS_VAR}={value}", key=path)
            elif isinstance(value, str) and len(value) < 2048 and _non_fips_endpoint(value):
                yield v("FIPS-002", res, path, evidence=mask_url(value), key=path)


CHECKS = (FipsChecks(),)
