"""`core.fastmodel.construct` writes pydantic's instance slots itself (faster than `model_construct`, see
its docstring and the README layout notes). These tests pin the pydantic behaviour it relies on, so a
pydantic release that changes it fails here instead of producing subtly broken models."""

from __future__ import annotations

import copy
import pickle
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from shareguard.core.fastmodel import construct
from shareguard.core.finding import _GIVEN, Finding, Remediation, SeveritySource
from shareguard.core.resource import Location, Resource
from shareguard.core.severity import Severity

INSTANCE_SLOTS = ("__dict__", "__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__")


def _finding_values() -> dict[str, Any]:
    return {
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
        "fingerprint": "f" * 16,
    }


def test_pydantic_instance_state_is_the_four_slots_construct_writes() -> None:
    # A model instance is exactly these slots; a new one in pydantic would be left unset by `construct`.
    assert tuple(BaseModel.__slots__) == INSTANCE_SLOTS


@pytest.mark.parametrize(
    ("cls", "values", "fields_set"),
    [
        (Resource, {"type": "dockerfile", "path": "a/Dockerfile", "name": "app"}, None),
        (Location, {"field_path": "spec.x", "line": 4}, None),
        (Finding, _finding_values(), set(_GIVEN)),
    ],
)
def test_construct_gives_what_model_construct_gives(
    cls: type[BaseModel], values: dict[str, Any], fields_set: set[str] | None
) -> None:
    built = construct(cls, dict(values), fields_set)
    public = cls.model_construct(set(values) if fields_set is None else fields_set, **values)
    for slot in INSTANCE_SLOTS:
        assert getattr(built, slot) == getattr(public, slot), slot
    assert list(built.__dict__) == list(public.__dict__)  # field order, as reporters write it
    assert built == public and built.model_dump(mode="json") == public.model_dump(mode="json")
    assert built.model_dump_json() == public.model_dump_json()
    assert pickle.loads(pickle.dumps(built)) == built
    assert copy.deepcopy(built) == built
    first = next(iter(cls.model_fields))
    assert built.model_copy(update={first: getattr(public, first)}) == public


def test_models_that_need_pydantics_own_construction_are_refused() -> None:
    class Aliased(BaseModel):
        a: int = Field(alias="b")

    class Extra(BaseModel):
        model_config = ConfigDict(extra="allow")
        a: int = 0

    class Private(BaseModel):
        a: int = 0
        _p: int = PrivateAttr(default=1)

    class PostInit(BaseModel):
        a: int = 0

        def model_post_init(self, context: Any, /) -> None:
            pass

    for cls in (Aliased, Extra, Private, PostInit):
        with pytest.raises(TypeError):
            construct(cls, {"a": 1})


def test_a_missing_required_field_is_refused() -> None:
    with pytest.raises(TypeError, match="missing"):
        construct(Resource, {"type": "t"})
