"""The upgrade command for a vulnerable package, in its own package manager's words."""

from __future__ import annotations

import shlex

from shareguard.core.facts import Package
from shareguard.core.finding import Remediation


def upgrade_command(pkg: Package, ecosystem: str, fixed: str | None) -> str | None:
    """`ecosystem` is the canonical one of the package itself (`conda` stays conda)."""
    name = pkg.name
    if ecosystem == "PyPI":
        return f"pip install {shlex.quote(f'{name}>={fixed}')}" if fixed else None
    if ecosystem == "conda":
        return f"conda install {shlex.quote(f'{name}>={fixed}')}" if fixed else None
    if ecosystem == "npm":
        return f"npm install {shlex.quote(f'{name}@{fixed}')}" if fixed else None
    if ecosystem in ("Debian", "Ubuntu"):
        # The binary package is what apt installs; the fix comes with its source package's new version.
        return f"apt-get update && apt-get install --only-upgrade {shlex.quote(name)}"
    if ecosystem == "Alpine":
        return f"apk add --upgrade {shlex.quote(name)}"
    if ecosystem in ("Red Hat", "AlmaLinux", "Rocky Linux"):
        return f"dnf upgrade {shlex.quote(name)}"
    if ecosystem in ("openSUSE", "SUSE"):
        return f"zypper update {shlex.quote(name)}"
    return None


def remediation(
    pkg: Package, ecosystem: str, fixed: str | None, last_affected: str | None, url: str | None
) -> Remediation:
    if fixed:
        text = f"Upgrade {pkg.name} to {fixed} or later (rebuild the image with the fixed version)."
    elif last_affected:
        text = (
            f"Upgrade {pkg.name} past {last_affected} (the last affected version); no exact fixed version is recorded."
        )
    else:
        text = f"No fixed version of {pkg.name} is known yet: remove it, mitigate, or waive with a VEX statement."
    command = upgrade_command(pkg, ecosystem, fixed) if (fixed or last_affected) else None
    return Remediation(text=text, fixed_version=fixed, command=command, url=url)
