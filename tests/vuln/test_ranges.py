"""OSV range semantics (the spec's IncludedInRanges / BeforeLimits), evaluated through the store."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from tests.vuln.osv_fixtures import advisory, store_from

from shareguard.core.facts import Package
from shareguard.vuln.matcher import Matcher


def _pkg(version: str, name: str = "demo", ecosystem: str = "PyPI") -> Package:
    return Package(
        name=name, version=version, ecosystem=ecosystem, path=f"site-packages/{name}.dist-info", origin="pip"
    )


def _matches(tmp_path: Path, doc: dict[str, object], version: str, **pkg: str) -> list[tuple[str, str | None]]:
    with store_from(tmp_path, [doc]) as store:
        return [(m.advisory_id, m.fixed_version) for m in Matcher(store).match(_pkg(version, **pkg))]


MULTI = advisory(
    "OSV-MULTI",
    "PyPI",
    "demo",
    [{"introduced": "1.0"}, {"fixed": "1.0.2"}, {"introduced": "3.0"}, {"fixed": "3.2.5"}],
)


@pytest.mark.parametrize(
    ("version", "hit", "fixed"),
    [
        ("0.9", False, None),
        ("1.0", True, "1.0.2"),
        ("1.0.1", True, "1.0.2"),
        ("1.0.2", False, None),
        ("2.5", False, None),
        ("3.0", True, "3.2.5"),
        ("3.2.4", True, "3.2.5"),
        ("3.2.5", False, None),
        ("4.0", False, None),
    ],
)
def test_multiple_introduced_fixed_pairs(tmp_path: Path, version: str, hit: bool, fixed: str | None) -> None:
    assert _matches(tmp_path, MULTI, version) == ([("OSV-MULTI", fixed)] if hit else [])


def test_events_out_of_order_are_sorted(tmp_path: Path) -> None:
    doc = advisory(
        "OSV-SORT",
        "PyPI",
        "demo",
        [{"fixed": "3.2.5"}, {"introduced": "3.0"}, {"fixed": "1.0.2"}, {"introduced": "1.0"}],
    )
    assert _matches(tmp_path, doc, "3.1") == [("OSV-SORT", "3.2.5")]
    assert _matches(tmp_path / "b", doc, "2.0") == []


def test_introduced_zero_and_unfixed(tmp_path: Path) -> None:
    doc = advisory("OSV-ZERO", "PyPI", "demo", [{"introduced": "0"}])
    with store_from(tmp_path, [doc]) as store:
        (m,) = Matcher(store).match(_pkg("0.0.1.dev1"))
    assert m.fixed_version is None and m.unfixed


def test_last_affected_is_inclusive(tmp_path: Path) -> None:
    doc = advisory("OSV-LAST", "PyPI", "demo", [{"introduced": "0"}, {"last_affected": "2.1.214"}])
    with store_from(tmp_path, [doc]) as store:
        matcher = Matcher(store)
        (m,) = matcher.match(_pkg("2.1.214"))
        assert m.last_affected == "2.1.214" and m.fixed_version is None and not m.unfixed
        assert matcher.match(_pkg("2.1.215")) == []


def test_limit_bounds_the_range(tmp_path: Path) -> None:
    doc = advisory("OSV-LIMIT", "PyPI", "demo", [{"introduced": "1.0"}, {"limit": "2.0"}])
    with store_from(tmp_path, [doc]) as store:
        matcher = Matcher(store)
        assert [m.advisory_id for m in matcher.match(_pkg("1.5"))] == ["OSV-LIMIT"]
        assert matcher.match(_pkg("2.0")) == []
        assert matcher.match(_pkg("0.5")) == []


def test_limit_star_is_infinity(tmp_path: Path) -> None:
    doc = advisory("OSV-STAR", "PyPI", "demo", [{"introduced": "1.0"}, {"limit": "*"}])
    assert _matches(tmp_path, doc, "99.0") == [("OSV-STAR", None)]


def test_explicit_versions_list_matches_outside_ranges(tmp_path: Path) -> None:
    # e.g. a yanked release listed explicitly although the range does not cover it
    doc = advisory("OSV-LIST", "PyPI", "demo", [{"introduced": "2.0"}, {"fixed": "2.1"}], versions=["1.5", "2.0"])
    assert _matches(tmp_path, doc, "1.5") == [("OSV-LIST", "2.1")]
    assert _matches(tmp_path / "b", doc, "1.6") == []


def test_git_only_range_uses_versions(tmp_path: Path) -> None:
    doc = advisory(
        "OSV-GIT",
        "PyPI",
        "demo",
        [{"introduced": "0"}, {"fixed": "767f6aa49fe20a2766b9843d01e3b7f7793df6a3"}],
        range_type="GIT",
        versions=["1.0"],
        affected_extra={},
    )
    doc["affected"][0]["ranges"][0]["repo"] = "https://github.com/example/demo"  # type: ignore[index]
    assert _matches(tmp_path, doc, "1.0") == [("OSV-GIT", None)]
    assert _matches(tmp_path / "b", doc, "1.1") == []


def test_semver_range_for_npm(tmp_path: Path) -> None:
    doc = advisory("GHSA-npm", "npm", "lodash", [{"introduced": "0"}, {"fixed": "4.17.21"}], range_type="SEMVER")
    assert _matches(tmp_path, doc, "4.17.20", name="lodash", ecosystem="npm") == [("GHSA-npm", "4.17.21")]
    assert _matches(tmp_path / "b", doc, "4.17.21", name="lodash", ecosystem="npm") == []
    assert _matches(tmp_path / "c", doc, "4.17.21-beta.1", name="lodash", ecosystem="npm") == [("GHSA-npm", "4.17.21")]


def test_pep440_local_version_is_covered_by_fix(tmp_path: Path) -> None:
    doc = advisory("OSV-LOCAL", "PyPI", "torch", [{"introduced": "0"}, {"fixed": "2.3.1"}], versions=["2.3.0"])
    assert _matches(tmp_path, doc, "2.3.0+cu121", name="torch") == [("OSV-LOCAL", "2.3.1")]
    assert _matches(tmp_path / "b", doc, "2.3.1+cu121", name="torch") == []


def test_pypi_names_are_normalised(tmp_path: Path) -> None:
    doc = advisory("OSV-NAME", "PyPI", "Zope.Interface", [{"introduced": "0"}, {"fixed": "2"}])
    assert _matches(tmp_path, doc, "1", name="zope_interface") == [("OSV-NAME", "2")]


def test_unparsable_installed_version_uses_list_only(tmp_path: Path) -> None:
    doc = advisory("OSV-BAD", "PyPI", "demo", [{"introduced": "0"}, {"fixed": "2"}], versions=["weird-build"])
    with store_from(tmp_path, [doc]) as store:
        matcher = Matcher(store)
        assert [m.via for m in matcher.match(_pkg("weird-build"))] == ["versions"]
        assert matcher.match(_pkg("other build")) == []
        assert ("PyPI", "demo", "other build") in matcher.stats.unparsable


# --- the compiled range against the OSV specification's pseudocode, on random ranges ----------------

_VERSIONS = ["0.9", "1.0", "1.0.1", "1.1", "2.0rc1", "2.0", "2.0.1", "3.0", "3.1"]


def _spec_included(v: str, events: list[tuple[str, str]]) -> bool:
    """IncludedInRanges + BeforeLimits, transcribed from the OSV schema document."""
    from shareguard.vuln.versions import PEP440

    def key(x: str) -> object:
        return PEP440.key(x)

    limits = [e for k, e in events if k == "limit"]
    if limits and not any(e == "*" or key(v) < key(e) for e in limits):
        return False
    ordered = sorted((e for e in events if e[0] != "limit"), key=lambda e: (0,) if e[1] == "0" else (1, key(e[1])))
    vulnerable = False
    for kind, ver in ordered:
        if kind == "introduced" and (ver == "0" or key(v) >= key(ver)):
            vulnerable = True
        elif (kind == "fixed" and key(v) >= key(ver)) or (kind == "last_affected" and key(v) > key(ver)):
            vulnerable = False
    return vulnerable


_EVENT = st.tuples(
    st.sampled_from(["introduced", "fixed", "last_affected", "limit"]), st.sampled_from([*_VERSIONS, "0", "*"])
)


@settings(max_examples=500)
@given(events=st.lists(_EVENT, min_size=1, max_size=7), version=st.sampled_from(_VERSIONS))
def test_compiled_range_agrees_with_spec(events: list[tuple[str, str]], version: str) -> None:
    from shareguard.vuln.ranges import compile_range, included
    from shareguard.vuln.versions import PEP440

    # keep to what the importer accepts: "0" only introduces, "*" only limits, distinct versions per kind
    events = [(k, v) for k, v in events if (v != "0" or k == "introduced") and (v != "*" or k == "limit")]
    assume(events)
    seen = [v for _k, v in events if v not in ("0", "*")]
    assume(len(seen) == len(set(seen)))  # the spec leaves ties between events of one version unordered
    compiled = compile_range(tuple(events), PEP440)
    assert (included(PEP440.key(version), compiled) is not None) == _spec_included(version, events)


# --- several ranges of one entry folded into one table, against the ranges evaluated one by one ------

_MERGE_VERSIONS = ["0.9", "1.0", "1.0.0", "1.0.1", "1.1", "2.0rc1", "2.0", "2.0.1", "3.0", "3.1"]
_MERGE_EVENT = st.tuples(
    st.sampled_from(["introduced", "introduced", "fixed", "last_affected", "limit"]),
    st.sampled_from([*_MERGE_VERSIONS, "0", "*"]),
)


@settings(max_examples=500)
@given(
    ranges=st.lists(st.lists(_MERGE_EVENT, min_size=1, max_size=6), min_size=1, max_size=3),
    probes=st.lists(st.sampled_from([*_MERGE_VERSIONS, "0.1", "1.0.0.1", "1.5", "2.0.0.1", "9.0"]), max_size=8),
)
def test_merged_table_agrees_with_ranges_in_order(ranges: list[list[tuple[str, str]]], probes: list[str]) -> None:
    from shareguard.vuln.ranges import compile_range, first_included, merge_ranges
    from shareguard.vuln.versions import PEP440

    compiled = [
        compile_range(
            tuple((k, v) for k, v in events if (v != "0" or k == "introduced") and (v != "*" or k == "limit")), PEP440
        )
        for events in ranges
    ]
    table = merge_ranges(compiled)
    for version in [*_MERGE_VERSIONS, *probes]:  # every event version (equal keys included) and versions between
        key = PEP440.key(version)
        assert table.verdict(key) == first_included(key, compiled), version


def test_semver_range_of_a_pypi_entry_uses_semver_order(tmp_path: Path) -> None:
    # A range's type decides its order: such an entry once made the comparison of keys of two orders fail.
    doc = advisory("OSV-MIXED", "PyPI", "demo", [{"introduced": "1.0.0"}, {"fixed": "1.2.0"}], range_type="SEMVER")
    doc["affected"][0]["ranges"].append({"type": "ECOSYSTEM", "events": [{"introduced": "2.0"}, {"fixed": "2.1"}]})
    assert _matches(tmp_path, doc, "1.1.0") == [("OSV-MIXED", "1.2.0")]
    assert _matches(tmp_path / "b", doc, "2.0.5") == [("OSV-MIXED", "2.1")]
    assert _matches(tmp_path / "c", doc, "3.0") == []
    assert _matches(tmp_path / "d", doc, "1.1.0rc1") == []  # not a SemVer version: only the PEP 440 range applies
