"""Rule metadata, kept as data (YAML beside the code that checks it)."""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shareguard.core.data_cache import load_bundled_yaml
from shareguard.core.errors import CatalogError
from shareguard.core.finding import Finding, Remediation, SeveritySource, build_finding
from shareguard.core.resource import Location, Resource
from shareguard.core.severity import Severity


class RuleMeta(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    title: str
    severity: Severity
    control_ids: tuple[str, ...] = Field(min_length=1)
    description: str = ""
    remediation: str
    cli: str | None = None
    """A CLI command that fixes it (gcloud/aws/kubectl…)."""
    terraform: str | None = None
    """A Terraform snippet that fixes it."""
    references: tuple[str, ...] = ()
    frameworks: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    """Extra framework requirement ids beyond those of the controls (rarely needed)."""
    tags: tuple[str, ...] = ()
    applies_to: tuple[str, ...] = ()
    """Resource types the rule is evaluated on (`aws.s3.bucket`, or `aws.iam.policy[context=bucket]` for
    resources of that type whose attribute has that value). A check family that examines such a resource
    has evaluated the rule there: its duty can pass. Empty: only failures count (the rule never passes a duty)."""

    def finding(
        self,
        resource: Resource,
        *,
        location: Location | None = None,
        evidence: str | None = None,
        title: str | None = None,
        severity: Severity | None = None,
        severity_source: SeveritySource | None = None,
        remediation: Remediation | None = None,
        analyzer: str | None = None,
        properties: dict[str, Any] | None = None,
    ) -> Finding:
        """Make a failing finding of this rule. Evidence must be masked by the caller."""
        return build_finding(
            rule_id=self.id,
            control_ids=self.control_ids,
            severity=severity or self.severity,
            severity_source=severity_source or SeveritySource.RULE,
            title=title or self.title,
            description=self.description or None,
            resource=resource,
            location=location or Location(),
            evidence=evidence,
            remediation=remediation or Remediation(text=self.remediation, command=self.cli, snippet=self.terraform),
            analyzer=analyzer,
            properties=properties or {},
        )


def load_rules_yaml(text: str, origin: str) -> dict[str, RuleMeta]:
    """Parse a YAML list (or `rules:` mapping) of rule metadata; errors name the file."""
    try:
        # Bundled rule metadata is trusted package data: the C loader (safe) cuts start-up time, and its
        # parse is kept in the cache directory (`core.data_cache`), so later runs read JSON instead.
        doc = load_bundled_yaml(text)
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        raise CatalogError(f"invalid YAML: {exc}", path=origin, line=(line + 1) if line is not None else None) from None
    items = doc.get("rules") if isinstance(doc, dict) else doc
    if not isinstance(items, list):
        raise CatalogError("expected a list of rules", path=origin)
    out: dict[str, RuleMeta] = {}
    for i, item in enumerate(items):
        try:
            meta = RuleMeta.model_validate(item)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise CatalogError(f"rule #{i + 1}: {where}: {first['msg']}", path=origin) from None
        if meta.id in out:
            raise CatalogError(f"duplicate rule id {meta.id}", path=origin)
        out[meta.id] = meta
    return out


def load_package_rules(package: str, filename: str) -> dict[str, RuleMeta]:
    """Rules shipped as package data, e.g. `load_package_rules("shareguard.posture", "rules.yaml")`."""
    ref = resources.files(package).joinpath(filename)
    return load_rules_yaml(ref.read_text(encoding="utf-8"), f"{package}/{filename}")
