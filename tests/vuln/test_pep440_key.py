"""The PEP 440 key (built from `Version`'s public parts) orders exactly as `packaging.version.Version` does."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.version import Version

from shareguard.vuln.versions import PEP440, pep440

_num = st.integers(min_value=0, max_value=12)
_local_part = st.one_of(_num.map(str), st.sampled_from(["cu121", "ubuntu", "a", "b1", "dev", "0a", "x"]))


@st.composite
def versions(draw: st.DrawFn) -> str:
    text = ""
    if draw(st.booleans()) and draw(st.booleans()):
        text += f"{draw(st.integers(0, 2))}!"
    text += ".".join(str(n) for n in draw(st.lists(_num, min_size=1, max_size=4)))
    if draw(st.booleans()):
        text += f"{draw(st.sampled_from(['a', 'b', 'rc', 'alpha', 'c', 'pre']))}{draw(_num)}"
    if draw(st.booleans()):
        text += f".post{draw(_num)}"
    if draw(st.booleans()):
        text += f".dev{draw(_num)}"
    if draw(st.booleans()):
        text += "+" + ".".join(draw(st.lists(_local_part, min_size=1, max_size=3)))
    return text


def _sign(a: object, b: object) -> int:
    return int(a > b) - int(a < b)  # type: ignore[operator]


@settings(max_examples=2000, deadline=None)
@given(a=versions(), b=versions())
def test_key_orders_as_packaging(a: str, b: str) -> None:
    assert _sign(pep440.key(a), pep440.key(b)) == _sign(Version(a), Version(b))
    assert (pep440.key(a) == pep440.key(b)) == (Version(a) == Version(b))


def test_known_orders() -> None:
    chain = [
        "1.0.dev1",
        "1.0a1.dev1",
        "1.0a1",
        "1.0b2",
        "1.0rc1",
        "1.0",
        "1.0+abc",
        "1.0+abc.5",
        "1.0+5",
        "1.0.post1.dev1",
        "1.0.post1",
        "1.1",
        "2!0.1",
    ]
    keys = [pep440.key(v) for v in chain]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert pep440.key("1.0") == pep440.key("1.0.0") == pep440.key("1")
    assert PEP440.compare("2.3.0+cu121", "2.3.1") == -1 and PEP440.compare("2.3.0+cu121", "2.3.0") == 1


def test_key_is_a_plain_tuple() -> None:
    # Fast comparisons come from comparing tuples of ints and strings, not `Version` objects.
    def plain(x: object) -> bool:
        return isinstance(x, int | str) or (isinstance(x, tuple) and all(plain(i) for i in x))

    assert plain(pep440.key("1!2.3rc1.post4.dev5+local.7"))
