"""Typed scan options: each capability defines its own frozen options class; a scan carries one of each.

No `dict[str, Any]` of string keys crosses module lines: a check asks `ctx.options.get(PostureOptions)`
and gets a typed object (its defaults when the command set none), so a misspelt option is a type error,
not a silent default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class OptionSet:
    """One options object per options class (immutable; `with_` returns a new set)."""

    values: tuple[Any, ...] = ()

    def get(self, kind: type[T]) -> T:
        """The options of `kind` this scan was given, else `kind()` (its defaults)."""
        for v in self.values:
            if isinstance(v, kind) and type(v) is kind:
                return v
        return kind()

    def has(self, kind: type[Any]) -> bool:
        return any(type(v) is kind for v in self.values)

    def with_(self, *options: Any) -> OptionSet:
        """This set with `options` added, each replacing one of its own class."""
        kinds = {type(o) for o in options}
        return OptionSet(tuple(v for v in self.values if type(v) not in kinds) + tuple(options))
