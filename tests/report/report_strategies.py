"""Hypothesis strategies for findings (any text, any location, any status)."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import strategies as st

from shareguard.core.coverage import Coverage
from shareguard.core.facts import FactStore
from shareguard.core.finding import Finding, Remediation, SeveritySource, Status
from shareguard.core.resource import Location, Resource
from shareguard.core.result import ScanResult
from shareguard.core.severity import Severity

# Surrogates cannot be encoded; everything else (controls, NULs, markup, quotes) is fair game.
text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)
some_text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)
control_ids = st.lists(
    st.sampled_from(["DATAFLOW-C-04", "IAM-C-05", "STORAGE-C-03", "DLC-C-02", "KUBERNETES-C-01", "ACME-C-09"]),
    min_size=1,
    max_size=3,
    unique=True,
).map(tuple)
positive = st.integers(min_value=1, max_value=10**6)

locations = st.builds(
    Location,
    line=st.none() | positive,
    end_line=st.none() | positive,
    column=st.none() | positive,
    layer_digest=st.none() | st.just("sha256:" + "0" * 64),
    field_path=st.none() | some_text,
    member=st.none() | some_text,
    offset=st.none() | st.integers(min_value=0, max_value=10**9),
    record=st.none() | some_text,
)
remediations = st.builds(
    Remediation,
    text=text,
    fixed_version=st.none() | some_text,
    command=st.none() | some_text,
    snippet=st.none() | text,
    url=st.none() | some_text,
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(some_text, children, max_size=3),
    max_leaves=8,
)

findings = st.builds(
    Finding,
    rule_id=some_text,
    control_ids=control_ids,
    severity=st.sampled_from(list(Severity)),
    severity_source=st.sampled_from(list(SeveritySource)),
    title=text,
    description=st.none() | text,
    resource=st.builds(Resource, type=some_text, path=some_text, name=st.none() | some_text),
    location=locations,
    evidence=st.none() | text,
    remediation=remediations,
    status=st.sampled_from(list(Status)),
    analyzer=st.none() | some_text,
    properties=st.dictionaries(some_text, json_values, max_size=3),
    waiver=st.none() | text,
)


def result_of(items: list[Finding], scan_root: str | None = None) -> ScanResult:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return ScanResult(
        command="audit",
        target="ws",
        started=now,
        finished=now,
        findings=items,
        facts=FactStore(),
        coverage=Coverage(),
        metadata={"scan_root": scan_root} if scan_root else {},
    )
