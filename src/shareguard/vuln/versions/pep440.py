"""PEP 440 order (PyPI, conda's Python projects) with `packaging`."""

from __future__ import annotations

from packaging.version import Version


def key(version: str) -> Version:
    # Local versions (`2.3.0+cu121`) sort just after their public version, as PEP 440 says,
    # so a fix in 2.3.1 covers 2.3.0+cu121 and a fix in 2.3.0 covers it too.
    return Version(version)
