"""Version order per ecosystem: known vectors, and property tests against the reference libraries."""

from __future__ import annotations

import itertools

import pytest
from debian.debian_support import Version as DebianVersion
from hypothesis import given, settings
from hypothesis import strategies as st

from shareguard.vuln.versions import APK, DPKG, PEP440, RPM, SEMVER, InvalidVersion, VersionScheme, scheme_for


def _lt(scheme: VersionScheme, a: str, b: str) -> None:
    assert scheme.compare(a, b) == -1, f"{a} < {b}"
    assert scheme.compare(b, a) == 1, f"{b} > {a}"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("2.0", "1:1.0"),  # epoch wins
        ("1.0~rc1", "1.0"),  # tilde sorts before the release
        ("1.0~~", "1.0~"),
        ("1.0", "1.0+deb12u1"),  # Debian stable updates sort after
        ("2.36-9+deb12u4", "2.36-9+deb12u10"),
        ("1.0", "1.0.0"),
        ("1.0-1", "1.0-1ubuntu0.1"),
        ("3.0.11-1~deb12u2", "3.0.11-1~deb12u3"),
        ("3.0.11-1~deb12u2", "3.0.11-1"),
        ("1.2a", "1.2+"),  # letters before other characters
    ],
)
def test_dpkg_order(a: str, b: str) -> None:
    _lt(DPKG, a, b)


def test_dpkg_equal_forms() -> None:
    assert DPKG.compare("1.0", "1.00") == 0
    assert DPKG.compare("0:1.0", "1.0") == 0
    assert DPKG.compare("1.0-0", "1.0") == 0


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("1.2.3-r1", "1.2.3-r10"),
        ("1.2.3_rc1", "1.2.3"),
        ("1.2.3", "1.2.3_p1"),
        ("1.9", "1.10"),
        ("2.0_alpha1", "2.0_beta1"),
        ("1.2.3", "1.2.3a"),
    ],
)
def test_apk_order(a: str, b: str) -> None:
    _lt(APK, a, b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("1.0~rc1", "1.0"),
        ("2.0", "1:1.0"),
        ("1.0-1.el9", "1.0-1.el9_1"),
        ("1.0", "1.0a"),
        ("2.0", "2.0.1"),
        ("1.0", "1.0^git1"),  # caret: a snapshot after the release
        ("1.0^git1", "1.0.1"),
    ],
)
def test_rpm_order(a: str, b: str) -> None:
    _lt(RPM, a, b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("2.3.0", "2.3.0+cu121"),  # a local build sorts just after its release…
        ("2.3.0+cu121", "2.3.1"),  # …and before the next release, so a fix in 2.3.1 covers it
        ("1.0rc1", "1.0"),
        ("1.0", "1.0.post1"),
        ("1.0.dev1", "1.0a1"),
        ("1!0.1", "2!0.0"),
    ],
)
def test_pep440_order(a: str, b: str) -> None:
    _lt(PEP440, a, b)


@pytest.mark.parametrize(
    ("a", "b"), [("1.0.0-alpha", "1.0.0"), ("1.0.0-alpha.1", "1.0.0-alpha.beta"), ("1.9.0", "1.10.0")]
)
def test_semver_order(a: str, b: str) -> None:
    _lt(SEMVER, a, b)


def test_invalid_versions_raise() -> None:
    with pytest.raises(InvalidVersion):
        PEP440.key("not a version!")
    with pytest.raises(InvalidVersion):
        DPKG.key("")
    with pytest.raises(InvalidVersion):
        APK.key("garbage version")


def test_scheme_for_ecosystems() -> None:
    assert scheme_for("Debian:12") is DPKG
    assert scheme_for("Ubuntu:22.04:LTS") is DPKG
    assert scheme_for("Alpine:v3.19") is APK
    assert scheme_for("PyPI") is PEP440
    assert scheme_for("conda") is PEP440
    assert scheme_for("Go") is None


_DPKG_PART = st.text(alphabet="0123456789.~+-abz", min_size=1, max_size=10)


@settings(max_examples=400)
@given(st.lists(_DPKG_PART, min_size=2, max_size=6))
def test_dpkg_key_agrees_with_python_debian(raw: list[str]) -> None:
    versions = []
    for text in raw:
        try:
            versions.append((DebianVersion(text), text))
        except ValueError:
            continue
    for va, a in versions:
        for vb, b in versions:
            expected = (va > vb) - (va < vb)
            assert DPKG.compare(a, b) == expected, (a, b)


_PEP440 = st.builds(
    lambda rel, pre, post, dev, local: ".".join(map(str, rel)) + pre + post + dev + local,
    st.lists(st.integers(0, 20), min_size=1, max_size=4),
    st.sampled_from(["", "a1", "b2", "rc1"]),
    st.sampled_from(["", ".post1"]),
    st.sampled_from(["", ".dev3"]),
    st.sampled_from(["", "+cu121", "+cpu"]),
)


@given(st.lists(_PEP440, min_size=1, max_size=12))
def test_pep440_total_order_consistent_with_sorting(versions: list[str]) -> None:
    ordered = sorted(versions, key=PEP440.key)
    for a, b in itertools.pairwise(ordered):
        assert PEP440.compare(a, b) <= 0
    for a in versions:
        assert PEP440.compare(a, a) == 0
        for b in versions:
            assert PEP440.compare(a, b) == -PEP440.compare(b, a)


_APK = st.builds(
    lambda rel, suf, r: ".".join(map(str, rel)) + suf + (f"-r{r}" if r is not None else ""),
    st.lists(st.integers(0, 30), min_size=1, max_size=3),
    st.sampled_from(["", "_rc1", "_p2", "_alpha", "a"]),
    st.one_of(st.none(), st.integers(0, 20)),
)


@pytest.mark.parametrize("scheme", [APK, RPM])
@given(data=st.data())
def test_apk_rpm_transitive(scheme: VersionScheme, data: st.DataObject) -> None:
    strategy = (
        _APK
        if scheme is APK
        else st.from_regex(r"\A([0-9]{1,2}:)?[0-9]{1,3}(\.[0-9a-z~^]{1,3}){0,3}(-[0-9]{1,2}(\.el[89])?)?\Z")
    )
    versions = data.draw(st.lists(strategy, min_size=3, max_size=8))
    ordered = sorted(versions, key=scheme.key)
    for a, b in itertools.pairwise(ordered):
        assert scheme.compare(a, b) <= 0
    a, b, c = ordered[0], ordered[len(ordered) // 2], ordered[-1]
    assert scheme.compare(a, b) <= 0 and scheme.compare(b, c) <= 0 and scheme.compare(a, c) <= 0
