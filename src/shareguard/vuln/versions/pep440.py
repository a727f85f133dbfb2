"""PEP 440 order (PyPI, conda's Python projects) with `packaging`."""

from __future__ import annotations

from typing import Any

from packaging.version import Version

# Ranks inside the key: every part is a tuple starting with an int, so the keys are plain tuples that
# compare fast (~5x faster than `Version.__lt__`) without the library's private comparison key.
_LOW, _MID, _HIGH = 0, 1, 2


def key(version: str) -> Any:
    """A tuple with the order of `packaging.version.Version` (PEP 440), built from its public parts.

    Local versions (`2.3.0+cu121`) sort just after their public version, as PEP 440 says, so a fix in
    2.3.1 covers 2.3.0+cu121 and a fix in 2.3.0 covers it too."""
    v = Version(version)
    release = v.release
    end = len(release)
    while end and release[end - 1] == 0:  # 1.0 == 1.0.0
        end -= 1
    pre, post, dev, local = v.pre, v.post, v.dev, v.local
    if pre is not None:
        pre_key: tuple[Any, ...] = (_MID, pre[0], pre[1])
    elif post is None and dev is not None:
        pre_key = (_LOW,)  # 1.0.dev1 comes before 1.0a1
    else:
        pre_key = (_HIGH,)  # a release comes after its pre-releases
    post_key = (_LOW,) if post is None else (_MID, post)
    dev_key = (_HIGH,) if dev is None else (_MID, dev)
    if local is None:
        local_key: tuple[Any, ...] = (_LOW,)
    else:
        # Numeric segments sort after alphanumeric ones and numerically; alphanumeric ones as strings.
        local_key = (
            _MID,
            tuple((_HIGH, int(s), "") if s.isdigit() else (_LOW, 0, s) for s in local.split(".")),
        )
    return (v.epoch, release[:end], pre_key, post_key, dev_key, local_key)
