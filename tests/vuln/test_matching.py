"""Matching real package versions against the real PyPA advisories, and who is matched against what."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.vuln.osv_fixtures import advisory, store_from

from shareguard.core.facts import OSInfo, Package
from shareguard.vuln.matcher import Matcher, query_for
from shareguard.vuln.store import VulnStore


def _pypi(name: str, version: str, **kw: object) -> Package:
    return Package(
        name=name,
        version=version,
        ecosystem="PyPI",
        path=f"usr/local/lib/python3.11/site-packages/{name}-{version}.dist-info/METADATA",
        origin="pip",
        **kw,  # type: ignore[arg-type]
    )


def _ids(store: VulnStore, pkg: Package) -> set[str]:
    return {m.advisory_id for m in Matcher(store).match(pkg)}


def test_torch_code_execution_advisory(pypa_store: VulnStore) -> None:
    # PYSEC-2022-43015 (CVE-2022-45907): torch.jit eval, fixed in 1.13.1
    assert "PYSEC-2022-43015" in _ids(pypa_store, _pypi("torch", "1.13.0"))
    assert "PYSEC-2022-43015" in _ids(pypa_store, _pypi("torch", "1.13.0+cu117"))  # CUDA local build
    assert "PYSEC-2022-43015" not in _ids(pypa_store, _pypi("torch", "1.13.1"))
    assert "PYSEC-2022-43015" not in _ids(pypa_store, _pypi("torch", "2.2.0+cu121"))


def test_pyyaml_known_rce(pypa_store: VulnStore) -> None:
    matches = {m.advisory_id: m for m in Matcher(pypa_store).match(_pypi("PyYAML", "5.3"))}
    # CVE-2020-1747 (full_load RCE) fixed in 5.3.1 and CVE-2020-14343 fixed in 5.4
    assert matches["PYSEC-2020-96"].fixed_version == "5.3.1"
    assert matches["PYSEC-2021-142"].fixed_version == "5.4"
    assert "PYSEC-2018-49" not in matches  # fixed in 5.1
    assert "PYSEC-2018-49" in _ids(pypa_store, _pypi("pyyaml", "4.2b1"))  # a pre-release in the explicit list
    assert _ids(pypa_store, _pypi("pyyaml", "6.0.1")) == set()


def test_tensorflow_many_and_fewer_after_upgrade(pypa_store: VulnStore) -> None:
    old = _ids(pypa_store, _pypi("tensorflow", "2.4.0"))
    new = _ids(pypa_store, _pypi("tensorflow", "2.12.0"))
    assert len(old) > 100
    assert len(new) < len(old) // 5


def test_os_managed_python_not_matched_against_pypi(pypa_store: VulnStore) -> None:
    pkg = _pypi("pyyaml", "5.3", os_managed=True)
    assert query_for(pkg, None) is None
    assert Matcher(pypa_store).match(pkg) == []


def test_conda_matched_through_pypi_name(pypa_store: VulnStore) -> None:
    conda = Package(
        name="pytorch",
        version="1.13.0",
        ecosystem="conda",
        path="opt/conda/conda-meta/pytorch-1.13.0-py3.10_cuda11.7_cudnn8.5.0_0.json",
        origin="conda",
        extra=(("pypi_name", "torch"),),
    )
    assert "PYSEC-2022-43015" in _ids(pypa_store, conda)
    no_pypi = Package(
        name="cudatoolkit", version="11.7.0", ecosystem="conda", path="opt/conda/conda-meta/x.json", origin="conda"
    )
    assert query_for(no_pypi, None) is None


DSA = advisory(
    "DSA-5000-1",
    "Debian:12",
    "openssl",
    [{"introduced": "0"}, {"fixed": "3.0.11-1~deb12u2"}],
    affected_extra={"ecosystem_specific": {"urgency": "high"}},
)
DSA_11 = advisory("DSA-4999-1", "Debian:11", "openssl", [{"introduced": "0"}, {"fixed": "1.1.1w-0+deb11u1"}])
USN = advisory(
    "UBUNTU-CVE-2024-1", "Ubuntu:22.04:LTS", "openssl", [{"introduced": "0"}, {"fixed": "3.0.2-0ubuntu1.15"}]
)
USN_PRO = advisory(
    "UBUNTU-CVE-2024-2", "Ubuntu:Pro:22.04:LTS", "openssl", [{"introduced": "0"}, {"fixed": "3.0.2-0ubuntu1.16"}]
)
ALPINE = advisory("ALPINE-CVE-2024-3", "Alpine:v3.19", "openssl", [{"introduced": "0"}, {"fixed": "3.1.4-r5"}])


def _deb(name: str, version: str, source: str, ecosystem: str = "Debian:12", **kw: object) -> Package:
    return Package(
        name=name,
        version=version,
        ecosystem=ecosystem,
        path="var/lib/dpkg/status",
        source_name=source,
        source_version=version,
        os_managed=True,
        **kw,  # type: ignore[arg-type]
    )


def test_debian_matched_by_source_package_and_release(tmp_path: Path) -> None:
    with store_from(tmp_path, [DSA, DSA_11]) as store:
        matcher = Matcher(store)
        (m,) = matcher.match(_deb("libssl3", "3.0.11-1~deb12u1", "openssl"))
        assert (m.advisory_id, m.fixed_version, m.vendor_severity) == ("DSA-5000-1", "3.0.11-1~deb12u2", "high")
        assert matcher.match(_deb("libssl3", "3.0.11-1~deb12u2", "openssl")) == []
        # Release taken from the OS when the package's ecosystem has no suffix
        os12 = OSInfo(id="debian", version_id="12")
        assert [x.advisory_id for x in Matcher(store, os12).match(_deb("libssl3", "3.0.9-1", "openssl", "Debian"))] == [
            "DSA-5000-1"
        ]


def test_third_party_os_packages_not_matched_against_distro(tmp_path: Path) -> None:
    with store_from(tmp_path, [DSA]) as store:
        pkg = _deb("libssl3", "3.0.0-1", "openssl", origin="third-party")
        assert query_for(pkg, None) is None
        assert Matcher(store).match(pkg) == []


def test_ubuntu_release_and_pro(tmp_path: Path) -> None:
    with store_from(tmp_path, [USN, USN_PRO]) as store:
        found = Matcher(store).match(_deb("openssl", "3.0.2-0ubuntu1.10", "openssl", "Ubuntu:22.04:LTS"))
        assert [m.advisory_id for m in found] == ["UBUNTU-CVE-2024-1"]  # Pro (ESM) fixes do not apply


def test_alpine_release(tmp_path: Path) -> None:
    with store_from(tmp_path, [ALPINE]) as store:
        pkg = Package(
            name="libssl3",
            version="3.1.4-r1",
            ecosystem="Alpine:v3.19",
            path="lib/apk/db/installed",
            source_name="openssl",
            os_managed=True,
        )
        assert [m.fixed_version for m in Matcher(store).match(pkg)] == ["3.1.4-r5"]
        other = Package(
            name="libssl3",
            version="3.1.4-r1",
            ecosystem="Alpine:v3.18",
            path="lib/apk/db/installed",
            source_name="openssl",
        )
        assert Matcher(store).match(other) == []


def test_generic_and_unknown_ecosystems_skipped() -> None:
    assert query_for(Package(name="cuda", version="12.4", ecosystem="generic", path="usr/local/cuda"), None) is None
    assert query_for(Package(name="x", version="", ecosystem="PyPI", path="p"), None) is None


def test_evaluations_are_counted(pypa_store: VulnStore) -> None:
    matcher = Matcher(pypa_store)
    matcher.match(_pypi("tensorflow", "2.4.0"))
    assert matcher.stats.candidates > 100 and matcher.stats.packages == 1


# --- the hot loop (one folded table per entry) against the ranges evaluated one by one --------------

_V = ["0.9", "1.0", "1.0.0", "1.0.1", "1.1", "2.0rc1", "2.0", "2.0.1", "3.0"]
_EVENTS = st.lists(
    st.tuples(st.sampled_from(["introduced", "introduced", "fixed", "last_affected", "limit"]), st.sampled_from(_V)),
    min_size=1,
    max_size=5,
)
_ENTRY = st.tuples(
    st.sampled_from(["OSV-A", "OSV-B", "OSV-C"]),  # repeated ids: several entries of one advisory
    st.lists(_EVENTS, max_size=2),
    st.lists(st.sampled_from([*_V, "2.0.post1", "weird-build"]), max_size=3),
)


@settings(max_examples=150, deadline=None)
@given(
    entries=st.lists(_ENTRY, min_size=1, max_size=5),
    versions=st.lists(st.sampled_from([*_V, "0.1", "1.5", "2.0+cu121", "9.0", "weird-build"]), min_size=1, max_size=6),
)
def test_hot_loop_agrees_with_range_by_range_evaluation(
    entries: list[tuple[str, list[list[tuple[str, str]]], list[str]]], versions: list[str]
) -> None:
    affected = [
        {
            "package": {"ecosystem": "PyPI", "name": "demo"},
            "ranges": [
                {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, *({k: v} for k, v in events)]}
                for events in ranges
            ],
            "versions": listed,
        }
        for _id, ranges, listed in entries
    ]
    docs: dict[str, dict[str, Any]] = {}
    for (adv_id, _r, _l), entry in zip(entries, affected, strict=True):
        docs.setdefault(adv_id, {**advisory(adv_id, "PyPI", "demo", []), "affected": []})["affected"].append(entry)
    with tempfile.TemporaryDirectory() as tmp, store_from(Path(tmp), list(docs.values())) as store:
        fast = Matcher(store)
        slow = Matcher(store)
        for version in versions:
            pkg = _pypi("demo", version)
            slow.match(pkg)  # builds the table, then force the general path on it
            slow._tables = {k: t._replace(general=True) for k, t in slow._tables.items()}
            got = fast.match(pkg)
            assert [m[2:] for m in got] == [m[2:] for m in slow.match(pkg)], version
            assert len({m.advisory_id for m in got}) == len(got)  # one match per advisory


def test_oversized_table_is_evaluated_range_by_range(pypa_store: VulnStore, monkeypatch: pytest.MonkeyPatch) -> None:
    from shareguard.vuln import matcher as matcher_module

    pkgs = [_pypi("tensorflow", v) for v in ("1.15.0", "2.4.0", "2.11.0", "2.16.1", "2.4.0+cu110")]
    laid_out = Matcher(pypa_store)
    expected = [laid_out.match(p) for p in pkgs]
    assert not any(t.general for t in laid_out._tables.values())
    monkeypatch.setattr(matcher_module, "MAX_TABLE_CELLS", 0)
    fallback = Matcher(pypa_store)
    assert [fallback.match(p) for p in pkgs] == expected
    assert all(t.general for t in fallback._tables.values())
    assert sum(map(len, expected)) > 300
