"""OS packages get the OSV ecosystem of the merged OS and the layer that installed them.

- `ecosystem`: the base OSV name (`Debian`, `Ubuntu`, `Alpine`, `Rocky Linux`…), which is what the
  matcher looks up; the release-scoped OSV name (`Debian:12`, `Ubuntu:22.04:LTS`, `Alpine:v3.19`) is
  extra `osv_ecosystem`, and the release is in the purl's `distro` qualifier (`debian-12`).
- `purl`: the distro's namespace (`pkg:deb/ubuntu/…?arch=amd64&distro=ubuntu-22.04`).
- `layer` (dpkg): the layer that last wrote the package's `var/lib/dpkg/info/<name>.list`, i.e. the layer
  that installed this version (the status file itself is rewritten by every layer that runs apt).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from shareguard.core.facts import Fact, OSInfo, Package
from shareguard.image.analyzers import purls
from shareguard.image.analyzers._common import load_data
from shareguard.image.analyzers.finalizers._util import merged_os
from shareguard.image.analyzers.rpm import DB_PATHS, UNSUPPORTED_PATHS
from shareguard.image.facts import InventoryNotice, OwnedFiles

_DATA = "os_ecosystems.yaml"
_RPMDB_PREFERENCE = (
    "usr/lib/sysimage/rpm/rpmdb.sqlite",
    "var/lib/rpm/rpmdb.sqlite",
    "usr/lib/sysimage/rpm/Packages",
    "var/lib/rpm/Packages",
)


def manager_of(pkg: Package) -> str | None:
    if pkg.origin not in ("os", "third-party"):
        return None
    if pkg.path.startswith("var/lib/dpkg/"):
        return "dpkg"
    if pkg.path in DB_PATHS:
        return "rpm"
    if pkg.path == "lib/apk/db/installed":
        return "apk"
    return None


def osv_ecosystem(info: OSInfo, spec: dict[str, Any]) -> str | None:
    base = spec.get("ecosystem")
    if not base:
        return None
    template = spec.get("release")
    version = info.version_id.strip()
    if not template or not version:
        return str(base)
    numbers = version.split(".")
    lts = ":LTS" if info.id == "ubuntu" and _is_ubuntu_lts(version) else ""
    release = str(template).format(major=numbers[0], major_minor=".".join(numbers[:2]), version_id=version, lts=lts)
    return f"{base}:{release}"


def _is_ubuntu_lts(version: str) -> bool:
    """Ubuntu LTS releases are the April releases of even years (22.04, 24.04)."""
    year, _, month = version.partition(".")
    return year.isdigit() and int(year) % 2 == 0 and month.startswith("04")


def distro_qualifier(info: OSInfo) -> str:
    return f"{info.id}-{info.version_id or info.version_codename}".rstrip("-")


def _rebuild_purl(pkg: Package, manager: str, namespace: str, distro: str) -> str | None:
    if manager == "dpkg":
        return purls.deb(namespace, pkg.name, pkg.version, pkg.arch, distro)
    if manager == "apk":
        return purls.apk(namespace, pkg.name, pkg.version, pkg.arch, distro)
    epoch, sep, evr = pkg.version.partition(":")
    if not sep:
        epoch, evr = "", pkg.version
    return purls.rpm(namespace, pkg.name, evr, epoch or None, pkg.arch, distro)


def _preferred_rpmdb(facts: list[Fact]) -> str | None:
    """One rpm database per target: sqlite over BerkeleyDB, `usr/lib/sysimage/rpm` over `var/lib/rpm`."""
    present = {f.path for f in facts if isinstance(f, Package) and f.path in DB_PATHS}
    for path in _RPMDB_PREFERENCE:
        if path in present:
            return path
    return None


def dpkg_layer(pkg: Package, files: dict[str, str | None]) -> tuple[bool, str | None]:
    for key in (f"var/lib/dpkg/info/{pkg.name}:{pkg.arch}.list", f"var/lib/dpkg/info/{pkg.name}.list"):
        if key in files:
            return True, files[key]
    return False, None


class DistroFinalizer:
    name = "inventory.distro"
    order = 20

    def finalize(self, facts: list[Fact], files: dict[str, str | None]) -> list[Fact]:
        info = merged_os(list(facts))
        data = load_data(_DATA)
        spec = data.get(info.id) if info is not None else None
        out: list[Fact] = []
        found_rpm = False
        keep_db = _preferred_rpmdb(facts)
        for fact in facts:
            if keep_db and isinstance(fact, Package | OwnedFiles) and fact.path in DB_PATHS and fact.path != keep_db:
                continue  # the same database seen twice (e.g. `var/lib/rpm` linked to `usr/lib/sysimage/rpm`)
            if not isinstance(fact, Package):
                out.append(fact)
                continue
            manager = manager_of(fact)
            found_rpm = found_rpm or manager == "rpm"
            if manager is None:
                out.append(fact)
                continue
            changes: dict[str, Any] = {}
            if manager == "dpkg" and fact.path == "var/lib/dpkg/status":
                known, layer = dpkg_layer(fact, files)
                if known:
                    changes["layer"] = layer
            if info is not None and isinstance(spec, dict) and spec.get("manager") == manager:
                ecosystem = osv_ecosystem(info, spec)
                if ecosystem:
                    changes["ecosystem"] = str(spec["ecosystem"])
                    kept = [(k, v) for k, v in fact.extra if k != "osv_ecosystem"]
                    changes["extra"] = (*kept, ("osv_ecosystem", ecosystem))
                changes["purl"] = _rebuild_purl(fact, manager, str(spec["namespace"]), distro_qualifier(info))
            out.append(dataclasses.replace(fact, **changes) if changes else fact)
        if not found_rpm:
            for path, kind in UNSUPPORTED_PATHS.items():
                if path in files:
                    out.append(
                        InventoryNotice(
                            path=path,
                            layer=files[path],
                            message=f"{kind} rpm database is not supported: rpm packages are not listed",
                        )
                    )
        return out
