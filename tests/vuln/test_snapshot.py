"""The bundled snapshot: small, dated, attributed, and rebuildable from the real PyPA data."""

from __future__ import annotations

import json
import zipfile
from importlib import resources
from pathlib import Path

from shareguard.vuln.snapshot import SNAPSHOT_META, SNAPSHOT_ZIP, build_snapshot, install_snapshot, snapshot_info
from shareguard.vuln.store import VulnStore


def test_snapshot_small_dated_attributed() -> None:
    data = resources.files("shareguard.vuln.data")
    size = len(data.joinpath(SNAPSHOT_ZIP).read_bytes())
    assert size < 2 * 1024 * 1024
    meta = json.loads(data.joinpath(SNAPSHOT_META).read_text(encoding="utf-8"))
    assert meta["license"] == "CC-BY-4.0" and "Python Packaging Authority" in meta["attribution"]
    info = snapshot_info()
    assert info.date.startswith("20") and len(info.commit) == 40
    with resources.as_file(data.joinpath(SNAPSHOT_ZIP)) as path, zipfile.ZipFile(path) as zf:
        assert "Attribution 4.0 International" in zf.read("LICENSE").decode()
        assert any(n.startswith("torch/") for n in zf.namelist())
        # shareguard's own records (framework versions whose model loading runs code) ship in it too
        own = {n for n in zf.namelist() if n.startswith("shareguard/")}
        assert "shareguard/GHSA-53q9-r3pm-6pq6.json" in own and "shareguard/SHAREGUARD-CVE-2023-6730.json" in own
    assert meta["advisories"] == meta["pypa_advisories"] + len(meta["shareguard_advisories"])


def test_install_snapshot(tmp_path: Path) -> None:
    info = install_snapshot(tmp_path / "db" / "vuln.sqlite")
    with VulnStore(tmp_path / "db" / "vuln.sqlite") as store:
        (src,) = store.sources()
        assert src.source.startswith("bundled snapshot") and "CC-BY-4.0" in src.source
        assert src.imported_at.isoformat() == info.date
        assert store.counts()[0] == src.advisory_count > 500


def test_build_snapshot_from_real_data(tmp_path: Path, pypa_subset: Path) -> None:
    """From real PyPA data in the upstream layout (the committed torch and pyyaml advisories)."""
    info = build_snapshot(pypa_subset, tmp_path, ("torch", "pyyaml"))
    meta = json.loads((tmp_path / SNAPSHOT_META).read_text(encoding="utf-8"))
    assert meta["pypa_advisories"] == 5  # the real PyPA records of torch and pyyaml
    assert meta["shareguard_advisories"] == ["GHSA-53q9-r3pm-6pq6", "GHSA-63cw-57p8-fm3p"]  # torch's authored ones
    assert info.advisories == 7
    assert (tmp_path / SNAPSHOT_META).is_file()


def test_authored_records_are_valid_osv_with_ranges_and_cve_aliases() -> None:
    from shareguard.vuln.osv import load_document, parse_advisory
    from shareguard.vuln.snapshot import AUTHORED_DIR

    files = sorted(AUTHORED_DIR.glob("*.json"))
    assert len(files) == 7
    for f in files:
        doc = load_document(f.read_bytes(), f.name)
        adv = parse_advisory(doc)
        assert adv.id == f.stem and adv.id.startswith(("GHSA-", "SHAREGUARD-CVE-"))
        assert any(a.startswith("CVE-") for a in adv.aliases) and adv.summary and adv.modified
        if adv.id.startswith("SHAREGUARD-"):
            assert adv.id == f"SHAREGUARD-{adv.aliases[0]}"
        for a in adv.affected:
            assert a.ecosystem == "PyPI" and a.name in ("torch", "transformers", "keras")
            assert [r.type for r in a.ranges] == ["ECOSYSTEM"]
            assert a.ranges[0].events[0][0] == "introduced" and a.ranges[0].events[-1][0] == "fixed"
        assert adv.rating.source.value != "default"


def test_a_database_seeded_from_an_older_snapshot_gets_the_new_records(tmp_path: Path) -> None:
    from shareguard.vuln.database import refresh_snapshot
    from shareguard.vuln.snapshot import BUNDLED_META_KEY

    db = tmp_path / "vuln.sqlite"
    install_snapshot(db)
    with VulnStore(db) as store:
        assert not refresh_snapshot(store)  # current: nothing to do
        with store.transaction() as conn:  # as a database seeded before the authored records shipped
            conn.execute("DELETE FROM affected WHERE advisory_id LIKE 'GHSA-%' OR advisory_id LIKE 'SHAREGUARD-%'")
            conn.execute("DELETE FROM advisories WHERE id LIKE 'GHSA-%' OR id LIKE 'SHAREGUARD-%'")
            # a newer copy of a PyPA record, as a `db update` would leave it
            conn.execute(
                "UPDATE advisories SET modified='2099-01-01T00:00:00Z', summary='newer' WHERE id='PYSEC-2022-43015'"
            )
            store.set_meta(conn, BUNDLED_META_KEY, "bundled snapshot: an older one")
        assert store.advisory("GHSA-53q9-r3pm-6pq6") is None
        assert refresh_snapshot(store)
        assert store.advisory("GHSA-53q9-r3pm-6pq6") is not None
        newer = store.advisory("PYSEC-2022-43015")
        assert newer is not None and newer.summary == "newer"  # never undone by the older bundled copy
        assert not refresh_snapshot(store)  # recorded: the next scan does not import again


def test_a_database_never_seeded_from_the_snapshot_is_left_alone(tmp_path: Path) -> None:
    from shareguard.vuln.database import refresh_snapshot

    with VulnStore(tmp_path / "v.sqlite", create=True) as store:
        assert not refresh_snapshot(store)
        assert store.counts() == (0, 0)
