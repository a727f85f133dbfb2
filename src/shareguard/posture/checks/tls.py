"""TLS checks: fail below TLS 1.2 (NETWORK-C-01), recommend TLS 1.3 where the platform lets you choose."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from shareguard.core.context import ScanContext
from shareguard.posture.checks._util import data, is_unknown, known, present, v
from shareguard.posture.model import PostureResource, Unresolved, Violation

_TLS13 = re.compile(r"TLS13-1-(\d)")
_TLS = re.compile(r"TLS-1-(\d)")


def elb_min_tls(policy: str) -> str | None:
    """Minimum TLS version an ELB security policy accepts (None when unknown)."""
    table = data("tls")["elb_policies"]
    if policy in table:
        return str(table[policy])
    m = _TLS13.search(policy) or _TLS.search(policy)
    return f"1.{m.group(1)}" if m else None


# Resource type → attribute → the rules that cannot be decided when it is an unresolved expression.
_JUDGED: dict[str, dict[str, tuple[str, ...]]] = {
    "aws.elb.listener": {"protocol": ("TLS-001", "TLS-002", "TLS-003")},
    "aws.apigateway.domain": {"security_policy": ("TLS-004",)},
    "aws.cloudfront.distribution": {"minimum_protocol_version": ("TLS-005",)},
    "gcp.compute.ssl_policy": {"min_tls_version": ("TLS-006",), "profile": ("TLS-007",)},
}


@dataclass(frozen=True)
class TlsChecks:
    name: str = "tls"
    types: frozenset[str] = frozenset(
        {
            "aws.elb.listener",
            "aws.apigateway.domain",
            "aws.cloudfront.distribution",
            "gcp.compute.ssl_policy",
            "gcp.compute.https_proxy",
        }
    )

    def check(self, res: PostureResource, ctx: ScanContext) -> Iterable[Violation | Unresolved]:
        a = res.attributes
        tables = data("tls")
        unknown = [k for k in _JUDGED.get(res.type, {}) if is_unknown(a.get(k))]
        for key in unknown:
            for rule in _JUDGED[res.type][key]:
                yield Unresolved(rule, key, f"{key} is {a[key]}")
        if res.type == "aws.elb.listener":
            proto = str(a.get("protocol") or "").upper()
            if unknown:
                return
            if proto in ("HTTPS", "TLS"):
                policy = a.get("ssl_policy")
                if is_unknown(policy):
                    for rule in ("TLS-001", "TLS-002"):
                        yield Unresolved(rule, "ssl_policy", f"SSL policy is {policy}")
                    return
                name = str(policy or tables["elb_default_policy"])
                low = elb_min_tls(name)
                if low is None:
                    for rule in ("TLS-001", "TLS-002"):
                        yield Unresolved(rule, "ssl_policy", f"unknown security policy {name}")
                    return
                suffix = "" if policy else " (default)"
                if low is not None and low < "1.2":
                    yield v("TLS-001", res, "ssl_policy", evidence=name + suffix, detail=f"allows TLS {low}")
                elif low == "1.2" and "TLS13" not in name:
                    yield v("TLS-002", res, "ssl_policy", evidence=name)
            elif proto == "HTTP" and not a.get("redirect"):
                yield v("TLS-003", res, "protocol", evidence="HTTP listener without redirect to HTTPS")
        elif res.type == "aws.apigateway.domain":
            pol = a.get("security_policy")
            if known(pol) and str(pol).upper() in tables["apigateway_weak"]:
                yield v("TLS-004", res, "security_policy", evidence=str(pol))
        elif res.type == "aws.cloudfront.distribution":
            ver = a.get("minimum_protocol_version")
            if known(ver) and str(ver) in tables["cloudfront_weak"]:
                yield v("TLS-005", res, "minimum_protocol_version", evidence=str(ver))
            elif ver is None and str(a.get("default_certificate")).lower() == "true":
                yield v(
                    "TLS-005", res, "default_certificate", evidence="CloudFront default certificate (TLSv1 minimum)"
                )
        elif res.type == "gcp.compute.ssl_policy":
            ver = a.get("min_tls_version")
            if ver is None or (known(ver) and str(ver).upper() in tables["gcp_weak_min_tls"]):
                yield v("TLS-006", res, "min_tls_version", evidence=str(ver or "TLS_1_0 (default)"))
            profile = a.get("profile")
            if profile is None or (known(profile) and str(profile).upper() == "COMPATIBLE"):
                yield v("TLS-007", res, "profile", evidence=str(profile or "COMPATIBLE (default)"))
        elif res.type == "gcp.compute.https_proxy" and not present(a.get("ssl_policy")):
            yield v("TLS-008", res, "ssl_policy")


CHECKS = (TlsChecks(),)
