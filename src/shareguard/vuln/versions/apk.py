"""Alpine apk order (`1.2.3-r1` < `1.2.3-r10`, `_rc` < release < `_p`, letters) as `univers` orders it.

`univers` validates (`AlpineLinuxVersion`) and compares with pkgcore's gentoo `vercmp`, a pure-Python
function of ~3 µs a call. So each version becomes a tuple key once, built from univers' own parse,
which orders exactly as that `vercmp` does (a property test checks it on random versions).
"""

from __future__ import annotations

_SUFFIX_RANK = {"alpha": -4, "beta": -3, "pre": -2, "rc": -1, "p": 1}
"""vercmp's suffix values; a version without a further suffix ranks 0 (after `_rc`, before `_p`)."""

_Component = tuple[int, int] | tuple[int, str]
_Key = tuple[tuple[_Component, ...], int, tuple[tuple[int, ...], ...], int]


def _component(text: str) -> _Component:
    # vercmp compares two dotted components as integers unless one starts with "0"; then both are
    # compared as strings without trailing zeros ("1.02" < "1.1"). A component starting with "0" is
    # therefore below every other one, and those compare among themselves as such strings.
    if text[0] == "0":
        return (0, text.rstrip("0"))
    return (1, int(text))


def key(version: str) -> _Key:
    from univers import gentoo  # here: univers costs ~0.1 s of every command's start-up
    from univers.versions import AlpineLinuxVersion

    if not AlpineLinuxVersion.is_valid(version):  # type: ignore[no-untyped-call]
        raise ValueError(f"not an apk version: {version!r}")
    text: str = AlpineLinuxVersion(version).value  # normalised as univers compares it
    ver, revision = gentoo.parse_version_and_revision(text)  # type: ignore[no-untyped-call]
    dotted, *suffixes = ver.split("_")
    parts = dotted.split(".")
    letter = -1
    if parts[-1][-1].isalpha():
        letter = ord(parts[-1][-1])
        parts[-1] = parts[-1][:-1]
    ranked: list[tuple[int, ...]] = []
    for suffix in suffixes:
        found = gentoo.suffix_regexp.match(suffix)
        if found is None:  # pragma: no cover - is_valid() admits only these suffixes
            raise ValueError(f"not an apk version: {version!r}")
        ranked.append((_SUFFIX_RANK[found.group(1)], int("0" + found.group(2))))
    ranked.append((0,))  # the end of the suffixes
    return (tuple(_component(p) for p in parts), letter, tuple(ranked), int(revision))
