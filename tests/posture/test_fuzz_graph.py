"""Hostile input for the cross-resource rules: reference resolution (`graph/refs.py`), the key-attribute walk
(`graph/key_users.py`) and the plan configuration walk take any JSON-like value — deep nesting, huge lists,
odd intrinsics, non-string keys — without raising, within their node and depth budgets."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from cloud_helpers import scan
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shareguard.core.facts import ConfigResource
from shareguard.posture.graph.key_users import key_fields
from shareguard.posture.graph.refs import Literal, Ref, Unresolvable, resolve

FUZZ = settings(max_examples=150, deadline=5_000, suppress_health_check=[HealthCheck.too_slow])
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=40),
    st.sampled_from(
        [
            "${aws_iam_role.x.arn}",
            "${module.m.aws_kms_key.k[0].arn}",
            "${var.x}",
            "${data.aws_iam_policy_document.d.json}",
            "(known after apply)",
            "arn:aws:iam::aws:policy/AdministratorAccess",
            "${",
            "}",
        ]
    ),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(
            st.sampled_from(["Ref", "Fn::GetAtt", "Fn::Sub", "kms_key_id", "key_arn", "x"]), inner, max_size=3
        ),
    ),
    max_leaves=30,
)


def _res(fmt: str, attrs: dict[str, Any]) -> ConfigResource:
    return ConfigResource(type="t", name="n", path="d/f", line=1, attributes=attrs, source_format=fmt)


@FUZZ
@given(value=VALUES, fmt=st.sampled_from(["terraform", "terraform-plan", "cloudformation", "describe", "iam"]))
def test_resolve_never_raises(value: Any, fmt: str) -> None:
    refs = {"kms_key_id": value} if fmt == "terraform-plan" else None
    got = resolve(value, _res(fmt, {"config_references": refs}), "kms_key_id")
    assert got is None or isinstance(got, Ref | Literal | Unresolvable)


@FUZZ
@given(attrs=st.dictionaries(st.text(max_size=12), VALUES, max_size=6))
def test_key_walk_never_raises(attrs: dict[str, Any]) -> None:
    for path, _ in key_fields(attrs):
        assert isinstance(path, str)


def test_key_walk_is_budgeted_on_deep_and_wide_documents() -> None:
    deep: Any = "${aws_kms_key.k.arn}"
    for _ in range(5000):
        deep = {"kms": deep}
    wide = {"kms_key_id": ["${aws_kms_key.k.arn}"] * 200_000}
    start = time.perf_counter()
    assert len(list(key_fields({"a": deep}))) == 0  # beyond the depth budget
    assert len(list(key_fields(wide))) < 2_001  # the node budget
    assert time.perf_counter() - start < 2.0


def test_hostile_plan_configuration_is_a_clean_scan(tmp_path: Path) -> None:
    nested: Any = {"references": ["aws_kms_key.k.arn"]}
    for _ in range(40):  # past the walk's depth limit, within the JSON loader's budget
        nested = {"block": [nested]}
    plan = {
        "format_version": "1.2",
        "terraform_version": "1.9.8",
        "resource_changes": [
            {
                "address": "aws_sagemaker_notebook_instance.nb",
                "mode": "managed",
                "type": "aws_sagemaker_notebook_instance",
                "name": "nb",
                "change": {"actions": ["create"], "after": {"name": "x"}, "after_unknown": {"kms_key_id": True}},
            }
        ],
        "configuration": {
            "root_module": {
                "resources": [{"address": "aws_sagemaker_notebook_instance.nb", "expressions": nested}],
                "module_calls": {"loop": {"module": {"module_calls": {"again": {"module": None}}}}},
            }
        },
    }
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    result = scan(tmp_path)
    assert not [i for i in result.issues if i.kind == "error"]
    assert not [f for f in result.findings if f.rule_id in ("KMS-004", "KMS-005")]
