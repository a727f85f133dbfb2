"""Version order per ecosystem: known vectors, and property tests against the reference libraries."""

from __future__ import annotations

import itertools
from collections.abc import Callable

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


def _cmp_sign(x: int) -> int:
    return (x > 0) - (x < 0)


def _agree(scheme: VersionScheme, reference: Callable[[str, str], int], raw: list[str]) -> None:
    """The scheme's key orders every pair exactly as the reference comparison does."""
    versions = []
    for text in raw:
        try:
            scheme.key(text)
        except InvalidVersion:
            continue
        versions.append(text)
    for a in versions:
        for b in versions:
            assert scheme.compare(a, b) == _cmp_sign(reference(a, b)), (a, b)


def _rpm_reference(a: str, b: str) -> int:
    from univers import rpm
    from univers.versions import RpmVersion

    return int(rpm.compare_rpm_versions(RpmVersion(a).value, RpmVersion(b).value))


def _apk_reference(a: str, b: str) -> int:
    from univers import gentoo
    from univers.versions import AlpineLinuxVersion

    return int(gentoo.vercmp(AlpineLinuxVersion(a).value, AlpineLinuxVersion(b).value))


def _semver_reference(a: str, b: str) -> int:
    import semver

    parse = semver.Version.parse
    return parse(a.strip().lstrip("=v"), optional_minor_and_patch=True).compare(
        parse(b.strip().lstrip("=v"), optional_minor_and_patch=True)
    )


# rpm: segments of digits/letters (leading zeros, long numbers), every separator rpm knows (~ ^ . _ + -),
# epochs, releases, and characters rpm ignores (non-ASCII).
_RPM = st.one_of(
    st.builds(
        lambda epoch, parts, release: epoch + "".join(parts) + release,
        st.sampled_from(["", "", "0:", "1:", "2:"]),
        st.lists(
            st.sampled_from(["1", "01", "2", "10", ".", "_", "+", "~", "^", "a", "rc", "git", "Z", "é"]),
            min_size=1,
            max_size=6,
        ),
        st.sampled_from(["", "-1", "-01", "-1.el9", "-1.el9_1", "-2~rc1", "-1^post"]),
    ),
    st.from_regex(
        r"\A([0-9]{1,2}:)?([0-9]{1,3}|0[0-9]|[a-z]{1,3}|[~^._+]){1,6}(-([0-9]{1,2}|[a-z]{1,3}|[~^._]){1,4})?\Z"
    ),
    st.text(alphabet="0123456789abzAZ.~^_+-:é", min_size=1, max_size=12),
)

# apk: dotted numbers (with leading/trailing zeros), a letter, every suffix with or without a number,
# several suffixes, -rN; and random strings the order must reject or place.
_APK = st.one_of(
    # small alphabets, so that a list holds versions which differ in one place only
    st.builds(
        lambda dotted, letter, suffixes, rev: dotted + letter + "".join(suffixes) + rev,
        st.sampled_from(["1", "1.0", "1.00", "1.2", "1.02", "1.020", "1.10", "1.2.3", "0.9", "10"]),
        st.sampled_from(["", "", "a", "b", "z"]),
        st.lists(
            st.sampled_from(["_alpha", "_beta", "_pre", "_rc", "_p", "_rc1", "_p2", "_pre10", "_alpha0"]), max_size=3
        ),
        st.sampled_from(["", "-r0", "-r1", "-r2", "-r10"]),
    ),
    st.from_regex(
        r"\A(0|[1-9][0-9]{0,2})(\.[0-9]{1,3}){0,3}[a-z]?(_(alpha|beta|pre|rc|p)[0-9]{0,2}){0,3}(-r[0-9]{1,2})?\Z"
    ),
    st.text(alphabet="0123456789.ab_prc-", min_size=1, max_size=12),
)

_SEMVER = st.one_of(
    st.builds(
        lambda prefix, core, pre, build: prefix + core + pre + build,
        st.sampled_from(["", "", "v", "="]),
        st.sampled_from(["1", "1.0", "1.0.0", "1.2.3", "1.10.0", "2.0.0", "0.0.1"]),
        st.one_of(
            st.just(""),
            st.lists(
                st.sampled_from(["alpha", "beta", "rc", "0", "1", "2", "10", "x-y", "1a", "-"]), min_size=1, max_size=3
            ).map(lambda ids: "-" + ".".join(ids)),
        ),
        st.sampled_from(["", "", "+build.5", "+001"]),
    ),
    st.from_regex(
        r"\A[v=]?(0|[1-9][0-9]?)(\.(0|[1-9][0-9]?)(\.(0|[1-9][0-9]?))?)?"
        r"(-(0|[1-9][0-9]?|[0-9]?[a-zA-Z-][0-9a-zA-Z-]{0,3})(\.(0|[1-9][0-9]?|[0-9]?[a-zA-Z-][0-9a-zA-Z-]{0,3})){0,3})?"
        r"(\+[0-9a-z]{1,3})?\Z"
    ),
    st.text(alphabet="0123456789.-+abAZ", min_size=1, max_size=12),
)


@settings(max_examples=600)
@given(st.lists(_RPM, min_size=2, max_size=8))
def test_rpm_key_agrees_with_univers(raw: list[str]) -> None:
    _agree(RPM, _rpm_reference, raw)


@settings(max_examples=600)
@given(st.lists(_APK, min_size=2, max_size=8))
def test_apk_key_agrees_with_univers(raw: list[str]) -> None:
    _agree(APK, _apk_reference, raw)


@settings(max_examples=600)
@given(st.lists(_SEMVER, min_size=2, max_size=8))
def test_semver_key_agrees_with_semver(raw: list[str]) -> None:
    _agree(SEMVER, _semver_reference, raw)


@pytest.mark.parametrize(
    ("scheme", "text"),
    [
        (RPM, " 1.0"),
        (RPM, ""),
        (APK, "1.0_foo"),
        (APK, "v1.0"),
        (APK, "006"),
        (SEMVER, "1.0.0-01"),
        (SEMVER, "1.2.3.4"),
    ],
)
def test_keys_reject_what_the_reference_rejects(scheme: VersionScheme, text: str) -> None:
    with pytest.raises(InvalidVersion):
        scheme.key(text)
