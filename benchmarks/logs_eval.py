"""Log monitoring speed: generated CloudTrail (.json.gz, CloudTrail's S3 delivery format) evaluated with every
SigmaHQ CloudTrail rule plus the built-in pack, side by side with a pySigma + SQLite evaluation (Zircolite's
method: pySigma's sqlite backend converts the rules to SQL, events are flattened into a table, every rule is
a query).

    python benchmarks/logs_eval.py --events 1000000            # generate (once) and measure
    python benchmarks/logs_eval.py --events 200000 --no-peer

Events are shaped from the real OTRF CloudTrail dataset in ../shared/data (skipped without it: a built-in
mix of common management and data events is used), with fresh times, ids, principals and addresses, and
about 1 in 2,000 an event some rule alerts on. Figures: CPU seconds of this process (per core), wall time,
and the peak RSS of a `shareguard logs` CLI run (memory flat in the number of events).
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
from logs_corpus import OTRF_CLOUDTRAIL, SIGMA_RULES, detection_rules, otrf_cloudtrail  # noqa: E402

WORK = ROOT / "benchmarks" / "work" / "logs"
SHARED = Path(os.environ.get("SHAREGUARD_SHARED_DATA", ROOT.parent / "shared" / "data"))
SIGMA_FOLDER = "cloud/aws/cloudtrail"
SIGMA = SHARED / SIGMA_RULES / SIGMA_FOLDER
OTRF = SHARED / OTRF_CLOUDTRAIL
PER_FILE = 10_000

FALLBACK = [
    ("ec2.amazonaws.com", "DescribeInstances"),
    ("s3.amazonaws.com", "GetObject"),
    ("s3.amazonaws.com", "PutObject"),
    ("sts.amazonaws.com", "AssumeRole"),
    ("iam.amazonaws.com", "ListRoles"),
    ("sagemaker.amazonaws.com", "DescribeTrainingJob"),
    ("kms.amazonaws.com", "Decrypt"),
    ("logs.amazonaws.com", "CreateLogStream"),
]
ALERTING = [
    ("cloudtrail.amazonaws.com", "StopLogging", {"name": "trail"}),
    ("iam.amazonaws.com", "CreateAccessKey", {"userName": "build"}),
    (
        "s3.amazonaws.com",
        "PutBucketPolicy",
        {"bucketName": "b", "bucketPolicy": {"Statement": [{"Effect": "Allow", "Principal": "*"}]}},
    ),
    (
        "sagemaker.amazonaws.com",
        "CreateNotebookInstance",
        {"notebookInstanceName": "n", "rootAccess": "Enabled", "directInternetAccess": "Enabled"},
    ),
]


def templates() -> list[dict[str, Any]]:
    if OTRF.is_file():
        out = [json.loads(x) for x in otrf_cloudtrail(SHARED).splitlines() if x.strip()]
        for e in out:
            e.pop("@version", None)
            e.pop("@timestamp", None)
        return out
    base = {
        "eventVersion": "1.08",
        "awsRegion": "us-east-1",
        "eventType": "AwsApiCall",
        "readOnly": True,
        "managementEvent": True,
    }
    return [dict(base, eventSource=s, eventName=n, requestParameters={"maxResults": 100}) for s, n in FALLBACK]


def generate(n: int, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    files = sorted(folder.glob("*.json.gz"))
    if sum(1 for _ in files) * PER_FILE >= n:
        return files[: (n + PER_FILE - 1) // PER_FILE]
    for f in files:
        f.unlink()
    rng = random.Random(18)
    tpl = templates()
    users = [f"arn:aws:iam::123456789012:user/u{i}" for i in range(200)]
    t0 = 1_740_000_000
    out = []
    for fi in range(0, n, PER_FILE):
        records = []
        for i in range(fi, min(n, fi + PER_FILE)):
            if rng.random() < 0.0005:
                src, name, params = rng.choice(ALERTING)
                e = {
                    "eventVersion": "1.09",
                    "eventSource": src,
                    "eventName": name,
                    "requestParameters": params,
                    "awsRegion": "eu-west-1",
                }
            else:
                e = dict(rng.choice(tpl))
            user = rng.choice(users)
            e["userIdentity"] = {
                "type": "IAMUser",
                "arn": user,
                "accountId": "123456789012",
                "userName": user.rsplit("/", 1)[1],
                "accessKeyId": "AKIAIOSFODNN7EXAMPLE",
            }
            e["eventTime"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t0 + i // 10))
            e["eventID"] = f"{rng.getrandbits(64):016x}-{i}"
            e["sourceIPAddress"] = f"198.51.{rng.randrange(256)}.{rng.randrange(256)}"
            records.append(e)
        path = folder / f"123456789012_CloudTrail_us-east-1_{fi // PER_FILE:05d}.json.gz"
        path.write_bytes(gzip.compress(json.dumps({"Records": records}).encode(), 6))
        out.append(path)
    return out


def measure_shareguard(files: list[Path]) -> dict[str, float]:
    from shareguard.logs.detect import Detector

    rules = detection_rules(SHARED, SIGMA_FOLDER)  # no SigmaHQ rules without ../shared: the built-in pack only
    cpu0, wall0 = time.process_time(), time.perf_counter()
    detector = Detector(rules)
    for f in files:
        with f.open("rb") as fh:
            detector.feed(str(f), fh)
    result = detector.finish()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    events = sum(result.events.values())
    return {
        "events": events,
        "rules": len(rules.rules) + len(rules.correlations),
        "cpu": cpu,
        "wall": wall,
        "alerts": len(result.alerts),
        "incidents": len(result.incidents),
    }


def _flatten(obj: Any, prefix: str, out: dict[str, Any]) -> None:
    """Zircolite's flattening: nested keys joined with dots; lists kept as JSON text."""
    for k, v in obj.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            _flatten(v, key + ".", out)
        elif isinstance(v, list):
            out[key] = json.dumps(v)
        else:
            out[key] = v


def measure_pysigma_sqlite(files: list[Path]) -> dict[str, float] | None:
    try:
        from sigma.backends.sqlite import sqliteBackend
        from sigma.collection import SigmaCollection
    except ImportError:
        return None
    import sqlite3

    collection = SigmaCollection.load_ruleset([str(p) for p in sorted(SIGMA.glob("*.yml"))], collect_errors=True)
    backend = sqliteBackend()
    queries = []
    for rule in collection.rules:
        try:
            queries.extend(backend.convert_rule(rule))
        except Exception:
            continue
    cpu0, wall0 = time.process_time(), time.perf_counter()
    hits = events = 0
    for f in files:  # one table per file, as Zircolite processes one log file at a time
        with gzip.open(f, "rb") as fh:
            records = json.load(fh)["Records"]
        rows = []
        columns: dict[str, None] = {}
        for e in records:
            flat: dict[str, Any] = {}
            _flatten(e, "", flat)
            rows.append(flat)
            columns.update(dict.fromkeys(flat))
        db = sqlite3.connect(":memory:")
        cols = list(columns)
        db.execute("CREATE TABLE logs (" + ", ".join(f'"{c}" TEXT COLLATE NOCASE' for c in cols) + ")")
        db.executemany(
            "INSERT INTO logs VALUES (" + ",".join("?" * len(cols)) + ")",
            [[(str(r[c]) if r.get(c) is not None else None) for c in cols] for r in rows],
        )
        for q in queries:
            try:
                hits += len(db.execute(q.replace("<TABLE_NAME>", "logs")).fetchall())
            except sqlite3.OperationalError:
                pass  # a column no event of this file has
        db.close()
        events += len(records)
    return {
        "events": events,
        "rules": len(queries),
        "cpu": time.process_time() - cpu0,
        "wall": time.perf_counter() - wall0,
        "alerts": hits,
    }


def cli_rss(folder: Path) -> float:
    out = WORK / "report.json"
    cmd = [
        sys.executable,
        "-c",
        "from shareguard.cli.main import main; main()",
        "logs",
        str(folder),
        "--format",
        "json",
        "-q",
        "-o",
        str(out),
    ]
    if SIGMA.is_dir():
        cmd += ["--rules", str(SIGMA)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run(cmd, check=False, env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    return max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--no-peer", action="store_true")
    ap.add_argument("--rss", action="store_true", help="also run the CLI once and report its peak RSS")
    args = ap.parse_args()
    folder = WORK / f"ct-{args.events}"
    t = time.perf_counter()
    files = generate(args.events, folder)
    print(
        f"input: {args.events:,} events in {len(files)} .json.gz files ({sum(f.stat().st_size for f in files) / 1e6:.1f} MB) ready in {time.perf_counter() - t:.1f}s"
    )
    sg = measure_shareguard(files)
    print(
        f"shareguard: {sg['events']:,.0f} events, {sg['rules']:.0f} rules, {sg['cpu']:.2f} CPU-s, {sg['wall']:.2f} s wall -> {sg['events'] / sg['cpu']:,.0f} events per CPU-s; {sg['alerts']:.0f} alerts, {sg['incidents']:.0f} incidents"
    )
    if not args.no_peer:
        peer = measure_pysigma_sqlite(files)
        if peer is None:
            print("pySigma + SQLite: pysigma-backend-sqlite not installed (pip install pysigma-backend-sqlite)")
        else:
            print(
                f"pySigma + SQLite (Zircolite's method): {peer['events']:,.0f} events, {peer['rules']:.0f} queries, {peer['cpu']:.2f} CPU-s -> {peer['events'] / peer['cpu']:,.0f} events per CPU-s; {peer['alerts']:.0f} rows matched"
            )
            print(
                f"ratio: shareguard is {(sg['events'] / sg['cpu']) / (peer['events'] / peer['cpu']):.1f}x faster per core"
            )
    if args.rss:
        print(f"shareguard logs CLI peak RSS: {cli_rss(folder):.0f} MiB")


if __name__ == "__main__":
    main()
