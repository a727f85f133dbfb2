"""OSV range semantics (the spec's IncludedInRanges / BeforeLimits), evaluated through the store."""

from __future__ import annotations

from pathlib import Path

import pytest

from shareguard.core.facts import Package
from shareguard.vuln.matcher import Matcher
from tests.vuln.conftest import advisory, store_from


def _pkg(version: str, name: str = "demo", ecosystem: str = "PyPI") -> Package:
    return Package(name=name, version=version, ecosystem=ecosystem, path=f"site-packages/{name}.dist-info", origin="pip")


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
    doc = advisory("OSV-SORT", "PyPI", "demo", [{"fixed": "3.2.5"}, {"introduced": "3.0"}, {"fixed": "1.0.2"}, {"introduced": "1.0"}])
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
