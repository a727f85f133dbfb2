"""`shareguard db update|status` through the real CLI (typer's runner), offline."""

from __future__ import annotations

import functools
import http.server
import json
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shareguard.cli.main import build_app

runner = CliRunner()


def _run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(build_app(), list(args))
    return result.exit_code, result.stdout, result.stderr


def _advisory(adv_id: str, name: str = "demo") -> dict[str, object]:
    return {
        "id": adv_id,
        "modified": "2024-05-01T00:00:00Z",
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": name},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0"}]}],
            }
        ],
    }


def test_update_from_pypa_directory_then_status(pypa_subset: Path) -> None:
    """Real PyPA advisories in the upstream layout (the committed torch and pyyaml ones)."""
    src = pypa_subset
    code, out, _err = _run("db", "update", "--from", str(src))
    assert code == 0, _err
    assert "imported" in out and "PyPI" in out
    code, out, _err = _run("db", "status", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["exists"] and doc["advisories"] >= 5 and doc["stale"] is False
    assert [i["advisory_count"] for i in doc["imports"] if i["source"] == str(src.resolve())] == [5]
    code, out, _ = _run("db", "status")
    assert code == 0 and "Advisories:" in out and "PyPI" in out


def test_status_without_database_names_the_snapshot() -> None:
    code, out, err = _run("db", "status")
    assert code == 0
    assert "bundled snapshot" in out and "2024-10-10" in out
    assert "warning" in err


def test_malformed_advisories_warn_and_exit_3(tmp_path: Path) -> None:
    (tmp_path / "good.json").write_text(json.dumps(_advisory("OK-1")), encoding="utf-8")
    (tmp_path / "bad.json").write_text("{oops", encoding="utf-8")
    (tmp_path / "worse.yaml").write_text("id: [unclosed", encoding="utf-8")
    code, out, err = _run("db", "update", "--from", str(tmp_path))
    assert code == 3
    assert "imported 1 advisories" in out
    lines = [line for line in err.splitlines() if line.startswith("warning: ")]
    assert any(line.startswith("warning: bad.json: not valid JSON") for line in lines)
    assert any(line.startswith("warning: worse.yaml: not valid YAML") for line in lines)
    # the good advisory is in the database
    code, out, _ = _run("db", "status", "--format", "json")
    assert json.loads(out)["advisories"] >= 1


def test_missing_source_is_one_line_error(tmp_path: Path) -> None:
    code, _out, err = _run("db", "update", "--from", str(tmp_path / "nope.zip"))
    assert code == 2
    assert err.strip().count("\n") == 0 and "no such file" in err


def test_empty_directory_is_an_error(tmp_path: Path) -> None:
    code, _out, err = _run("db", "update", "--from", str(tmp_path))
    assert code == 2 and "no OSV advisories found" in err


def test_unsupported_url_scheme(tmp_path: Path) -> None:
    code, _out, err = _run("db", "update", "--from", "ftp://example.invalid/all.zip")
    assert code == 2 and "only http(s)" in err


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def http_root(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    root = tmp_path / "www"
    root.mkdir()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()


def test_update_from_url(http_root: tuple[str, Path]) -> None:
    base, root = http_root
    with zipfile.ZipFile(root / "all.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(5):
            zf.writestr(f"T-{i}.json", json.dumps(_advisory(f"T-{i}")))
    code, out, err = _run("db", "update", "--from", f"{base}/all.zip")
    assert code == 0, err
    assert "imported 5 advisories (PyPI: 5)" in out
    code, _out, err = _run("db", "update", "--from", f"{base}/missing.zip")
    assert code == 2 and "HTTP 404" in err
    (root / "page.zip").write_text("<html>captive portal</html>", encoding="utf-8")
    code, _out, err = _run("db", "update", "--from", f"{base}/page.zip")
    assert code == 2 and "not a zip archive" in err
    from shareguard.core.settings import Settings

    db_dir = Settings.from_env().cache_dir / "db"
    assert db_dir.is_dir() and not list(db_dir.glob(".osv-*"))  # no temporary download left behind


def test_bad_status_format() -> None:
    code, _out, err = _run("db", "status", "--format", "xml")
    assert code == 2 and "not available" in err


def test_corrupt_database(tmp_path: Path) -> None:
    from shareguard.core.settings import Settings
    from shareguard.vuln.database import default_db_path

    path = default_db_path(Settings.from_env())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"this is not sqlite" * 100)
    code, _out, err = _run("db", "status")
    assert code == 2 and "not a shareguard vulnerability database" in err and err.strip().count("\n") == 0
    (tmp_path / "a.json").write_text(json.dumps(_advisory("OK-2")), encoding="utf-8")
    code, out, err = _run("db", "update", "--from", str(tmp_path / "a.json"))
    assert code == 0 and "rebuilding it" in err and "imported 1 advisories" in out


def test_unwritable_cache_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("a file, not a directory", encoding="utf-8")
    monkeypatch.setenv("SHAREGUARD_CACHE_DIR", str(blocker))
    (tmp_path / "a.json").write_text(json.dumps(_advisory("OK-3")), encoding="utf-8")
    code, _out, err = _run("db", "update", "--from", str(tmp_path / "a.json"))
    assert code == 2 and "cannot write the vulnerability database" in err and err.strip().count("\n") == 0
