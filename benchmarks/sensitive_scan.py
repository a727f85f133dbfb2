"""Sensitive-data benchmark: shareguard vs detect-secrets vs Presidio (regex recognizers), same corpus.

    python benchmarks/sensitive_scan.py [--mb 200] [--rounds 3] [--peer-mb 4] [--no-peers] [--beam]
    python benchmarks/sensitive_scan.py --beam-only [--beam-mb 2000] [--beam-dir DIR] [--beam-cleanup] [--beam-probe]

1. Generates a mixed corpus (logs, CSV, JSONL, code; `--mb` MB in 5 MB files) under benchmarks/work/sensitive/
   with planted personal data, financial data and secrets, and realistic near-misses (Luhn-failing card numbers,
   bad IBAN check digits, SSNs in invalid ranges, private IPs, hashes, UUIDs, placeholder keys, code that reads
   a password). The ground truth is (file, line, category) per planted value.
2. shareguard: the library's scanner over every file in one process, `--rounds` passes (each reads and scans
   every file; the host's speed drifts by ±20 % within minutes, so each pass, their median and the best are
   printed); MB per CPU-second (one core) and precision/recall per category.
3. Peers, installed by this script into their own venv (benchmarks/work/sensitive-peers): detect-secrets
   (its default plugins, `scan_file`) and Presidio's regex recognizers (email, phone, credit card, IBAN, US SSN,
   IP; no NLP model) over the first `--peer-mb` MB of the corpus (they run at well under 1 MB/s); shareguard's
   figures on that same subset are printed beside theirs.
4. `--beam`: the Beam pipeline on the DirectRunner (multi-processing) with 1 and 2 workers (wall clock).
   `--beam-mb N` measures it on a corpus of N MB of its own (`--beam-dir`, default
   benchmarks/work/sensitive-beam-N): objects of 25 MB stitched from the standard corpus' files of one kind
   (fast: a copy, not a generation), so the standard corpus is never regenerated or deleted for it;
   `--beam-cleanup` removes it afterwards. `--beam-probe` adds Beam and the machine alone: the same
   pipeline with a pure-CPU DoFn, and the scan in 1 and 2 plain processes (no Beam).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import string
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / "work"
CORPUS = WORK / "sensitive"
PEERS = WORK / "sensitive-peers"
FILE_MB = 5

CATEGORY_OF_DETECTOR = {
    "email": "email",
    "phone": "phone",
    "phone_national": "phone",
    "credit_card": "credit_card",
    "iban": "iban",
    "us_ssn": "us_ssn",
    "ipv4_public": "ip",
    "ipv6_public": "ip",
    "aws_access_key_id": "aws_key",
    "aws_secret_access_key": "aws_key",
    "github_token": "github_token",
    "slack_token": "slack_token",
    "stripe_key": "stripe_key",
    "private_key": "private_key",
    "openssh_private_key": "private_key",
    "url_userinfo": "url_password",
    "jwt": "jwt",
}
PRESIDIO_OF = {
    "EMAIL_ADDRESS": "email",
    "PHONE_NUMBER": "phone",
    "CREDIT_CARD": "credit_card",
    "IBAN_CODE": "iban",
    "US_SSN": "us_ssn",
    "IP_ADDRESS": "ip",
}
DETECT_SECRETS_OF = {
    "AWS Access Key": "aws_key",
    "GitHub Token": "github_token",
    "Slack Token": "slack_token",
    "Stripe Access Key": "stripe_key",
    "Private Key": "private_key",
    "Basic Auth Credentials": "url_password",
    "JSON Web Token": "jwt",
}


# ---- corpus ---------------------------------------------------------------------------------------------


def _luhn_digit(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


class Gen:
    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)

    def s(self, alphabet: str, n: int) -> str:
        return "".join(self.r.choice(alphabet) for _ in range(n))

    def email(self) -> str:
        first = self.r.choice(["anna", "li", "omar", "ines", "jonas", "mei", "raj", "sofia", "tom", "yara"])
        return (
            f"{first}.{self.s(string.ascii_lowercase, 6)}@{self.r.choice(['gmail.com', 'corp.example.org', 'mail.de'])}"
        )

    def phone(self) -> str:
        return self.r.choice(["+1 202 456 ", "+44 20 7946 ", "+49 30 901820", "+33 1 40 20 "]) + self.s(
            string.digits, 4
        )

    def card(self, valid: bool = True) -> str:
        body = self.r.choice(["4", "51", "52", "37"]) + self.s(string.digits, 14 if True else 0)
        body = body[:15]
        d = _luhn_digit(body)
        if not valid:
            d = str((int(d) + 1 + self.r.randrange(8)) % 10)
        n = body + d
        return " ".join(n[i : i + 4] for i in range(0, 16, 4)) if self.r.random() < 0.3 else n

    def iban(self, valid: bool = True) -> str:
        bban = self.s(string.digits, 18)
        moved = bban + "DE00"
        check = 98 - int("".join(str(int(c, 36)) for c in moved)) % 97
        if not valid:
            check = (check + 1 + self.r.randrange(50)) % 97 + 2
        return f"DE{check:02d}{bban}"

    def ssn(self, valid: bool = True) -> str:
        area = self.r.randrange(1, 899) if valid else self.r.choice([0, 666, 900 + self.r.randrange(99)])
        if valid and area == 666:
            area = 667
        return f"{area:03d}-{self.r.randrange(1, 99):02d}-{self.r.randrange(1, 9999):04d}"

    def ip(self, public: bool = True) -> str:
        if public:
            return f"{self.r.choice([34, 52, 81, 104, 185])}.{self.r.randrange(256)}.{self.r.randrange(256)}.{self.r.randrange(1, 255)}"
        return self.r.choice(["10.0.", "192.168.", "172.16."]) + f"{self.r.randrange(256)}.{self.r.randrange(1, 255)}"

    def aws(self) -> str:
        return "AKIA" + self.s(string.ascii_uppercase + "234567", 16)

    def github(self) -> str:
        return "ghp_" + self.s(string.ascii_letters + string.digits, 36)

    def slack(self) -> str:
        return f"xoxb-{self.s(string.digits, 12)}-{self.s(string.digits, 13)}-{self.s(string.ascii_letters + string.digits, 24)}"

    def stripe(self) -> str:
        return "sk_live_" + self.s(string.ascii_letters + string.digits, 24)

    def url_pw(self) -> str:
        return f"postgres://app:{self.s(string.ascii_letters + string.digits, 14)}@db{self.r.randrange(9)}.internal:5432/main"

    def near_miss(self) -> str:
        r = self.r.random()
        if r < 0.12:
            return f"card {self.card(valid=False)}"
        if r < 0.24:
            return f"account {self.iban(valid=False)}"
        if r < 0.34:
            return f"ref {self.ssn(valid=False)}"
        if r < 0.46:
            return f"peer {self.ip(public=False)}"
        if r < 0.56:
            return f"sha {self.s('0123456789abcdef', 40)}"
        if r < 0.66:
            return f"id {self.s('0123456789abcdef', 8)}-{self.s('0123456789abcdef', 4)}-4{self.s('0123456789abcdef', 3)}-a{self.s('0123456789abcdef', 3)}-{self.s('0123456789abcdef', 12)}"
        if r < 0.74:
            return "aws_access_key_id = AKIAXXXXXXXXXXXXXXXX"
        if r < 0.82:
            return "password = os.environ['DB_PASSWORD']"
        if r < 0.90:
            return f"order {self.s(string.digits, 16)} shipped"
        return f"version {self.r.randrange(9)}.{self.r.randrange(30)}.{self.r.randrange(99)} build {self.s(string.digits, 10)}"

    def planted(self) -> tuple[str, str]:
        cat = self.r.choice(
            ["email", "phone", "credit_card", "iban", "us_ssn", "ip", "aws_key", "github_token", "slack_token",
             "stripe_key", "url_password"]
        )  # fmt: skip
        value = {
            "email": self.email,
            "phone": self.phone,
            "credit_card": self.card,
            "iban": self.iban,
            "us_ssn": self.ssn,
            "ip": self.ip,
            "aws_key": self.aws,
            "github_token": self.github,
            "slack_token": self.slack,
            "stripe_key": self.stripe,
            "url_password": self.url_pw,
        }[cat]()
        return cat, value


WORDS = [
    "the",
    "request",
    "completed",
    "user",
    "session",
    "model",
    "training",
    "epoch",
    "batch",
    "loss",
    "worker",
    "node",
    "shard",
    "queue",
    "retry",
    "cache",
]


def _filler(g: Gen) -> str:
    return " ".join(g.r.choice(WORDS) for _ in range(g.r.randrange(4, 14)))


def _line(kind: str, g: Gen, payload: str) -> str:
    ts = f"2026-11-{g.r.randrange(1, 29):02d}T{g.r.randrange(24):02d}:{g.r.randrange(60):02d}:{g.r.randrange(60):02d}Z"
    if kind == "log":
        return f"{ts} INFO [{g.s(string.ascii_lowercase, 6)}] {_filler(g)} {payload}"
    if kind == "csv":
        return f"{g.r.randrange(10**6)},{g.s(string.ascii_lowercase, 7)},{_filler(g).replace(' ', '_')},{payload}"
    if kind == "jsonl":
        return json.dumps({"ts": ts, "msg": _filler(g), "field": payload})
    return f"    value = compute({g.r.randrange(999)})  # {_filler(g)} {payload}"


def generate(mb: int, seed: int = 7) -> Path:
    CORPUS.mkdir(parents=True, exist_ok=True)
    truth_path = WORK / "sensitive-truth.jsonl"
    if truth_path.exists() and len(list(CORPUS.glob("f*"))) == mb // FILE_MB:
        return CORPUS
    for old in CORPUS.glob("f*"):
        old.unlink()
    g = Gen(seed)
    kinds = {"log": ".log", "csv": ".csv", "jsonl": ".jsonl", "code": ".py"}
    with truth_path.open("w", encoding="utf-8") as truth:
        for i in range(mb // FILE_MB):
            kind = list(kinds)[i % 4]
            name = f"f{i:04d}{kinds[kind]}"
            lines: list[str] = ["id,name,note,value"] if kind == "csv" else []
            size = 0
            while size < FILE_MB * 1024 * 1024:
                r = g.r.random()
                payload = ""
                if r < 0.005:
                    cat, value = g.planted()
                    payload = value
                    truth.write(json.dumps([name, len(lines) + 1, cat]) + "\n")
                elif r < 0.015:
                    payload = g.near_miss()
                line = _line(kind, g, payload)
                lines.append(line)
                size += len(line) + 1
            (CORPUS / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return CORPUS


def load_truth() -> set[tuple[str, int, str]]:
    with (WORK / "sensitive-truth.jsonl").open(encoding="utf-8") as fh:
        return {tuple(json.loads(line)) for line in fh}  # type: ignore[misc]


def files(limit_mb: float | None = None) -> list[Path]:
    out = sorted(CORPUS.glob("f*"))
    if limit_mb is None:
        return out
    chosen, total = [], 0
    for p in out:
        if total >= limit_mb * 1024 * 1024:
            break
        chosen.append(p)
        total += p.stat().st_size
    return chosen


# ---- scoring ----------------------------------------------------------------------------------------------


def score(
    pred: set[tuple[str, int, str]], truth: set[tuple[str, int, str]], names: set[str]
) -> dict[str, tuple[float, float]]:
    truth = {t for t in truth if t[0] in names}
    out: dict[str, tuple[float, float]] = {}
    cats = sorted({t[2] for t in truth} | {p[2] for p in pred})
    for c in cats:
        t = {x for x in truth if x[2] == c}
        p = {x for x in pred if x[2] == c}
        tp = len(t & p)
        out[c] = (tp / len(p) if p else 0.0, tp / len(t) if t else 0.0)
    return out


# ---- shareguard -------------------------------------------------------------------------------------------


def run_shareguard(paths: list[Path], rounds: int = 1) -> tuple[float, list[float], set[tuple[str, int, str]]]:
    """MB scanned, the CPU seconds of each of `rounds` passes over `paths` (each reads every file and scans it)
    and the predictions (the same in every pass)."""
    sys.path.insert(0, str(ROOT / "src"))
    from shareguard.sensitive.engine import engine
    from shareguard.sensitive.formats import Limits, Scanner

    scanner = Scanner(engine(), Limits(max_bytes=1 << 30))
    # One-time start-up apart from the throughput, as the engine build above: the first scan of each kind
    # imports phonenumbers/python-stdnum (and numpy, for blocks over 1 MiB) and compiles the detectors' RE2
    # patterns (~0.1-0.2 CPU-s).
    warm0 = time.process_time()
    for p in paths[:4]:
        with p.open("rb") as fh:
            scanner.scan(p.name, fh.read(3 << 19).rpartition(b"\n")[0])
    print(
        f"  shareguard warm-up (start-up + a first scan of 4 x 1.5 MiB, not counted below): {time.process_time() - warm0:.2f} CPU-s"
    )
    cpus: list[float] = []
    first: set[tuple[str, int, str]] | None = None
    total = 0
    for _ in range(rounds):
        pred: set[tuple[str, int, str]] = set()
        total = 0
        cpu0 = time.process_time()
        for p in paths:
            data = p.read_bytes()
            total += len(data)
            for loc in scanner.scan(p.name, data).hits:
                cat = CATEGORY_OF_DETECTOR.get(loc.hit.detector.id)
                if cat and loc.location.line is not None:
                    pred.add((p.name, loc.location.line, cat))
        cpus.append(time.process_time() - cpu0)
        if first is None:
            first = pred
        elif pred != first:
            raise SystemExit("shareguard's findings differ between two passes over the same corpus")
    assert first is not None
    return total / 1e6, cpus, first


# ---- peers ------------------------------------------------------------------------------------------------

PEER_SCRIPT = r"""
import json, sys, time
which, paths = sys.argv[1], sys.argv[2:]
pred = []
t0 = time.process_time()
if which == "detect-secrets":
    from detect_secrets.core.scan import scan_file
    from detect_secrets.settings import default_settings
    with default_settings():
        for p in paths:
            for s in scan_file(p):
                pred.append([p, s.line_number, s.type])
else:
    from presidio_analyzer.predefined_recognizers import (EmailRecognizer, PhoneRecognizer, CreditCardRecognizer,
        IbanRecognizer, UsSsnRecognizer, IpRecognizer)
    recs = [EmailRecognizer(), PhoneRecognizer(), CreditCardRecognizer(), IbanRecognizer(), UsSsnRecognizer(), IpRecognizer()]
    for p in paths:
        for n, line in enumerate(open(p, encoding="utf-8"), 1):
            for r in recs:
                for res in r.analyze(line, r.supported_entities, None):
                    if res.score >= 0.5:
                        pred.append([p, n, res.entity_type])
print(json.dumps({"cpu": time.process_time() - t0, "pred": pred}))
"""


def peer_python() -> Path:
    py = PEERS / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEERS)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", "detect-secrets", "presidio-analyzer"], check=True)
    return py


def run_peer(which: str, paths: list[Path]) -> tuple[float, set[tuple[str, int, str]]]:
    res = subprocess.run(
        [str(peer_python()), "-c", PEER_SCRIPT, which, *map(str, paths)], check=True, capture_output=True, text=True
    )
    doc = json.loads(res.stdout.strip().splitlines()[-1])
    table = DETECT_SECRETS_OF if which == "detect-secrets" else PRESIDIO_OF
    pred = {(Path(p).name, n, table[t]) for p, n, t in doc["pred"] if t in table}
    return float(doc["cpu"]), pred


# ---- beam ------------------------------------------------------------------------------------------------


BEAM_RUN = r"""
import json, sys, time
t0 = time.time()
from shareguard.core.options import OptionSet
from shareguard.core.registry import load_registries
from shareguard.sensitive.beam import run_beam_scan
from shareguard.sensitive.options import SensitiveOptions
t1 = time.time()
stats = {}
res = run_beam_scan(sys.argv[1], workers=int(sys.argv[2]), options=OptionSet().with_(SensitiveOptions(all_files=True)),
                    registries=load_registries(), stats=stats)
t2 = time.time()
b = stats["bundles"]
print(json.dumps({"imports": t1 - t0, "run": t2 - t1, "steady": max(x[2] for x in b) - min(x[1] for x in b),
                  "first_bundle": min(x[1] for x in b) - t1, "bundles": b, "parts": stats["parts"],
                  "after": t2 - max(x[2] for x in b), "teardown": stats["pipeline_done"] - max(x[2] for x in b),
                  "findings": sorted(f.fingerprint for f in res.findings)}))
"""

EMPTY_RUN = r"""
import sys, time
t0 = time.time()
import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions
t1 = time.time()
w = int(sys.argv[1])
flags = ["--runner=DirectRunner", f"--direct_num_workers={w}", "--direct_running_mode=multi_processing",
         "--default_sdk_harness_log_level=WARNING"]

class Nothing(beam.DoFn):
    def process(self, kv):
        return []

    def finish_bundle(self):
        print("FB", time.time(), file=sys.stderr, flush=True)  # the worker's stderr is this process' stderr

with beam.Pipeline(options=PipelineOptions(flags)) as p:
    _ = p | beam.Create([(i % w, i) for i in range(40)], reshuffle=False) | beam.GroupByKey() | beam.ParDo(Nothing())
print(f"{t1 - t0:.2f} {time.time() - t1:.2f} {time.time()}")
"""


CPU_RUN = r"""
import sys, time, hashlib
t0 = time.time()
import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions
t1 = time.time()
w, n = int(sys.argv[1]), int(sys.argv[2])

class Burn(beam.DoFn):
    def process(self, kv):
        c0, s = time.process_time(), time.time()
        buf = bytes(1 << 18)
        for _ in kv[1]:
            for _ in range(2800):
                buf = hashlib.sha256(buf).digest() * (1 << 13)
        yield (s, time.time(), time.process_time() - c0)

flags = ["--runner=DirectRunner", f"--direct_num_workers={w}", "--direct_running_mode=multi_processing",
         "--default_sdk_harness_log_level=WARNING"]
out = []
with beam.Pipeline(options=PipelineOptions(flags)) as p:
    _ = (p | beam.Create([(i % w, i) for i in range(n)], reshuffle=False) | beam.GroupByKey() | beam.ParDo(Burn())
         | beam.Map(lambda r: print("B", *r, flush=True)))
print(f"T {t1 - t0:.2f} {time.time() - t1:.2f}")
"""

PLAIN_RUN = r"""
import os, sys, time, multiprocessing as mp
def work(paths, q):
    from shareguard.core.settings import Settings
    from shareguard.sensitive.beam import scan_part
    from shareguard.sensitive.options import SensitiveOptions
    from shareguard.sensitive.split import Part
    opts, settings = SensitiveOptions(all_files=True), Settings.from_env()
    scan_part(Part("warm", paths[0], os.path.getsize(paths[0])), opts, None, settings)
    c0, s = time.process_time(), time.time()
    for p in paths:
        scan_part(Part(p, p, os.path.getsize(p)), opts, None, settings)
    q.put((s, time.time(), time.process_time() - c0))
if __name__ == "__main__":
    w, root = int(sys.argv[1]), sys.argv[2]
    paths = sorted(os.path.join(root, f) for f in os.listdir(root))
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    procs = [ctx.Process(target=work, args=(paths[i::w], q)) for i in range(w)]
    for p in procs:
        p.start()
    res = [q.get() for _ in procs]
    for p in procs:
        p.join()
    print("P", max(r[1] for r in res) - min(r[0] for r in res), *[r[2] for r in res])
"""


def probe_report(rounds: int, target: Path) -> None:
    """Beam and the machine alone, 1 and 2 workers in alternation: a pure-CPU DoFn (16 elements of 2,800
    SHA-256 passes over 256 KiB, ~0.5 CPU-s each) on the same pipeline shape, and the scan of `target` in 1 and 2 plain processes (the
    workers' detector set warmed first; no Beam): what two cores give when shareguard's pipeline is not
    involved."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "SHAREGUARD_CACHE_DIR": str(WORK / "beam-cache")}
    cpu: dict[int, list[tuple[float, float]]] = {1: [], 2: []}
    plain: dict[int, list[tuple[float, float]]] = {1: [], 2: []}
    for _ in range(rounds):
        for w in (1, 2):
            res = subprocess.run([sys.executable, "-c", CPU_RUN, str(w), "16"], check=True, capture_output=True,
                                 text=True, env=env, timeout=600).stdout.splitlines()  # fmt: skip
            rows = [tuple(map(float, line.split()[1:])) for line in res if line.startswith("B ")]
            steady = max(r[1] for r in rows) - min(r[0] for r in rows)
            cpu[w].append((steady, sum(r[2] for r in rows)))
            script = WORK / "plain_run.py"  # a file: spawned processes import their target from the main module
            script.write_text(PLAIN_RUN, encoding="utf-8")
            out = subprocess.run([sys.executable, str(script), str(w), str(target)], check=True, capture_output=True,
                                 text=True, env=env, timeout=600).stdout.split()  # fmt: skip
            plain[w].append((float(out[1]), sum(map(float, out[2:]))))
    for name, runs in (("pure-CPU DoFn on Beam", cpu), ("scan in plain processes", plain)):
        for w in (1, 2):
            print(f"  {name}, {w} worker(s): " + ", ".join(f"{s:.2f} s ({c:.2f} CPU-s)" for s, c in runs[w]))
        med = {w: sorted(s for s, _ in runs[w])[rounds // 2] for w in (1, 2)}
        print(f"  {name}: 1 worker {med[1]:.2f} s, 2 workers {med[2]:.2f} s = {med[1] / med[2]:.2f}x (median)")


def run_beam(workers: int, target: Path) -> dict[str, object]:
    """One `shareguard data --runner direct` scan in a fresh process: wall clock from start (interpreter,
    imports, Beam's workers, the scan, the driver's replay) and the steady state (first bundle start to
    last bundle end, the workers' scanning)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "SHAREGUARD_CACHE_DIR": str(WORK / "beam-cache")}
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, "-c", BEAM_RUN, str(target), str(workers)], check=True,
                         capture_output=True, text=True, env=env)  # fmt: skip
    doc: dict[str, object] = json.loads(res.stdout.strip().splitlines()[-1])
    doc["wall"] = time.perf_counter() - t0
    return doc


def run_empty(workers: int) -> tuple[float, float, float]:
    """Beam alone, the same pipeline shape with nothing to do, in a fresh process: (import s, pipeline s,
    tear-down s: from the last bundle's end to `run()` returning)."""
    res = subprocess.run([sys.executable, "-c", EMPTY_RUN, str(workers)], check=True, capture_output=True, text=True)
    imp, run, end = res.stdout.split()
    last = max(float(line.split()[1]) for line in res.stderr.splitlines() if line.startswith("FB "))
    return float(imp), float(run), float(end) - last


def single_object(mb: int) -> Path:
    """One large log object (the corpus' log files joined) under benchmarks/work/sensitive-single/."""
    target = WORK / "sensitive-single"
    big = target / "big.log"
    if not big.exists() or big.stat().st_size < mb * 1_000_000:
        target.mkdir(parents=True, exist_ok=True)
        with big.open("wb") as out:
            while out.tell() < mb * 1_000_000:
                for log in sorted(CORPUS.glob("*.log")):
                    out.write(log.read_bytes())
    return target


BEAM_OBJECT_MB = 25


def beam_corpus(mb: int, where: Path | None) -> Path:
    """A mixed corpus of `mb` MB for the Beam runs (objects of 25 MB of one kind each: logs, CSV, JSONL,
    code), stitched from the standard corpus' 5 MB files in a rotating order: the same content mix, made at
    copy speed. The standard corpus is only read. Reused when it already has the size asked for."""
    target = where or WORK / f"sensitive-beam-{mb}"
    sources: dict[str, list[Path]] = {}
    for f in sorted(CORPUS.glob("f*")):
        sources.setdefault(f.suffix, []).append(f)
    count = max(1, mb // BEAM_OBJECT_MB)
    want = [target / f"b{i:04d}{list(sources)[i % len(sources)]}" for i in range(count)]
    whole = BEAM_OBJECT_MB * 1024 * 1024 * 0.99
    if target.is_dir() and sorted(target.iterdir()) == want and all(f.stat().st_size >= whole for f in want):
        return target
    target.mkdir(parents=True, exist_ok=True)
    for old in target.iterdir():
        old.unlink()
    for i, path in enumerate(want):
        pool = sources[path.suffix]
        with path.open("wb") as out:
            for k in range(BEAM_OBJECT_MB // FILE_MB):
                data = pool[(i // len(sources) * 7 + k) % len(pool)].read_bytes()
                if path.suffix == ".csv" and k:
                    data = data[data.index(b"\n") + 1 :]  # one header line per object
                out.write(data)
    return target


def remove_beam_corpus(target: Path) -> None:
    for f in target.iterdir():
        f.unlink()
    target.rmdir()


def beam_report(rounds: int, target: Path = CORPUS) -> None:
    run_beam(2, target)  # warm: bytecode, page cache, the Hyperscan database cache
    runs: dict[int, list[dict[str, object]]] = {1: [], 2: []}
    empty: dict[int, list[tuple[float, float, float]]] = {1: [], 2: []}
    for _ in range(rounds):  # in alternation: the load moves between runs, not between the two sides
        for w in (1, 2):
            runs[w].append(run_beam(w, target))
            empty[w].append(run_empty(w))
    assert runs[1][0]["findings"] == runs[2][0]["findings"], "1 and 2 workers disagree"
    for w in (1, 2):
        for r in runs[w]:
            per = ", ".join(
                f"pid {int(b[0])}: {b[2] - b[1]:.2f} s ({b[4]:.2f} CPU-s) {b[3] / 1e6:.0f} MB" for b in r["bundles"]
            )  # type: ignore[attr-defined]
            print(f"beam {w} worker(s): wall {r['wall']:.2f} s (imports {r['imports']:.2f}, first bundle after "
                  f"{r['first_bundle']:.2f}, steady {r['steady']:.2f} s, last bundle to result {r['after']:.2f} s, "
                  f"to Beam's return {r['teardown']:.2f} s; {r['parts']} parts; bundles {per})")  # fmt: skip
        print(
            f"  empty pipeline, {w} worker(s): "
            + ", ".join(f"import {i:.2f} s + run {r:.2f} s (tear-down {t:.2f} s)" for i, r, t in empty[w])
        )
    med = {w: sorted(float(r["wall"]) for r in runs[w])[rounds // 2] for w in (1, 2)}  # type: ignore[arg-type]
    steady = {w: sorted(float(r["steady"]) for r in runs[w])[rounds // 2] for w in (1, 2)}  # type: ignore[arg-type]
    print(f"beam DirectRunner (median of {rounds}, under load): wall 1 worker {med[1]:.2f} s, 2 workers {med[2]:.2f} s "
          f"= {med[1] / med[2]:.2f}x; steady state {steady[1]:.2f} s vs {steady[2]:.2f} s = {steady[1] / steady[2]:.2f}x")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=200)
    ap.add_argument("--peer-mb", type=float, default=4)
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument(
        "--rounds", type=int, default=3, help="passes over the corpus in one process (this host's speed drifts)"
    )
    ap.add_argument("--beam", action="store_true")
    ap.add_argument("--beam-only", action="store_true", help="only the Beam runs (on the corpus there is)")
    ap.add_argument("--beam-rounds", type=int, default=3)
    ap.add_argument("--beam-single-mb", type=int, default=0, help="--beam-only on one large log object of this size")
    ap.add_argument("--beam-mb", type=int, default=0, help="the Beam runs on a corpus of this size (own folder)")
    ap.add_argument("--beam-dir", type=Path, default=None, help="folder of the --beam-mb corpus")
    ap.add_argument("--beam-cleanup", action="store_true", help="delete the --beam-mb corpus afterwards")
    ap.add_argument("--beam-probe", action="store_true", help="also Beam and the machine alone (pure-CPU DoFn)")
    args = ap.parse_args()
    t0 = time.perf_counter()
    if not (args.beam_only and any(CORPUS.glob("f*"))):  # --beam-only never regenerates (or deletes) a corpus
        generate(args.mb)
    n = len(list(CORPUS.glob("f*")))
    print(f"corpus: {n * FILE_MB} MB in {n} files ({time.perf_counter() - t0:.1f} s to make)")
    if args.beam_only:
        beam_main(args)
        return
    truth = load_truth()
    all_files = files()
    mb, cpus, pred = run_shareguard(all_files, args.rounds)
    rates = sorted(mb / c for c in cpus)
    print(
        f"shareguard, whole corpus: {mb:.1f} MB; per pass "
        + ", ".join(f"{c:.2f} CPU-s = {mb / c:.1f} MB/s" for c in cpus)
        + f"; median {rates[len(rates) // 2]:.1f}, best {rates[-1]:.1f} MB/s per core"
    )
    full = score(pred, truth, {p.name for p in all_files})
    for c, (prec, rec) in full.items():
        print(f"  {c:14s} P {prec:.3f}  R {rec:.3f}")
    if not args.no_peers:
        subset = files(args.peer_mb)
        names = {p.name for p in subset}
        smb = sum(p.stat().st_size for p in subset) / 1e6
        _, scpus, spred = run_shareguard(subset)
        scpu = scpus[0]
        results = {"shareguard": (scpu, score(spred, truth, names))}
        for peer in ("detect-secrets", "presidio"):
            pcpu, ppred = run_peer(peer, subset)
            results[peer] = (pcpu, score(ppred, truth, names))
        print(f"subset of {smb:.1f} MB:")
        for tool, (c, sc) in results.items():
            print(f"  {tool:15s} {smb / c:8.2f} MB/s per core")
            for cat, (prec, rec) in sc.items():
                print(f"    {cat:14s} P {prec:.3f}  R {rec:.3f}")
    if args.beam:
        beam_main(args)


def beam_main(args: argparse.Namespace) -> None:
    if args.beam_single_mb:
        target = single_object(args.beam_single_mb)
    elif args.beam_mb:
        t0 = time.perf_counter()
        target = beam_corpus(args.beam_mb, args.beam_dir)
        size = sum(f.stat().st_size for f in target.iterdir())
        print(f"beam corpus: {size / 1e6:.0f} MB in {len(list(target.iterdir()))} objects under {target} "
              f"({time.perf_counter() - t0:.1f} s to make)")  # fmt: skip
    else:
        target = CORPUS
    try:
        if args.beam_probe:
            probe_report(args.beam_rounds, target)
        beam_report(args.beam_rounds, target)
    finally:
        if args.beam_mb and args.beam_cleanup:
            remove_beam_corpus(target)


if __name__ == "__main__":
    main()
