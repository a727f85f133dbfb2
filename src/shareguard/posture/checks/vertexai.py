"""Vertex AI checks: CMEK, private endpoints, public IPs on notebooks, default service accounts."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from shareguard.core.context import ScanContext
from shareguard.core.masking import mask
from shareguard.posture.checks._util import DEFAULT_COMPUTE_SA, is_unknown, known, present, v
from shareguard.posture.model import PostureResource, Unresolved, Violation

_CMEK_TYPES = frozenset(
    {
        "gcp.vertexai.dataset",
        "gcp.vertexai.endpoint",
        "gcp.vertexai.notebook",
        "gcp.vertexai.featurestore",
        "gcp.vertexai.index",
        "gcp.vertexai.tensorboard",
        "gcp.vertexai.metadata_store",
        "gcp.vertexai.custom_job",
        "gcp.vertexai.model",
    }
)
_SA_TYPES = frozenset({"gcp.vertexai.notebook", "gcp.vertexai.custom_job"})
_OWN_SA = re.compile(r"^\$\{google_service_account\.[\w-]+\.email\}$")


@dataclass(frozen=True)
class VertexChecks:
    name: str = "vertexai"
    types: frozenset[str] = _CMEK_TYPES

    def check(self, res: PostureResource, ctx: ScanContext) -> Iterable[Violation | Unresolved]:
        a = res.attributes
        if not present(a.get("kms_key_name")):
            yield v("VERTEX-001", res, "kms_key_name")
        if res.type == "gcp.vertexai.endpoint" and not present(a.get("network")):
            yield v("VERTEX-002", res, "network")
        if res.type == "gcp.vertexai.notebook":
            public = a.get("public_ip")
            if public is True or public is None:
                yield v("VERTEX-003", res, "public_ip", evidence="public IP" + (" (default)" if public is None else ""))
        if res.type in _SA_TYPES:
            sa = a.get("service_account")
            if is_unknown(sa) and not _OWN_SA.match(str(sa)):  # a service account created here is not the default
                yield Unresolved("VERTEX-004", "service_account", f"service account is {sa}")
            elif sa is None or sa == "":
                yield v("VERTEX-004", res, "service_account", detail="no service account set (uses the default)")
            elif known(sa) and DEFAULT_COMPUTE_SA.match(str(sa)):
                yield v("VERTEX-004", res, "service_account", evidence=mask(str(sa), 6))


CHECKS = (VertexChecks(),)
