"""Build a pydantic model from values already known to be valid, for per-finding hot paths.

`BaseModel.model_construct` resolves every field's aliases and defaults one by one, which costs more
than the validation it skips for our small models; this does the same thing for models without
aliases, extras, private attributes or post-init hooks (checked once per class).

It writes pydantic's four instance slots (`__dict__`, `__pydantic_fields_set__`, `__pydantic_extra__`,
`__pydantic_private__`) itself, which is not public API. Kept because a real scan needs it: the
`benchmarks/config_scan.py` corpus builds ~38,000 models this way (every finding, its resource and
location), and `model_construct` takes ~2.5x as long per model (~0.3 s of a ~4 s CPU run).
`tests/core/test_fastmodel.py` pins the behaviour: same slots and results as `model_construct`.
"""

from __future__ import annotations

from functools import cache
from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)


@cache
def _defaults(cls: type[BaseModel]) -> tuple[dict[str, Any], frozenset[str]]:
    """(every field in declaration order with its plain default, or None where the field is required or has
    a factory; the required-or-factory fields) of a model class; raises if the class is not simple.

    The first mapping is copied then updated, so `__dict__` keeps the field order a validated model has
    (reporters that write a model's fields rely on it)."""
    if cls.model_config.get("extra") == "allow" or cls.__private_attributes__ or cls.__pydantic_post_init__:
        raise TypeError(f"{cls.__name__} is not a plain model")
    plain: dict[str, Any] = {}
    other: set[str] = set()
    for name, field in cls.model_fields.items():
        if field.alias not in (None, name) or field.validation_alias not in (None, name):
            raise TypeError(f"{cls.__name__}.{name} has an alias")
        if field.is_required() or field.default_factory is not None:
            other.add(name)
            plain[name] = None  # a placeholder keeping the order: `values` must supply it
        else:
            plain[name] = field.default
    return plain, frozenset(other)


def construct(cls: type[M], values: dict[str, Any], fields_set: set[str] | None = None) -> M:
    """`cls.model_construct(fields_set, **values)`; every required field must be in `values`."""
    plain, other = _defaults(cls)
    if not values.keys() >= other:
        raise TypeError(f"{cls.__name__}: missing {sorted(other.difference(values))}")
    m = cls.__new__(cls)
    fields = plain.copy()
    fields.update(values)
    _set(m, "__dict__", fields)
    _set(m, "__pydantic_fields_set__", set(values) if fields_set is None else fields_set)
    _set(m, "__pydantic_extra__", None)
    _set(m, "__pydantic_private__", None)
    return m


_set = object.__setattr__
