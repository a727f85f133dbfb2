"""No report, log line or error message carries an unmasked planted secret: every output of real runs
(each format, to a file and to stdout, stderr, log records, broken inputs among the planted ones) is grepped
for every planted value."""

from __future__ import annotations

import gzip
import logging
from pathlib import Path

import pytest
from tests.sensitive.planted import planted, planted_files
from typer.testing import CliRunner

from shareguard.cli.main import build_app

P = planted()


def _workspace(root: Path) -> None:
    for name, text in planted_files(P).items():
        (root / name).write_text(text, encoding="utf-8")
    # Broken inputs next to the secrets: their error messages must not quote content.
    (root / "half.csv.gz").write_bytes(gzip.compress(f"email\n{P.email}\n".encode() * 50)[:-30])
    (root / "bad.jsonl").write_text('{"token": "' + P.github + '", oops\n', encoding="utf-8")
    (root / "bad.parquet").write_bytes(b"PAR1" + P.aws_secret.encode() + b"PAR1")
    (root / "main.tf").write_text(
        'resource "aws_s3_bucket" "b" {\n  bucket = "x"\n  tags = { owner = "'
        + P.email
        + '", url = "'
        + P.password_url
        + '" }\n}\n',
        encoding="utf-8",
    )


@pytest.mark.parametrize("command", ["data", "audit"])
def test_no_output_carries_a_planted_secret(command: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    _workspace(ws)
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    for fmt in ("table", "json", "sarif", "html"):
        out = tmp_path / f"r.{fmt}"
        res = CliRunner().invoke(build_app(), [command, str(ws), "--format", fmt, "-o", str(out)])
        assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
        texts += [res.stdout, res.stderr, out.read_text(encoding="utf-8")]
        res = CliRunner().invoke(build_app(), [command, str(ws), "--format", fmt])
        texts += [res.stdout, res.stderr]
    texts += [r.getMessage() for r in caplog.records]
    blob = "\n".join(texts)
    assert "DATA-00" in blob  # the runs did find the planted data
    leaked = [s for s in P.secrets() if s in blob]
    assert not leaked, f"unmasked in outputs: {[s[:4] + '…' for s in leaked]}"
