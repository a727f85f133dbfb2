"""The one finding model every analyzer emits."""

from __future__ import annotations

import hashlib
import json
from enum import StrEnum
from json.encoder import encode_basestring_ascii as _encode_str
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shareguard.core.fastmodel import construct
from shareguard.core.resource import Location, Resource
from shareguard.core.severity import Severity


class Status(StrEnum):
    FAIL = "fail"
    PASS = "pass"
    WAIVED = "waived"


class SeveritySource(StrEnum):
    """Where a severity came from (the issue asks findings to say it)."""

    RULE = "rule"  # the rule's own metadata
    VENDOR = "vendor"  # the distro's / ecosystem's rating
    CVSS_V3 = "cvss_v3"
    CVSS_V4 = "cvss_v4"
    CVSS_V2 = "cvss_v2"
    POLICY = "policy"  # shareguard's policy (e.g. unknown pickle callable)
    DEFAULT = "default"  # nothing better known


class Remediation(BaseModel):
    model_config = ConfigDict(frozen=True)

    text: str
    fixed_version: str | None = None
    command: str | None = None
    """An exact command the user can run (e.g. `pip install 'torch>=2.6.0'`)."""
    snippet: str | None = None
    """A configuration snippet (e.g. Terraform) that fixes it."""
    url: str | None = None


class Finding(BaseModel):
    """A rule's verdict about one resource. Evidence must already be masked when it gets here."""

    model_config = ConfigDict(frozen=True)

    rule_id: str
    control_ids: tuple[str, ...]
    severity: Severity
    severity_source: SeveritySource = SeveritySource.RULE
    title: str
    description: str | None = None
    resource: Resource
    location: Location = Field(default_factory=Location)
    evidence: str | None = None
    remediation: Remediation
    status: Status = Status.FAIL
    analyzer: str | None = None
    """The analyzer that made it (`posture.dockerfile`, `vuln.osv`…)."""
    properties: dict[str, Any] = Field(default_factory=dict)
    """Capability-specific extras (cve ids, installed version, package purl…), JSON-serialisable."""
    waiver: str | None = None
    """Why it is waived (waiver reason, VEX justification), when status is `waived`."""
    fingerprint: str = ""

    @model_validator(mode="after")
    def _fill_fingerprint(self) -> Finding:
        if not self.fingerprint:
            object.__setattr__(self, "fingerprint", compute_fingerprint(self))
        if not self.control_ids:
            raise ValueError(f"finding of rule {self.rule_id} names no control")
        return self

    def with_status(self, status: Status, waiver: str | None = None) -> Finding:
        return self.model_copy(update={"status": status, "waiver": waiver})


def compute_fingerprint(f: Finding) -> str:
    """Stable across runs: rule + resource + the stable part of the location + a discriminator.

    Line numbers are left out on purpose so that editing an unrelated part of a file does not
    turn a known finding into a new one (baselines and waivers key on this); analyzers set
    `properties["fingerprint_key"]` where the evidence alone does not tell findings apart.
    """
    return fingerprint_of(f.rule_id, f.resource, f.location, f.properties.get("fingerprint_key", f.evidence))


def fingerprint_of(rule_id: str, resource: Resource, location: Location, disc: Any) -> str:
    """The fingerprint from its parts (see `compute_fingerprint`): 32 hex digits of BLAKE2b.

    A JSON array keeps the parts unambiguous (no separator can be forged by a field's value);
    `disc`, the offending snippet (masked) or the analyzer's key, tells two findings of one rule
    in one resource apart."""
    name, fp, member, record = resource.name, location.field_path, location.member, location.record
    try:
        # What `json.dumps([...])` writes for strings and nulls, without the encoder's per-call set-up; the
        # string encoder refuses anything else (numbers, lists…), which then takes the plain route.
        raw = (
            f"[{_encode_str(rule_id)}, {_encode_str(resource.type)}, {_encode_str(resource.path)}, "
            f"{'null' if name is None else _encode_str(name)}, {'null' if fp is None else _encode_str(fp)}, "
            f"{'null' if member is None else _encode_str(member)}, "
            f"{'null' if record is None else _encode_str(record)}, {'null' if disc is None else _encode_str(disc)}]"
        )
    except TypeError:
        raw = json.dumps([rule_id, resource.type, resource.path, name, fp, member, record, disc])
    return hashlib.blake2b(raw.encode(), digest_size=16).hexdigest()


_GIVEN = frozenset(
    {
        "rule_id",
        "control_ids",
        "severity",
        "severity_source",
        "title",
        "description",
        "resource",
        "location",
        "evidence",
        "remediation",
        "analyzer",
        "properties",
    }
)


def build_finding(
    *,
    rule_id: str,
    control_ids: tuple[str, ...],
    severity: Severity,
    severity_source: SeveritySource,
    title: str,
    description: str | None,
    resource: Resource,
    location: Location,
    evidence: str | None,
    remediation: Remediation,
    analyzer: str | None,
    properties: dict[str, Any],
) -> Finding:
    """A failing Finding from already-validated parts, without re-validating them (the per-finding hot path).

    Parts of unexpected types go through the normal validating constructor, so nothing unchecked slips in."""
    if not control_ids:
        raise ValueError(f"finding of rule {rule_id} names no control")
    if not (
        type(rule_id) is str
        and type(control_ids) is tuple
        and all(type(c) is str for c in control_ids)
        and isinstance(severity, Severity)
        and isinstance(severity_source, SeveritySource)
        and type(title) is str
        and (description is None or type(description) is str)
        and type(resource) is Resource
        and type(location) is Location
        and (evidence is None or type(evidence) is str)
        and type(remediation) is Remediation
        and (analyzer is None or type(analyzer) is str)
        and type(properties) is dict
    ):
        return Finding(
            rule_id=rule_id,
            control_ids=control_ids,
            severity=severity,
            severity_source=severity_source,
            title=title,
            description=description,
            resource=resource,
            location=location,
            evidence=evidence,
            remediation=remediation,
            analyzer=analyzer,
            properties=properties,
        )
    fingerprint = fingerprint_of(rule_id, resource, location, properties.get("fingerprint_key", evidence))
    return construct(
        Finding,
        {
            "rule_id": rule_id,
            "control_ids": control_ids,
            "severity": severity,
            "severity_source": severity_source,
            "title": title,
            "description": description,
            "resource": resource,
            "location": location,
            "evidence": evidence,
            "remediation": remediation,
            "analyzer": analyzer,
            "properties": properties,
            "fingerprint": fingerprint,
        },
        # As the validating constructor records it: the fingerprint counts as derived, not given.
        set(_GIVEN),
    )
