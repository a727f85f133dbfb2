"""The normalised resource every posture check (Python or CEL) reads, whatever format it came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shareguard.core.coverage import key_of
from shareguard.core.facts import ConfigResource
from shareguard.core.rules import RuleMeta


@dataclass(frozen=True)
class PostureResource:
    """A configuration resource after parsing and normalisation.

    `type` is canonical across formats, so one check covers Terraform, CloudFormation, plan JSON
    and describe-API output alike, e.g. `gcp.dataflow.job` (google_dataflow_job,
    google_dataflow_flex_template_job, `gcloud dataflow jobs describe`), `aws.sagemaker.notebook`,
    `k8s.workload`, `dockerfile`, `aws.iam.policy`, `gcp.iam.policy`, `beam.pipeline_options`.
    """

    type: str
    name: str
    file: str
    """Path relative to the scanned root."""
    line: int | None
    attributes: dict[str, Any] = field(hash=False, compare=False)
    """Canonical attributes for checks (snake_case keys; see each parser's docstring)."""
    source_format: str = ""
    """`terraform`, `terraform-plan`, `cloudformation`, `kubernetes`, `dockerfile`, `describe`, `beam`, `iam`."""
    raw_type: str = ""
    """The format's own type name: `google_dataflow_flex_template_job`, `AWS::SageMaker::NotebookInstance`…"""
    lines: dict[str, int] = field(default_factory=dict, hash=False, compare=False)
    """Attribute path (dotted, `[i]` for lists) → line, where the parser knows it."""
    raw: Any = field(default=None, hash=False, compare=False, repr=False)
    """The format's own document for this resource (for checks that need more than the canonical view)."""

    def line_of(self, field_path: str | None) -> int | None:
        """Line of `field_path`, else of its nearest known parent, else of the resource."""
        path = field_path or ""
        while path:
            if path in self.lines:
                return self.lines[path]
            cut = max(path.rfind("."), path.rfind("["))
            path = path[:cut] if cut > 0 else ""
        return self.line


def coverage_key(res: ConfigResource) -> str:
    """The key a cross-resource rule's evaluation of `res` is counted under (`core.coverage.key_of`)."""
    return key_of(res.path, res.name)


def posture_of(res: ConfigResource) -> PostureResource:
    """The resource a cross-resource finding is reported on, with the lines its parser knew."""
    return PostureResource(
        type=res.type,
        name=res.name,
        file=res.path,
        line=res.line,
        attributes=res.attributes,
        source_format=res.source_format,
        raw_type=res.raw_type or res.type,
        lines=res.lines,
    )


@dataclass(frozen=True)
class Violation:
    """What a check reports; the posture analyzer turns it into a Finding with the rule's metadata."""

    rule_id: str
    field_path: str | None = None
    evidence: str | None = None
    """Already masked if it can hold a secret or personal data."""
    detail: str | None = None
    """Appended to the rule title (e.g. which experiment, which action)."""
    line: int | None = None
    """Overrides the line derived from `field_path`."""
    fingerprint_key: str | None = None
    meta: RuleMeta | None = field(default=None, hash=False, compare=False, repr=False)
    """The rule's metadata when it is not bundled (user CEL rules); bundled rules leave it None."""


@dataclass(frozen=True)
class Unresolved:
    """A check could not decide `rule_id` on a resource (a value Terraform computes at apply time, an
    unresolvable variable…): reported as unresolved, never taken as secure. Its duties become incomplete."""

    rule_id: str
    field_path: str | None = None
    reason: str = "value not known until apply"
