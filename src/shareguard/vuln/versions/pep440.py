"""PEP 440 order (PyPI, conda's Python projects) with `packaging`."""

from __future__ import annotations

from typing import Any

from packaging.version import Version


def key(version: str) -> Any:
    # Local versions (`2.3.0+cu121`) sort just after their public version, as PEP 440 says,
    # so a fix in 2.3.1 covers 2.3.0+cu121 and a fix in 2.3.0 covers it too.
    parsed = Version(version)
    # packaging's own comparison key is a plain tuple: comparing it is ~5x faster than Version.__lt__
    # (which compares exactly these keys). Fall back to the Version should a release rename it.
    cmp_key = getattr(parsed, "_key", None)
    return cmp_key if isinstance(cmp_key, tuple) else parsed
