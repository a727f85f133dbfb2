"""The Beam pipeline runs for real on the DirectRunner (worker processes) and gives the plain run's findings."""

from __future__ import annotations

import json
import random
import string
from pathlib import Path

import pytest
from tests.sensitive.planted import planted, planted_files
from tests.sensitive.reports import finding_keys
from typer.testing import CliRunner

from shareguard.cli.main import build_app
from shareguard.sensitive.split import plan

pytest.importorskip("apache_beam")


def _controls(doc: dict) -> dict[str, str]:
    return {c["id"]: c["status"] for c in doc["controls"]}


def test_the_direct_runner_gives_the_plain_runs_findings(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (ws / "sub").mkdir(parents=True)
    for name, text in planted_files(planted()).items():
        (ws / name).write_text(text, encoding="utf-8")
        (ws / "sub" / name).write_text(text.replace("\n", "\n\n"), encoding="utf-8")
    (ws / "clean.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    env = {"SHAREGUARD_CACHE_DIR": str(tmp_path / "cache")}
    docs = []
    for extra in ([], ["--runner", "direct", "--workers", "2"]):
        out = tmp_path / f"r{len(docs)}.json"
        res = CliRunner(env=env).invoke(
            build_app(), ["data", str(ws), "--format", "json", "-o", str(out), "-q", *extra]
        )
        assert res.exit_code == 0, res.stderr
        docs.append(json.loads(out.read_text(encoding="utf-8")))
    plain, beam = docs
    assert finding_keys(beam) == finding_keys(plain) and len(plain["findings"]) >= 20
    assert _controls(beam) == _controls(plain)
    assert beam["metadata"]["sensitive_summary"] == plain["metadata"]["sensitive_summary"]
    assert not list((tmp_path / "cache").glob("beam-*"))  # the pipeline's files are removed


def test_runner_usage_errors() -> None:
    res = CliRunner().invoke(build_app(), ["data", ".", "--runner", "nope"])
    assert res.exit_code == 2 and "unknown runner" in res.stderr


def _filler(size: int, rng: random.Random) -> bytearray:
    words = ["alpha", "beta", "gamma", "delta", "node", "request", "served", "in", "ms", "ok", "cache", "miss"]
    out = bytearray()
    while len(out) < size:
        out += (" ".join(rng.choice(words) for _ in range(12)) + f" {rng.randrange(10_000)}\n").encode()
    del out[size:]
    out[-1:] = b"\n"
    return out


def _pem(rng: random.Random) -> str:
    b64 = string.ascii_letters + string.digits + "+/"
    body = "\n".join("".join(rng.choice(b64) for _ in range(64)) for _ in range(6))
    return f"-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----"


def _plant(buf: bytearray, at: int, text: str) -> None:
    raw = f"\n{text}\n".encode()
    buf[at : at + len(raw)] = raw


def test_a_large_object_split_into_ranges_gives_the_plain_runs_findings(tmp_path: Path) -> None:
    """Objects cut into several byte ranges: values straddling a range's edge (on one line, and a private
    key over several lines), a keyword before the edge with its value after it, CSV header context in later
    ranges, the per-detector cap across ranges, and a budget cutting the last range: the plain run's
    findings, each exactly once."""
    rng = random.Random(5)
    p = planted()
    ws = tmp_path / "ws"
    ws.mkdir()
    budget = 12 * 1024 * 1024
    log = _filler(13 * 1024 * 1024, rng)
    rows = ["id,name,date_of_birth,note"]
    total = 0
    while total < 10 * 1024 * 1024:
        rows.append(f"{len(rows)},user {rng.randrange(10**6)},,{' '.join(['lorem'] * rng.randrange(3, 12))}")
        total += len(rows[-1]) + 1
    csv = bytearray("\n".join(rows).encode() + b"\n")
    objects = [("big.csv", "big.csv", len(csv)), ("big.log", "big.log", len(log)), ("small.txt", "small.txt", 20)]
    parts = plan(objects, lambda key, _where: "text", workers=2, max_bytes=budget)
    edges = {key: [q.start for q in parts if q.key == key and q.index > 0] for key, _, _ in objects}
    assert len(edges["big.log"]) >= 2 and len(edges["big.csv"]) >= 1
    for n, e in enumerate(edges["big.log"]):
        _plant(log, e - 400, f"mail n{n}{p.email} then more words")
        _plant(log, e - 3000, _pem(rng))  # a key of several lines, before the edge
        if n % 2:
            _plant(log, e - 180, _pem(rng))  # a key of several lines, across the edge
        else:
            _plant(log, e - 22, f"contact e{n}{p.email} here")  # the value crosses e
        _plant(log, e + 900, f"aws_secret_access_key =\n{p.aws_secret}")  # keyword line, value next line
        _plant(log, e + 3000, f"url {p.password_url} card {p.card}")
        for k in range(12):  # more e-mails than the cap (20) in all, fewer in each range (distinct masks)
            _plant(log, e + 20_000 + 4000 * k, f"to c{n}{k:02d}{p.email}")
    _plant(log, budget + 1000, f"past the budget {p.github}")
    for e in edges["big.csv"]:
        line_start = csv.rfind(b"\n", 0, e + 2000) + 1
        row = f"{len(rows)},late user,1984-02-{10 + e % 9},dob of a customer"
        csv[line_start : line_start + len(row)] = row.encode()
        nxt = csv.find(b"\n", line_start + len(row))
        csv[line_start + len(row) : nxt] = b" " * (nxt - line_start - len(row))
    (ws / "big.log").write_bytes(bytes(log))
    (ws / "big.csv").write_bytes(bytes(csv))
    (ws / "small.txt").write_text(f"key {p.stripe}\n", encoding="utf-8")
    env = {"SHAREGUARD_CACHE_DIR": str(tmp_path / "cache")}
    docs = []
    for extra in ([], ["--runner", "direct", "--workers", "2"]):
        out = tmp_path / f"r{len(docs)}.json"
        args = ["data", str(ws), "--format", "json", "-o", str(out), "-q", "--max-bytes-per-object", str(budget)]
        res = CliRunner(env=env).invoke(build_app(), [*args, *extra])
        assert res.exit_code in (0, 3), res.stderr
        docs.append(json.loads(out.read_text(encoding="utf-8")))
    plain, beam = docs
    assert finding_keys(beam) == finding_keys(plain)
    assert _controls(beam) == _controls(plain)
    cut = f"only the first {budget} bytes were scanned"
    assert cut in json.dumps(plain) and json.dumps(beam).count(cut) == json.dumps(plain).count(cut)
    assert beam["metadata"]["sensitive_summary"] == plain["metadata"]["sensitive_summary"]
    found = finding_keys(beam)
    summary = beam["metadata"]["sensitive_summary"]["big.log"]
    n_edges = len(edges["big.log"])
    assert summary["private_key"] == n_edges + n_edges // 2  # each key once, the ones across an edge too
    assert summary["email"] == 13 * n_edges + (n_edges + 1) // 2 and summary["aws_secret_access_key"] == n_edges
    assert sum(f[2] == "email" for f in found if f[1] == "big.log") == 20  # the cap, across ranges
    assert "github_token" not in summary  # past the budget: not read
    late = [f for f in found if f[1] == "big.csv" and f[2] == "date_of_birth"]
    assert len(late) == len(edges["big.csv"])  # the header's column name is context in every range


def test_records_are_read_as_they_complete(tmp_path: Path) -> None:
    """The driver reads the workers' complete record files while the pipeline still runs: it returns as soon
    as every part has a record, never reads a file still being written, and once the pipeline has returned
    stops waiting for parts that have none (the merge then reports them)."""
    import threading

    from shareguard.sensitive.beam import _collect

    prefix = str(tmp_path / "parts")
    (tmp_path / "parts-a.jsonl").write_text(json.dumps({"key": "a", "part": 0}) + "\n", encoding="utf-8")
    (tmp_path / "parts-b.tmp").write_text('{"key": "b", "part"', encoding="utf-8")  # still being written
    running = threading.Event()
    assert _collect(prefix, {("a", 0)}, running) == [{"key": "a", "part": 0}]  # complete: no wait for the end
    timer = threading.Timer(0.3, running.set)  # the pipeline returns without a record for b
    timer.start()
    assert _collect(prefix, {("a", 0), ("b", 0)}, running) == [{"key": "a", "part": 0}]
    timer.join()
    (tmp_path / "parts-b.tmp").rename(tmp_path / "parts-b.jsonl")  # renamed when whole
    (tmp_path / "parts-b.jsonl").write_text(json.dumps({"key": "b", "part": 0}) + "\n", encoding="utf-8")
    assert len(_collect(prefix, {("a", 0), ("b", 0)}, threading.Event())) == 2
