"""IAM policy documents: AWS normaliser (shapes, embedded forms), GCP policies, fuzzing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cloud_helpers import FIXTURES, rule_lines, scan
from hypothesis import given, settings
from hypothesis import strategies as st

from shareguard.posture.parsers.iam_policy import (
    from_policy_document_blocks,
    normalize_aws_policy,
    normalize_gcp_bindings,
)


def test_statement_dict_and_string_fields() -> None:
    (s,) = normalize_aws_policy(
        {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Principal": "*"}}
    )
    assert s["actions"] == ["s3:*"] and s["resources"] == ["*"]
    assert s["principals"] == {"*": ["*"]}
    assert s["conditions"] == {}


def test_not_action_not_resource_conditions_and_json_string() -> None:
    doc = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "NotAction": ["iam:*", "organizations:*"],
                    "NotResource": "arn:aws:s3:::secret/*",
                    "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
                }
            ],
        }
    )
    (s,) = normalize_aws_policy(doc)
    assert s["not_actions"] == ["iam:*", "organizations:*"]
    assert s["not_resources"] == ["arn:aws:s3:::secret/*"]
    assert s["conditions"] == {"Bool": {"aws:MultiFactorAuthPresent": ["true"]}}


def test_policy_document_data_source_blocks() -> None:
    (s,) = from_policy_document_blocks(
        [
            {
                "effect": "Allow",
                "actions": ["s3:GetObject"],
                "resources": ["*"],
                "principals": [{"type": "AWS", "identifiers": ["*"]}],
                "condition": [{"test": "Bool", "variable": "aws:SecureTransport", "values": ["false"]}],
            }
        ]
    )
    assert "*" in s["principals"]
    assert s["conditions"] == {"Bool": {"aws:SecureTransport": ["false"]}}


def test_gcp_bindings_with_condition() -> None:
    doc = json.loads((FIXTURES / "iam" / "project_policy.json").read_text())
    bindings = normalize_gcp_bindings(doc["bindings"])
    assert bindings[3]["condition"]["title"] == "expires_2027"
    assert bindings[2]["members"] == ["allAuthenticatedUsers"]


def test_standalone_policy_lines() -> None:
    lines = rule_lines(scan(FIXTURES / "iam" / "project_policy.json"))
    assert lines["IAM-007"] == [13]
    assert sorted(lines["IAM-006"]) == [5, 9]


def test_not_claimed_when_not_a_policy(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text('{"name": "x", "version": "1.0.0", "Statement": "no"}')
    result = scan(tmp_path)
    assert not result.findings and not result.issues


def test_deeply_nested_json_is_a_per_file_error(tmp_path: Path) -> None:
    (tmp_path / "policy.json").write_text(
        '{"Version": "2012-10-17", "Statement": ' + "[" * 100_000 + "]" * 100_000 + "}"
    )
    result = scan(tmp_path)
    assert [i.path for i in result.issues if i.kind == "error"] == ["policy.json"]


_json_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=20)
_json = st.recursive(
    _json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=30,
)
_statement = st.dictionaries(
    st.sampled_from(["Effect", "Action", "NotAction", "Resource", "NotResource", "Principal", "Condition", "Sid", "x"]),
    _json,
    max_size=7,
)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        _json,
        st.fixed_dictionaries(
            {
                "Version": st.just("2012-10-17"),
                "Statement": st.one_of(_statement, st.lists(_statement, max_size=4), _json),
            }
        ),
    )
)
def test_normaliser_never_crashes_and_always_gives_lists(doc: Any) -> None:
    for s in normalize_aws_policy(doc):
        for key in ("actions", "not_actions", "resources", "not_resources"):
            assert isinstance(s[key], list) and all(isinstance(x, str) for x in s[key])
        assert isinstance(s["conditions"], dict)
        assert isinstance(s["effect"], str)


@settings(max_examples=200, deadline=None)
@given(_json)
def test_gcp_normaliser_never_crashes(doc: Any) -> None:
    for b in normalize_gcp_bindings(doc):
        assert all(isinstance(m, str) for m in b["members"])
