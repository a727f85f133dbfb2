"""Where a model finding points (file, archive member chain) and the sink that collects findings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shareguard.core.finding import Finding, Remediation, SeveritySource
from shareguard.core.resource import Location, Resource
from shareguard.core.severity import Severity
from shareguard.models.rules import rule

MAX_FINDINGS_PER_FILE = 500


@dataclass(frozen=True)
class Where:
    path: str
    """The scanned file, relative to the scan root."""
    member: str | None = None
    """Archive member chain, `outer.zip!/inner/data.pkl` style."""
    depth: int = 0
    """How many archive/compression layers are above this content."""

    def child(self, name: str) -> Where:
        member = name if self.member is None else f"{self.member}!/{name}"
        return Where(self.path, member, self.depth + 1)

    def compressed(self, kind: str) -> Where:
        member = f"<{kind}>" if self.member is None else f"{self.member}!/<{kind}>"
        return Where(self.path, member, self.depth + 1)

    def label(self) -> str:
        return self.path if self.member is None else f"{self.path}!/{self.member}"


@dataclass
class FindingSink:
    analyzer: str
    findings: list[Finding] = field(default_factory=list)
    dropped: int = 0

    def add(
        self,
        rule_id: str,
        where: Where,
        *,
        title: str | None = None,
        evidence: str | None = None,
        offset: int | None = None,
        severity: Severity | None = None,
        severity_source: SeveritySource | None = None,
        remediation: str | None = None,
        fixed_version: str | None = None,
        command: str | None = None,
        line: int | None = None,
        key: str | None = None,
        properties: dict[str, Any] | None = None,
        resource_type: str = "model_file",
        name: str | None = None,
    ) -> None:
        if len(self.findings) >= MAX_FINDINGS_PER_FILE:
            self.dropped += 1
            return
        meta = rule(rule_id)
        props = dict(properties or {})
        if key is not None:
            props["fingerprint_key"] = key
        rem = None
        if remediation is not None or fixed_version is not None or command is not None:
            rem = Remediation(text=remediation or meta.remediation, fixed_version=fixed_version, command=command)
        self.findings.append(
            meta.finding(
                Resource(type=resource_type, path=where.path, name=name),
                location=Location(member=where.member, offset=offset, line=line),
                evidence=evidence,
                title=title,
                severity=severity,
                severity_source=severity_source,
                remediation=rem,
                analyzer=self.analyzer,
                properties=props,
            )
        )
