"""Plugin registration for this capability (filled in by its issue's work)."""

from __future__ import annotations

from shareguard.core.registry import Registries


def register(registries: Registries) -> None:
    """Nothing registered yet."""
