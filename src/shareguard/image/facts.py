"""Fact types of the inventory that only the image capability needs (beside `core.facts`).

Every field is a str/int/bool/None or a tuple of those: the layer cache stores facts as JSON by class name.
"""

from __future__ import annotations

from dataclasses import dataclass

from shareguard.core.facts import Fact


@dataclass(frozen=True, slots=True)
class OwnedFiles(Fact):
    """Paths a package manager owns, kept only where ownership decides something.

    To stay compact only two kinds of path are kept: Python metadata directories/files
    (`…/foo-1.0.dist-info`, `…/foo.egg-info`) and `node_modules/…/package.json` files.
    """

    manager: str
    """`dpkg`, `rpm`, `apk` or `conda`."""
    package: str
    path: str
    """The file the list came from (e.g. `var/lib/dpkg/info/python3-yaml.list`)."""
    layer: str | None = None
    files: tuple[str, ...] = ()
    """Relative paths, no leading slash."""
    package_version: str = ""


@dataclass(frozen=True, slots=True)
class PythonInstaller(Fact):
    """The `INSTALLER` file of a `.dist-info` directory (`pip`, `conda`, `uv`, `debian`…)."""

    path: str
    """The `.dist-info` directory."""
    installer: str
    layer: str | None = None


@dataclass(frozen=True, slots=True)
class AptSource(Fact):
    """A repository URL configured for apt (evidence of third-party repositories)."""

    url: str
    path: str
    layer: str | None = None


@dataclass(frozen=True, slots=True)
class FrameworkBuild(Fact):
    """Build facts of an ML framework read from its own files (e.g. `torch/version.py`)."""

    framework: str
    version: str
    path: str
    layer: str | None = None
    cuda: str | None = None
    cudnn: str | None = None
    rocm: str | None = None
    git_version: str | None = None


@dataclass(frozen=True, slots=True)
class InventoryNotice(Fact):
    """Something the inventory could not do for one file (e.g. an unsupported rpmdb format)."""

    path: str
    message: str
    layer: str | None = None
    level: str = "warning"
