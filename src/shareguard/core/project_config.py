"""The project's shareguard configuration: `.shareguard.yaml` at the root of the scanned directory.

    fips: required            # required | optional (default optional): turns on the FIPS endpoint checks
    trusted_registries:       # registries container images may come from (Dockerfile/Kubernetes rules)
      - us-docker.pkg.dev/my-project/
    long_running_days: 30     # streaming jobs / VMs running longer than this should be restarted

A malformed file is a user error (`ConfigError`, one line with file:line, exit 2); unknown keys are kept in
`extra` so newer files still load.

The core reads no YAML itself: the caller hands in a `DocumentLoader` (`shareguard.scan` passes the posture
capability's budgeted, line-tracking loader), so `core` depends on no capability.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from shareguard.core.errors import ConfigError, ShareguardError
from shareguard.core.files import read_regular_text
from shareguard.core.settings import Budgets

FILENAMES = (".shareguard.yaml", ".shareguard.yml")
_MAX_BYTES = 1024 * 1024
BUDGETS = Budgets(max_yaml_nodes=10_000, max_depth=20, max_config_bytes=_MAX_BYTES)
"""What the loader is given: a settings file is small and shallow."""


class ConfigDocument(Protocol):
    """One parsed document: its plain value and the line of each key."""

    @property
    def value(self) -> Any: ...

    @property
    def line(self) -> int: ...

    def line_of(self, path: str) -> int | None: ...


DocumentLoader = Callable[[str, str, Budgets], ConfigDocument]
"""(text, origin, budgets) → the document; bad input raises a `ShareguardError` carrying the line."""


@dataclass(frozen=True)
class ProjectConfig:
    path: str | None = None
    fips_required: bool = False
    trusted_registries: tuple[str, ...] = ()
    long_running_days: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def find(root: Path) -> Path | None:
    base = root if root.is_dir() else root.parent
    for name in FILENAMES:
        p = base / name
        if p.is_file() and not p.is_symlink():
            return p
    return None


def load(root: Path, loader: DocumentLoader) -> ProjectConfig:
    """The configuration for a scan root (an empty one when there is no file, and then `loader` is not called)."""
    path = find(root)
    if path is None:
        return ProjectConfig()
    return parse(_read(path), str(path), loader)


def _read(path: Path) -> str:
    try:
        return read_regular_text(path, _MAX_BYTES)
    except ShareguardError as exc:  # a FIFO, a device, over the budget, not UTF-8: one line, exit 2
        raise ConfigError(exc.message, path=str(path)) from None


def parse(text: str, origin: str, loader: DocumentLoader) -> ProjectConfig:
    try:
        doc = loader(text, origin, BUDGETS)
    except ShareguardError as exc:
        raise ConfigError(exc.message, path=origin, line=exc.line) from None
    value = doc.value
    if value is None:
        return ProjectConfig(path=origin)
    if not isinstance(value, dict):
        raise ConfigError("expected a mapping of settings", path=origin, line=doc.line)
    fips = value.get("fips", "optional")
    if isinstance(fips, bool):
        fips = "required" if fips else "optional"
    if fips not in ("required", "optional"):
        raise ConfigError(
            f"fips: expected 'required' or 'optional', got {fips!r}", path=origin, line=doc.line_of("fips")
        )
    registries = value.get("trusted_registries", [])
    if isinstance(registries, str):
        registries = [registries]
    if not isinstance(registries, list) or not all(isinstance(r, str) and r for r in registries):
        raise ConfigError(
            "trusted_registries: expected a list of registry names", path=origin, line=doc.line_of("trusted_registries")
        )
    days = value.get("long_running_days")
    if days is not None and (isinstance(days, bool) or not isinstance(days, int) or days < 1):
        raise ConfigError(
            f"long_running_days: expected a positive integer, got {days!r}",
            path=origin,
            line=doc.line_of("long_running_days"),
        )
    known = {"fips", "trusted_registries", "long_running_days"}
    return ProjectConfig(
        path=origin,
        fips_required=fips == "required",
        trusted_registries=tuple(registries),
        long_running_days=days,
        extra={k: v for k, v in value.items() if k not in known},
    )
