"""Hot-path shortcuts in core give exactly what the plain code gives."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from shareguard.core.fastmodel import construct
from shareguard.core.finding import Finding, Remediation, SeveritySource, build_finding, fingerprint_of
from shareguard.core.resource import Location, Resource
from shareguard.core.severity import Severity

text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
opt = st.none() | text


def _slow_fingerprint(rule_id: str, resource: Resource, location: Location, disc: Any) -> str:
    import hashlib

    raw = json.dumps(
        [
            rule_id,
            resource.type,
            resource.path,
            resource.name,
            location.field_path,
            location.member,
            location.record,
            disc,
        ]
    )
    return hashlib.blake2b(raw.encode(), digest_size=16).hexdigest()


@settings(deadline=None)
@given(
    rule=text,
    rtype=text,
    path=text,
    name=opt,
    field=opt,
    member=opt,
    record=opt,
    disc=opt | st.integers() | st.booleans() | st.lists(text, max_size=2),
)
def test_fingerprint_matches_json_dumps(
    rule: str,
    rtype: str,
    path: str,
    name: str | None,
    field: str | None,
    member: str | None,
    record: str | None,
    disc: Any,
) -> None:
    res = Resource(type=rtype, path=path, name=name)
    loc = Location(field_path=field, member=member, record=record, line=3)
    assert fingerprint_of(rule, res, loc, disc) == _slow_fingerprint(rule, res, loc, disc)


def test_constructed_models_equal_validated_ones_field_order_included() -> None:
    for cls, values in (
        (Resource, {"type": "dockerfile", "path": "a/Dockerfile", "name": "app"}),
        (Resource, {"path": "p", "type": "t"}),
        (Location, {"field_path": "spec.x", "line": 4}),
    ):
        built, validated = construct(cls, dict(values)), cls(**values)  # type: ignore[attr-defined]
        assert built == validated
        assert list(built.__dict__) == list(validated.__dict__)
        assert built.model_fields_set == validated.model_fields_set


def test_built_finding_equals_validated_finding() -> None:
    parts: dict[str, Any] = {
        "rule_id": "R-1",
        "control_ids": ("IAM-C-05",),
        "severity": Severity.HIGH,
        "severity_source": SeveritySource.RULE,
        "title": "t",
        "description": None,
        "resource": Resource(type="t", path="p"),
        "location": Location(line=2, field_path="a.b"),
        "evidence": "e",
        "remediation": Remediation(text="fix"),
        "analyzer": "posture.x",
        "properties": {"resource_type": "x"},
    }
    built = build_finding(**parts)
    validated = Finding(**parts)
    assert built == validated
    assert built.fingerprint == validated.fingerprint
    assert built.model_dump() == validated.model_dump()
