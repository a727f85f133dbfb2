"""The Sigma compiler: modifiers, nested and list fields, keywords, correlations, unsupported features."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.logs.helpers import cloudtrail, gcp

from shareguard.logs import ruleset
from shareguard.logs.detect import builtin_rules
from shareguard.logs.evaluator import Evaluator
from shareguard.logs.events import LogEvent, LogKind

HEAD = """
title: {title}
id: {id}
logsource: {{product: aws, service: cloudtrail}}
level: high
"""


def compile_rules(tmp_path: Path, *bodies: str) -> ruleset.RuleSet:
    files = []
    for i, body in enumerate(bodies):
        f = tmp_path / f"r{i}.yml"
        f.write_text(body)
        files.append(f)
    return ruleset.load(files)


def rule(detection: str, title: str = "t", rid: str = "00000000-0000-0000-0000-000000000001") -> str:
    return HEAD.format(title=title, id=rid) + "detection:\n" + detection


def fires(rs: ruleset.RuleSet, data: dict[str, Any], kind: LogKind = LogKind.CLOUDTRAIL) -> bool:
    return bool(Evaluator(rs).matches(LogEvent(kind, data, "t", "0")))


CASES: list[tuple[str, dict[str, Any], bool]] = [
    # contains / startswith / endswith, case-insensitive
    ("  s: {userAgent|contains: BOTO3}\n  condition: s", {"userAgent": "Boto3/1.34 Python"}, True),
    ("  s: {userAgent|startswith: aws-cli}\n  condition: s", {"userAgent": "AWS-CLI/2.0"}, True),
    ("  s: {userAgent|endswith: '.py'}\n  condition: s", {"userAgent": "x.PY"}, True),
    ("  s: {userAgent|endswith: '.py'}\n  condition: s", {"userAgent": "x.pyc"}, False),
    # |cased is case-sensitive
    ("  s: {userAgent|cased: Boto3}\n  condition: s", {"userAgent": "boto3"}, False),
    # wildcards in the middle, single-character wildcard
    ("  s: {userAgent: 'a*b?d'}\n  condition: s", {"userAgent": "aXXbcd"}, True),
    # regular expressions: unanchored search, case-sensitive unless |i
    ("  s: {userAgent|re: 'ab+c'}\n  condition: s", {"userAgent": "xxabbbc"}, True),
    ("  s: {userAgent|re: 'ABC'}\n  condition: s", {"userAgent": "abc"}, False),
    ("  s: {userAgent|re|i: 'ABC'}\n  condition: s", {"userAgent": "abc"}, True),
    # |all: every value must be contained
    ("  s: {userAgent|contains|all: [a, z]}\n  condition: s", {"userAgent": "a..z"}, True),
    ("  s: {userAgent|contains|all: [a, z]}\n  condition: s", {"userAgent": "a.."}, False),
    # cidr
    ("  s: {sourceIPAddress|cidr: 10.0.0.0/8}\n  condition: s", {"sourceIPAddress": "10.1.2.3"}, True),
    ("  s: {sourceIPAddress|cidr: 10.0.0.0/8}\n  condition: s", {"sourceIPAddress": "s3.amazonaws.com"}, False),
    # base64offset|contains: the value base64-encoded at any offset
    (
        "  s: {requestParameters.userData|base64offset|contains: 'curl '}\n  condition: s",
        {"requestParameters": {"userData": "IyEvYmluL2Jhc2gKY3VybCBodHRwOi8veA=="}},
        True,
    ),
    # windash: -x and /x
    (
        "  s: {requestParameters.cmd|windash|contains: ' -enc '}\n  condition: s",
        {"requestParameters": {"cmd": "ps /enc abc"}},
        True,
    ),
    # exists, null
    ("  s: {requestParameters.policy|exists: true}\n  condition: s", {"requestParameters": {"policy": None}}, True),
    ("  s: {requestParameters.policy|exists: false}\n  condition: s", {"requestParameters": {}}, True),
    ("  s: {errorCode: null}\n  condition: s", {"eventName": "x"}, True),
    ("  s: {errorCode: null}\n  condition: s", {"errorCode": "AccessDenied"}, False),
    # numbers and comparisons
    (
        "  s: {requestParameters.pendingWindowInDays|lt: 8}\n  condition: s",
        {"requestParameters": {"pendingWindowInDays": 7}},
        True,
    ),
    (
        "  s: {requestParameters.pendingWindowInDays|gte: 8}\n  condition: s",
        {"requestParameters": {"pendingWindowInDays": "7"}},
        False,
    ),
    ("  s: {requestParameters.count: 3}\n  condition: s", {"requestParameters": {"count": 3}}, True),
    # booleans as JSON writes them
    ("  s: {readOnly: 'false'}\n  condition: s", {"readOnly": False}, True),
    # a list met on the way: any element may match
    (
        "  s: {resources.ARN|endswith: ':key/1'}\n  condition: s",
        {"resources": [{"ARN": "a"}, {"ARN": "arn:aws:kms:r:1:key/1"}]},
        True,
    ),
    # an object field under a string modifier is its JSON text (as in CloudTrail Lake / Athena)
    (
        '  s: {requestParameters|contains: \'"Principal":"*"\'}\n  condition: s',
        {"requestParameters": {"Principal": "*"}},
        True,
    ),
    # a key holding dots is found whole
    ("  s: {tags.k8s.io/name: x}\n  condition: s", {"tags": {"k8s.io/name": "x"}}, True),
    # fieldref: two fields equal
    (
        "  s: {userIdentity.userName|fieldref: requestParameters.userName}\n  condition: s",
        {"userIdentity": {"userName": "A"}, "requestParameters": {"userName": "a"}},
        True,
    ),
    # keywords: any value of the event
    (
        "  kw: [StopLogging]\n  condition: kw",
        {"eventName": "x", "requestParameters": {"note": "we stoplogging now"}},
        True,
    ),
    # conditions: not, 1 of / all of patterns
    (
        "  a: {eventName: X}\n  b: {awsRegion: us-east-1}\n  condition: a and not b",
        {"eventName": "X", "awsRegion": "us-east-1"},
        False,
    ),
    ("  sel_a: {eventName: X}\n  sel_b: {eventName: Y}\n  condition: 1 of sel_*", {"eventName": "y"}, True),
    (
        "  sel_a: {eventName: X}\n  sel_b: {awsRegion: r}\n  condition: all of sel_*",
        {"eventName": "X", "awsRegion": "q"},
        False,
    ),
]


@pytest.mark.parametrize(
    ("detection", "event", "expected"), CASES, ids=[c[0].split("\n")[0].strip()[:50] for c in CASES]
)
def test_modifier_semantics(tmp_path: Path, detection: str, event: dict[str, Any], expected: bool) -> None:
    rs = compile_rules(tmp_path, rule(detection))
    assert rs.unsupported == []
    assert fires(rs, event) is expected


def test_rules_are_indexed_by_event_name_and_unindexed_ones_meet_every_event(tmp_path: Path) -> None:
    rs = compile_rules(
        tmp_path,
        rule(
            "  s: {eventName: [StopLogging, DeleteTrail]}\n  condition: s", "a", "00000000-0000-0000-0000-00000000000a"
        ),
        rule("  s: {userIdentity.type: Root}\n  condition: s", "b", "00000000-0000-0000-0000-00000000000b"),
        rule("  s: {eventName|startswith: Stop}\n  condition: s", "c", "00000000-0000-0000-0000-00000000000c"),
    )
    by_title = {r.info.title: r for r in rs.rules}
    assert by_title["a"].index == ("eventName", frozenset({"stoplogging", "deletetrail"}))
    assert by_title["b"].index == ("userIdentity.type", frozenset({"root"}))  # the next index field
    assert by_title["c"].index is None
    ev = Evaluator(rs)
    assert [r.info.title for r in ev.matches(LogEvent(LogKind.CLOUDTRAIL, {"eventName": "stoplogging"}, "t", "0"))] == [
        "a",
        "c",
    ]
    idx = ev._index[LogKind.CLOUDTRAIL]
    assert [r.info.title for r in idx.candidates({"eventName": "ListUsers"})] == ["c"]
    assert sorted(
        r.info.title for r in idx.candidates({"eventName": "StopLogging", "userIdentity": {"type": "Root"}})
    ) == ["a", "b", "c"]


def test_unsupported_rules_are_listed_with_the_reason(tmp_path: Path) -> None:
    rs = compile_rules(
        tmp_path,
        rule("  s: {eventName|expand: '%names%'}\n  condition: s", "placeholder"),
        "title: azure\nid: 00000000-0000-0000-0000-0000000000a1\nlogsource: {product: azure, service: signinlogs}\ndetection:\n  s: {a: b}\n  condition: s\n",
        "title: broken\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  s: {a: b}\n  condition: s and nothere\n",
        ": : not yaml [",
        rule("  s: {eventName: X}\n  condition: s", "fine", "00000000-0000-0000-0000-0000000000f1"),
    )
    reasons = {u.title: u.reason for u in rs.unsupported}
    assert "placeholder" in reasons["placeholder"]
    assert "not ingested" in reasons["azure"]
    assert "nothere" in reasons["broken"]
    assert any(u.origin.endswith("r3.yml") for u in rs.unsupported)
    assert [r.info.title for r in rs.rules] == ["fine"]


CORR = """
---
title: corr
id: 00000000-0000-0000-0000-0000000000c0
correlation:
  type: {type}
  rules: [{rules}]
  group-by: [userIdentity.arn]
  timespan: 10m
  {extra}
level: high
"""


def _run(rs: ruleset.RuleSet, events: list[dict[str, Any]]) -> list[str]:
    ev = Evaluator(rs)
    return [a.rule.title for a in ev.alerts(LogEvent(LogKind.CLOUDTRAIL, e, "t", str(i)) for i, e in enumerate(events))]


def test_event_count_correlation_fires_once_per_burst_and_per_principal(tmp_path: Path) -> None:
    base = rule("  s: {eventName: GetObject}\n  condition: s", "base", "00000000-0000-0000-0000-0000000000b0")
    corr = CORR.format(type="event_count", rules="00000000-0000-0000-0000-0000000000b0", extra="condition: {gte: 3}")
    rs = compile_rules(tmp_path, base + corr)
    assert rs.unsupported == [] and len(rs.correlations) == 1

    def mk(s: int, who: str = "arn:u1") -> dict[str, Any]:
        return cloudtrail("GetObject", "s3.amazonaws.com", actor=who, time=f"2025-03-04T09:{s:02d}:00Z")

    # two from u1, one from u2, then a third from u1 after 20 min (outside the window) → nothing
    assert _run(rs, [mk(0), mk(1), mk(2, "arn:u2"), mk(21)]) == []
    # three within 10 min → one alert; the base rule is quiet (generate: false)
    assert _run(rs, [mk(0), mk(1), mk(2), mk(3)]) == ["corr"]


def test_value_count_and_temporal_ordered_correlations(tmp_path: Path) -> None:
    base = rule("  s: {eventName: ConsoleLogin}\n  condition: s", "login", "00000000-0000-0000-0000-0000000000b1")
    corr = CORR.format(
        type="value_count",
        rules="00000000-0000-0000-0000-0000000000b1",
        extra="condition: {gte: 2, field: sourceIPAddress}",
    )
    rs = compile_rules(tmp_path, base + corr)
    e1 = cloudtrail("ConsoleLogin", "signin.amazonaws.com", actor="arn:u", time="2025-03-04T09:00:00Z")
    e2 = dict(e1, sourceIPAddress="192.0.2.1", eventTime="2025-03-04T09:05:00Z")
    assert _run(rs, [e1, e1]) == [] and _run(rs, [e1, e2]) == ["corr"]

    a = rule("  s: {eventName: CreateNotebookInstance}\n  condition: s", "a", "00000000-0000-0000-0000-0000000000b2")
    b = rule(
        "  s: {eventName: CreatePresignedNotebookInstanceUrl}\n  condition: s",
        "b",
        "00000000-0000-0000-0000-0000000000b3",
    )
    corr = CORR.format(
        type="temporal_ordered",
        rules="00000000-0000-0000-0000-0000000000b2, 00000000-0000-0000-0000-0000000000b3",
        extra="",
    )
    rs = compile_rules(tmp_path, a + "\n---\n" + b + corr)
    create = cloudtrail("CreateNotebookInstance", "sagemaker.amazonaws.com", actor="arn:u", time="2025-03-04T09:00:00Z")
    url = cloudtrail(
        "CreatePresignedNotebookInstanceUrl", "sagemaker.amazonaws.com", actor="arn:u", time="2025-03-04T09:01:00Z"
    )
    assert _run(rs, [url, create]) == []
    assert _run(rs, [create, url]) == ["corr"]


def test_gcp_field_names_of_sigmahq_map_onto_the_log_entry(tmp_path: Path) -> None:
    body = (
        "title: g\nid: 00000000-0000-0000-0000-0000000000d1\nlogsource: {product: gcp, service: gcp.audit}\n"
        "detection:\n  s:\n    gcp.audit.method_name: storage.setIamPermissions\n"
        "    data.protoPayload.serviceName: storage.googleapis.com\n    gcp.audit.request_metadata.caller_ip|cidr: 198.51.100.0/24\n"
        "  condition: s\nlevel: low\n"
    )
    rs = compile_rules(tmp_path, body)
    assert rs.rules[0].index == ("protoPayload.methodName", frozenset({"storage.setiampermissions"}))
    assert fires(rs, gcp("storage.setIamPermissions", "storage.googleapis.com"), LogKind.GCP_AUDIT)
    assert not fires(rs, gcp("storage.objects.get", "storage.googleapis.com"), LogKind.GCP_AUDIT)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
FIELDS = st.sampled_from(
    [
        "eventName",
        "eventSource",
        "userIdentity",
        "requestParameters",
        "userAgent",
        "sourceIPAddress",
        "eventTime",
        "x.y",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(FIELDS, JSON, max_size=8))
def test_hostile_events_never_crash_a_rule(event: dict[str, Any]) -> None:
    """Any JSON shape under any field (lists where strings are expected, objects, numbers…) is a verdict, not an error."""
    ev = _EVALUATOR
    for kind in LogKind:
        list(ev.alerts([LogEvent(kind, event, "fuzz", "0")]))
        ev.matches(LogEvent(kind, event, "fuzz", "0"))


_EVALUATOR = Evaluator(builtin_rules())


def test_rule_regexes_run_in_linear_time(tmp_path: Path) -> None:
    import time

    rs = compile_rules(tmp_path, rule("  s: {userAgent|re: '^(a+)+$'}\n  condition: s"))
    start = time.process_time()
    assert not fires(rs, {"userAgent": "a" * 40 + "b"})  # catastrophic for a backtracking engine
    assert time.process_time() - start < 1.0
    # pySigma itself refuses lookarounds (they are no portable Sigma regex): listed with its reason
    rs = compile_rules(tmp_path, rule("  s: {userAgent|re: 'boto(?!core)'}\n  condition: s"))
    assert rs.rules == [] and "invalid" in rs.unsupported[0].reason.lower()
