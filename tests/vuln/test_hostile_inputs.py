"""Hostile vulnerability inputs: a VEX file or an OSV advisory nested 100k deep or holding a 5,000-digit
number, a FIFO in an imported directory. A `--vex` file is a user error (one line, exit 2); a bad advisory
is skipped with a warning and the rest of `db update` goes on."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from tests.vuln.osv_fixtures import advisory
from typer.testing import CliRunner

from core.test_waivers_hostile import finishes
from shareguard.cli.main import build_app
from shareguard.core.errors import InputError
from shareguard.vuln.importer import ImportReport, import_path
from shareguard.vuln.store import VulnStore
from shareguard.vuln.vex import load_vex

GOOD = advisory("PYSEC-TEST-1", "PyPI", "demo", [{"introduced": "0"}, {"fixed": "1.0"}])
DEEP = "[" * 100_000 + "]" * 100_000
HUGE = "9" * 5000


@pytest.mark.parametrize(
    "text",
    [
        '{"@context": "https://openvex.dev/ns/v0.2.0", "statements": ' + DEEP + "}",
        '{"@context": "https://openvex.dev/ns/v0.2.0", "version": ' + HUGE + ', "statements": []}',
    ],
    ids=["deep", "huge-int"],
)
def test_malformed_vex_is_one_line_and_exit_2(tmp_path: Path, text: str) -> None:
    vex = tmp_path / "vex.json"
    vex.write_text(text)
    with pytest.raises(InputError, match="VEX file is not valid JSON") as err:
        load_vex(vex)
    assert len(err.value.one_line()) < 300
    res = CliRunner().invoke(build_app(), ["image", "--input", str(tmp_path / "none.tar"), "--vex", str(vex)])
    assert res.exit_code == 2, res.output
    assert res.stderr.count("\n") == 1 and "vex.json" in res.stderr and "Traceback" not in res.output


def test_fifo_vex_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "vex.json"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="FIFO"):
        finishes(lambda: load_vex(fifo))


def test_bad_advisories_are_skipped_and_the_rest_imported(tmp_path: Path) -> None:
    src = tmp_path / "advisories"
    (src / "sub").mkdir(parents=True)
    (src / "good.json").write_text(json.dumps(GOOD))
    (src / "huge-int.json").write_text(json.dumps(dict(GOOD, id="PYSEC-TEST-2"))[:-1] + ', "n": ' + HUGE + "}")
    (src / "deep.json").write_text('{"id": "PYSEC-TEST-3", "x": ' + DEEP + "}")
    os.mkfifo(src / "sub" / "fifo.json")  # a plain open() blocks for ever

    def run() -> ImportReport:
        with VulnStore(tmp_path / "db.sqlite", create=True) as store:  # sqlite: opened in the thread using it
            return import_path(store, src)

    report = finishes(run)
    assert report.imported == 1
    rejected = {r.path: r.message for r in report.rejected}
    assert "number too large" in rejected["huge-int.json"]
    assert "nested deeper" in rejected["deep.json"]
    assert "FIFO" in rejected["sub/fifo.json"]


def test_db_update_goes_on_past_a_huge_int_advisory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHAREGUARD_CACHE_DIR", str(tmp_path / "cache"))
    src = tmp_path / "advisories"
    src.mkdir()
    (src / "a-good.json").write_text(json.dumps(GOOD))
    (src / "b-huge.json").write_text('{"id": "PYSEC-TEST-9", "modified": ' + HUGE + "}")
    (src / "c-good.json").write_text(json.dumps(dict(GOOD, id="PYSEC-TEST-4")))
    res = CliRunner().invoke(build_app(), ["db", "update", "--from", str(src)])
    assert res.exit_code == 3, res.output
    assert "imported 2 advisories" in res.stdout
    assert "b-huge.json" in res.stderr and "Traceback" not in res.output
