"""The configuration audit's typed scan options (from the command line and `.shareguard.yaml`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PostureOptions:
    fips_required: bool | None = None
    """FIPS endpoints are required (`--fips-required`, `fips: required`): turns on the FIPS checks.
    None: not said (`.shareguard.yaml` decides, else not required); False: explicitly not required."""
    trusted_registries: tuple[str, ...] = ()
    """Registries images may come from (empty: the bundled default list)."""
    long_running_days: int | None = None
    """Jobs and VMs running longer than this should be restarted (None: the bundled default).

    User CEL rules travel in their own options class, `cel_rules.CelOptions`."""
