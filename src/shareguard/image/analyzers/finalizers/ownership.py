"""Who owns each language package's metadata: the OS package manager, conda, or nobody (pip/npm).

- PyPI/npm packages whose metadata is owned by dpkg/rpm/apk become `os_managed=True` with extra
  `os_package`/`os_manager`: they are matched only through the OS package (no double match) — unless
  that OS package is third-party (then no distro advisory covers them: `os_managed=False`, extra
  `os_package_origin=third-party`, and they are matched as PyPI/npm packages).
- PyPI packages installed by conda get extra `installer=conda`, `conda_package`, `conda_path`; the conda
  package gets `pypi_path` (the PyPI record that stands for it) and its `pypi_name` becomes `pypi_project`,
  so the matcher (which matches conda packages through `pypi_name`) matches the project once.
- Every `.dist-info/INSTALLER` file is copied to its package as extra `installer`.
- rpm images whose rpmdb could not be read fall back to location: `usr/lib{,64}/python3.X/site-packages`.
- Python metadata under Debian's `usr/lib/python*/dist-packages` is marked OS-managed by location when it
  is parsed; when ownership data exists (dpkg `info/*.list` files) and no OS package owns it, it was put
  there by pip (or another installer), not by apt: a PyPI package, matched against PyPI advisories.
- `origin` says who installed a language package: `os` (owned by dpkg/rpm/apk), `third-party` (owned by
  a vendor's OS package), `conda`, else `pip` (pip, uv, poetry…: PyPI installers; the INSTALLER file's
  word is kept in extra `installer`).
"""

from __future__ import annotations

import dataclasses
from itertools import compress, repeat

from shareguard.core.facts import Fact, Package
from shareguard.image.analyzers._common import load_data
from shareguard.image.analyzers.finalizers._util import extra_value, merged_os, with_extra
from shareguard.image.analyzers.finalizers.distro import manager_of
from shareguard.image.analyzers.python import is_os_location, metadata_dir
from shareguard.image.analyzers.rpm import DB_PATHS
from shareguard.image.facts import OwnedFiles, PythonInstaller

_OS_MANAGERS = frozenset({"dpkg", "rpm", "apk"})
_DPKG_LISTS = "var/lib/dpkg/info/"
_APK_DB = "lib/apk/db/installed"
_OS_INSTALLERS = frozenset({"debian", "dpkg", "apt", "rpm", "dnf", "yum", "apk"})
"""INSTALLER words that name the OS package manager (Debian's python3-* packages write `debian`)."""


def has_ownership_data(files: dict[str, str | None], facts: list[Fact]) -> bool:
    """Whether an OS package manager's file lists are there to say who owns a path: dpkg `info/*.list`
    files, an rpm database that was read, or apk's installed database."""
    if _APK_DB in files or any(isinstance(f, Package) and f.path in DB_PATHS for f in facts):
        return True
    # C-level pass over the ~200k paths of a large image; the few under the dpkg info directory are tested
    return any(p.endswith(".list") for p in compress(files, map(str.startswith, files, repeat(_DPKG_LISTS))))


def rpm_site_packages(path: str) -> bool:
    return path.startswith(("usr/lib/python", "usr/lib64/python")) and "/site-packages/" in path


class OwnershipFinalizer:
    name = "inventory.ownership"
    order = 40

    def finalize(self, facts: list[Fact], files: dict[str, str | None]) -> list[Fact]:
        owners: dict[str, OwnedFiles] = {}
        for f in facts:
            if isinstance(f, OwnedFiles):
                for p in f.files:
                    # OS ownership wins over conda if both claim a path.
                    if p not in owners or (f.manager in _OS_MANAGERS and owners[p].manager not in _OS_MANAGERS):
                        owners[p] = f
        installers = {f.path: f.installer for f in facts if isinstance(f, PythonInstaller)}
        info = merged_os(list(facts))
        rpm_os = info is not None and (load_data("os_ecosystems.yaml").get(info.id) or {}).get("manager") == "rpm"
        has_rpmdb = any(isinstance(f, Package) and f.path in DB_PATHS for f in facts)
        owned_known = has_ownership_data(files, facts)

        third_party = {(manager_of(f), f.name) for f in facts if isinstance(f, Package) and f.origin == "third-party"}
        conda_links: dict[str, str] = {}  # conda-meta path -> PyPI metadata path
        out: list[Fact] = []
        for fact in facts:
            if isinstance(fact, Package) and fact.ecosystem in ("PyPI", "npm"):
                key = metadata_dir(fact.path) if fact.ecosystem == "PyPI" else fact.path
                pairs: dict[str, str] = {}
                changes: dict[str, object] = {}
                installer = installers.get(key)
                if installer:
                    pairs["installer"] = installer
                owner = owners.get(key)
                if owner is not None and owner.manager in _OS_MANAGERS:
                    pairs |= {"os_package": owner.package, "os_manager": owner.manager}
                    if (owner.manager, owner.package) in third_party:
                        # No distro advisory covers a vendor package's bundled Python/npm code: match it
                        # as what it is (e.g. the Python bundled in google-cloud-cli's apt package).
                        pairs["os_package_origin"] = "third-party"
                        changes |= {"os_managed": False, "origin": "third-party"}
                    else:
                        changes |= {"os_managed": True, "origin": "os"}
                elif owner is not None:  # conda
                    pairs |= {"installer": "conda", "conda_package": owner.package, "conda_path": owner.path}
                    conda_links.setdefault(owner.path, fact.path)
                    changes["origin"] = "conda"
                elif fact.ecosystem == "PyPI" and rpm_os and not has_rpmdb and rpm_site_packages(fact.path):
                    pairs["os_manager"] = "rpm (by location)"
                    changes |= {"os_managed": True, "origin": "os"}
                elif fact.ecosystem == "PyPI" and fact.os_managed and is_os_location(fact.path):
                    if owned_known:
                        # In apt's tree but owned by no OS package: pip (or setup.py) put it there.
                        pairs["unowned_in"] = "dist-packages"
                        changes |= {"os_managed": False, "origin": _installer_origin(installer)}
                    else:
                        pairs["os_manager"] = "dpkg (by location)"
                        changes["origin"] = "os"
                elif fact.ecosystem == "PyPI" and installer:
                    changes["origin"] = _installer_origin(installer)
                if pairs or changes:
                    fact = with_extra(fact, pairs, **changes)
            out.append(fact)
        pypi_in_env = {
            (python_env(f.path), f.name): f.path for f in out if isinstance(f, Package) and f.ecosystem == "PyPI"
        }
        return [_covered_conda(f, conda_links, pypi_in_env) for f in out]


def _installer_origin(installer: str | None) -> str:
    word = (installer or "").strip().lower()
    if word in _OS_INSTALLERS:
        return "os"
    return "conda" if word == "conda" else "pip"


def python_env(path: str) -> str:
    """The environment prefix of a Python metadata path: `opt/conda/envs/x/lib/python3.11/…` → `opt/conda/envs/x`."""
    return path.split("/lib/python", 1)[0]


def _covered_conda(fact: Fact, links: dict[str, str], pypi_in_env: dict[tuple[str, str], str]) -> Fact:
    """A conda package whose project also has a PyPI record in the same environment (the `.dist-info` it
    installed, or one its metapackage's dependency installed): point at that record and rename `pypi_name`
    to `pypi_project`, so the project is matched against PyPI advisories once, through the PyPI record."""
    if not isinstance(fact, Package) or fact.ecosystem != "conda":
        return fact
    project = extra_value(fact, "pypi_name")
    pypi_path = links.get(fact.path)
    if pypi_path is None and project:
        pypi_path = pypi_in_env.get((extra_value(fact, "env") or "", project))
    if pypi_path is None:
        return fact
    pairs = {"pypi_path": pypi_path} | ({"pypi_project": project} if project else {})
    kept = tuple((k, v) for k, v in fact.extra if k not in ("pypi_name", *pairs))
    return dataclasses.replace(fact, extra=kept + tuple(pairs.items()))
