"""One registry per kind of plugin, built fresh per run (no global mutable state).

A plugin module exposes `register(registries: Registries) -> None`. Built-in plugin modules are
listed in `shareguard.plugins`; third-party ones are found through the `shareguard.plugins`
entry-point group. Each plugin kind is a class (usually a Protocol or ABC); capability packages
may define new kinds without touching the core.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar, cast

from shareguard.core.errors import UnknownIdError

T = TypeVar("T")


class Registry(Generic[T]):
    """Named plugins of one kind, in registration order."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def add(self, name: str, item: T) -> None:
        if name in self._items:
            raise ValueError(f"{self.kind} {name!r} registered twice")
        self._items[name] = item

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            known = ", ".join(sorted(self._items)) or "none"
            raise UnknownIdError(f"unknown {self.kind} {name!r} (known: {known})") from None

    def names(self) -> list[str]:
        return list(self._items)

    def __iter__(self) -> Iterator[T]:
        return iter(list(self._items.values()))

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items


class Registries:
    """All registries of one run, keyed by plugin kind (a class)."""

    def __init__(self) -> None:
        self._by_kind: dict[type[Any], Registry[Any]] = {}

    def of(self, kind: type[T]) -> Registry[T]:
        reg = self._by_kind.get(kind)
        if reg is None:
            reg = Registry[T](kind.__name__)
            self._by_kind[kind] = reg
        return cast(Registry[T], reg)


def load_registries(
    modules: tuple[str, ...] | None = None,
    *,
    third_party: bool = True,
    builtin_filter: Callable[[str], bool] | None = None,
) -> Registries:
    """Build registries from built-in plugin modules and installed entry points.

    `builtin_filter` keeps some of the built-in plugin modules (a command that runs one capability
    need not import the others'); third-party plugins are still loaded."""
    from shareguard.plugins import BUILTIN_PLUGINS

    regs = Registries()
    for mod_name in modules if modules is not None else BUILTIN_PLUGINS:
        if builtin_filter is not None and not builtin_filter(mod_name):
            continue
        importlib.import_module(mod_name).register(regs)
    if third_party and modules is None:
        for ep in entry_points(group="shareguard.plugins"):
            ep.load().register(regs)
    return regs
