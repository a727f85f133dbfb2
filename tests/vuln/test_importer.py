"""Importing OSV data: all.zip, directories of JSON/YAML, single files; malformed and hostile input."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.vuln.osv_fixtures import advisory, pypa_vulns

from shareguard.core.errors import InputError
from shareguard.vuln import importer
from shareguard.vuln.importer import import_path
from shareguard.vuln.store import VulnStore

GOOD = advisory("PYSEC-TEST-1", "PyPI", "demo", [{"introduced": "0"}, {"fixed": "1.0"}])


def _store(tmp_path: Path) -> VulnStore:
    return VulnStore(tmp_path / "db.sqlite", create=True)


def test_zip_as_osv_publishes_it(tmp_path: Path) -> None:
    archive = tmp_path / "all.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(3):
            doc = dict(GOOD, id=f"PYSEC-TEST-{i}")
            zf.writestr(f"PYSEC-TEST-{i}.json", json.dumps(doc))
    with _store(tmp_path) as store:
        report = import_path(store, archive, label="all.zip")
        assert report.imported == 3 and report.by_ecosystem == {"PyPI": 3}
        (src,) = store.sources()
        assert (src.source, src.ecosystem, src.advisory_count) == ("all.zip", "PyPI", 3)


def test_real_pypa_directory_recursive_yaml(tmp_path: Path, pypa_subset: Path) -> None:
    """Real PyPA YAML in the upstream layout (the committed torch and pyyaml advisories)."""
    with _store(tmp_path) as store:
        report = import_path(store, pypa_subset)  # the repository root: vulns/<pkg>/*.yaml found recursively
        assert report.imported == len(list(pypa_subset.glob("vulns/*/*.yaml"))) == 5 and not report.rejected
        assert report.by_ecosystem == {"PyPI": 5}
        adv = store.advisory("PYSEC-2018-49")
        assert adv is not None and "CVE-2017-18342" in adv.aliases
        rows = {r.advisory_id: r for r in store.affected_for("PyPI", "pyyaml")}
        assert "3.10" in rows["PYSEC-2018-49"].versions  # quoted in the YAML, kept as written


def test_the_whole_pypa_database(tmp_path: Path, shared_data: Path) -> None:
    """Every record of the whole database imports (a large corpus: shared data only, skipped without it)."""
    root = pypa_vulns(shared_data)
    with _store(tmp_path) as store:
        report = import_path(store, root.parent)
        assert report.imported > 2000 and not report.rejected


def test_yaml_scalars_stay_strings(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        "id: PYSEC-Y-1\naffected:\n- package: {name: demo, ecosystem: PyPI}\n  versions: [3.10, 1.0]\n"
        "  ranges:\n  - type: ECOSYSTEM\n    events: [{introduced: '0'}, {fixed: 3.20}]\n",
        encoding="utf-8",
    )
    with _store(tmp_path) as store:
        import_path(store, tmp_path / "a.yaml")
        (row,) = store.affected_for("PyPI", "demo")
        assert row.versions == ("3.10", "1.0")  # not the float 3.1
        assert row.ranges[0].events[1] == ("fixed", "3.20")


def test_malformed_advisory_is_reported_and_rest_imported(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "good.json").write_text(json.dumps(GOOD), encoding="utf-8")
    (src / "broken.json").write_text('{"id": "X", "affected": [', encoding="utf-8")
    (src / "noid.json").write_text(json.dumps({"affected": []}), encoding="utf-8")
    bad_event = advisory("BAD-EV", "PyPI", "demo", [{"introduced": "0", "fixed": "1"}])
    (src / "badevent.json").write_text(json.dumps(bad_event), encoding="utf-8")
    (src / "binary.yaml").write_bytes(b"\xff\xfe\x00garbage")
    with _store(tmp_path) as store:
        report = import_path(store, src)
    assert report.imported == 1
    messages = {r.path: r.message for r in report.rejected}
    assert set(messages) == {"broken.json", "noid.json", "badevent.json", "binary.yaml"}
    assert "not valid JSON" in messages["broken.json"]
    assert messages["noid.json"] == "id must be a non-empty string"
    assert "exactly one of" in messages["badevent.json"]
    assert all("\n" not in m for m in messages.values())


def test_withdrawn_advisory_removes_earlier_copy(tmp_path: Path) -> None:
    with _store(tmp_path) as store:
        (tmp_path / "a").mkdir()
        (tmp_path / "a" / "x.json").write_text(json.dumps(GOOD), encoding="utf-8")
        import_path(store, tmp_path / "a")
        assert store.advisory("PYSEC-TEST-1") is not None
        (tmp_path / "b").mkdir()
        (tmp_path / "b" / "x.json").write_text(
            json.dumps(dict(GOOD, withdrawn="2024-06-01T00:00:00Z")), encoding="utf-8"
        )
        report = import_path(store, tmp_path / "b")
        assert report.withdrawn == 1
        assert store.advisory("PYSEC-TEST-1") is None and store.affected_for("PyPI", "demo") == []


def test_list_and_query_answer_files(tmp_path: Path) -> None:
    (tmp_path / "list.json").write_text(json.dumps([GOOD, dict(GOOD, id="PYSEC-TEST-2")]), encoding="utf-8")
    (tmp_path / "query.json").write_text(json.dumps({"vulns": [dict(GOOD, id="PYSEC-TEST-3")]}), encoding="utf-8")
    with _store(tmp_path / "db") as store:
        assert import_path(store, tmp_path / "list.json").imported == 2
        assert import_path(store, tmp_path / "query.json").imported == 1


def test_yaml_alias_bomb_rejected(tmp_path: Path) -> None:
    lines = ["id: BOMB", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]")
    (tmp_path / "bomb.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with _store(tmp_path) as store:
        report = import_path(store, tmp_path / "bomb.yaml")
    assert report.imported == 0
    assert "nodes" in report.rejected[0].message


def test_zip_bomb_member_rejected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importer, "MAX_FILE_BYTES", 1024 * 1024)
    archive = tmp_path / "all.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("huge.json", b" " * (8 * 1024 * 1024))  # compresses to a few KB
        zf.writestr("ok.json", json.dumps(GOOD))
    with _store(tmp_path) as store:
        report = import_path(store, archive)
    assert report.imported == 1
    assert [r.path for r in report.rejected] == ["huge.json"]


def test_missing_and_wrong_paths(tmp_path: Path) -> None:
    with _store(tmp_path) as store:
        with pytest.raises(InputError, match="no such file"):
            import_path(store, tmp_path / "absent")
        (tmp_path / "notes.txt").write_text("hello", encoding="utf-8")
        with pytest.raises(InputError, match="expected an OSV"):
            import_path(store, tmp_path / "notes.txt")


def test_symlink_outside_root_skipped(tmp_path: Path) -> None:
    outside = tmp_path / "outside.json"
    outside.write_text(json.dumps(GOOD), encoding="utf-8")
    src = tmp_path / "src"
    src.mkdir()
    (src / "link.json").symlink_to(outside)
    with _store(tmp_path) as store:
        report = import_path(store, src)
    assert report.imported == 0 and "outside" in report.rejected[0].message


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(data=st.binary(max_size=2048), suffix=st.sampled_from([".json", ".yaml"]))
def test_random_bytes_never_crash(tmp_path: Path, data: bytes, suffix: str) -> None:
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(data)
    with VulnStore(tmp_path / "fuzz.sqlite", create=True) as store:
        report = import_path(store, path)
    assert report.imported + len(report.rejected) + report.withdrawn >= 0
    for r in report.rejected:
        assert r.message and "\n" not in r.message


_OSV_LIKE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "id",
                    "affected",
                    "package",
                    "ranges",
                    "events",
                    "versions",
                    "name",
                    "ecosystem",
                    "introduced",
                    "fixed",
                    "type",
                    "severity",
                    "score",
                ]
            ),
            inner,
            max_size=5,
        )
    ),
    max_leaves=30,
)


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(doc=_OSV_LIKE)
def test_random_osv_shapes_never_crash(tmp_path: Path, doc: object) -> None:
    path = tmp_path / "shape.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with VulnStore(tmp_path / "shape.sqlite", create=True) as store:
        import_path(store, path)


def test_a_title_from_details_is_whole() -> None:
    """No `summary`: the first paragraph of `details` is the title, whole (it used to be cut at 300
    characters, mid-word); displays shorten it themselves at a word boundary."""
    from shareguard.vuln.osv import parse_advisory

    first = " ".join(f"word{i}" for i in range(120))
    doc = {"id": "PYSEC-0000-1", "modified": "2024-01-01T00:00:00Z", "details": f"{first}\n\nSecond paragraph."}
    advisory = parse_advisory(doc)
    assert advisory.summary == first
