"""Registries: one per plugin kind, built fresh per run; formats are found, not named."""

from __future__ import annotations

import pytest

from shareguard.core.errors import UnknownIdError
from shareguard.core.registry import Registries, Registry, load_registries
from shareguard.report.interface import Reporter


def test_add_get_order_and_duplicates() -> None:
    reg: Registry[int] = Registry("number")
    reg.add("one", 1)
    reg.add("two", 2)
    assert reg.get("two") == 2 and list(reg) == [1, 2] and reg.names() == ["one", "two"]
    assert "one" in reg and len(reg) == 2
    with pytest.raises(ValueError, match="registered twice"):
        reg.add("one", 3)
    with pytest.raises(UnknownIdError, match=r"unknown number 'three' \(known: one, two\)"):
        reg.get("three")


def test_registries_are_per_kind_and_per_run() -> None:
    a, b = Registries(), Registries()
    assert a.of(int) is a.of(int)
    assert a.of(int) is not a.of(str)
    a.of(int).add("x", 1)
    assert len(b.of(int)) == 0


def test_builtin_reporters_are_registered() -> None:
    regs = load_registries(("shareguard.report.plugin",))
    reporters = regs.of(Reporter)  # type: ignore[type-abstract]
    assert {"table", "json", "sarif", "html"} <= set(reporters.names())
    for name in ("table", "json", "sarif", "html"):
        r = reporters.get(name)
        assert isinstance(r, Reporter) and r.name == name and r.commands is None
    with pytest.raises(UnknownIdError, match="unknown Reporter 'xml'"):
        reporters.get("xml")


def test_two_loads_do_not_share_state() -> None:
    first = load_registries(("shareguard.report.plugin",))
    second = load_registries(("shareguard.report.plugin",))
    assert first.of(Reporter) is not second.of(Reporter)  # type: ignore[type-abstract]
