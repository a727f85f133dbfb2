"""Benchmark `shareguard models` against picklescan, modelscan and fickling on the same files.

Files (generated under benchmarks/work/models/, git-ignored):
  * ckpt_4g.pt   — a PyTorch zip checkpoint of ~4 GB written by real `torch.save` (tensors backed by
                   a sparse memory-mapped file, so generating it needs no 4 GB of RAM);
  * big_1g.pkl   — a raw pickle holding one BINBYTES8 of 1 GiB (sparse file);
  * many_ops.pkl — a real pickle of millions of small objects (opcode throughput, not bytes);
  * benign_2m.pkl — ordinary `pickle.dump` of 2 M small dicts (~80 MB, > 4 M memo entries: the memo's
                   memory and the "malformed" false positive of issue #14 item 12).

Each tool runs in its own process under /usr/bin/time (wall seconds, peak RSS). shareguard is
also timed in-process (the library call without interpreter/CLI start-up).
Run: python benchmarks/models_scan.py [--quick] [--no-peers] [--baseline REV]
`--baseline REV` (e.g. HEAD~1) also runs the library call of that commit's `src/` (git archive into
benchmarks/work/) in a fresh process per file, interleaved with the working tree's, and prints the ratios.
"""

from __future__ import annotations

import argparse
import io
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = Path(__file__).resolve().parent / "work" / "models"
GIB = 1 << 30


def make_checkpoint(path: Path, total: int) -> None:
    import torch

    n = 16
    per = total // n // 4  # float32 elements per tensor
    backing = path.with_suffix(".backing")
    with backing.open("wb") as fh:
        fh.truncate(per * 4 * n)
    flat = torch.from_file(str(backing), shared=True, size=per * n, dtype=torch.float32)
    sd = {f"layers.{i}.weight": flat[i * per : (i + 1) * per] for i in range(n)}
    torch.save(sd, path)
    del sd, flat
    backing.unlink()


def make_big_pickle(path: Path, size: int) -> None:
    head = b"\x80\x04\x8e" + size.to_bytes(8, "little")
    with path.open("wb") as fh:
        fh.write(head)
        fh.seek(len(head) + size)
        fh.write(b".")


def make_many_ops(path: Path, n: int) -> int:
    import pickletools

    obj = {
        "ints": list(range(n)),
        "names": [f"n{i % 1000}" for i in range(n // 4)],
        "pairs": [(i, -i) for i in range(n // 8)],
    }
    data = pickle.dumps(obj, protocol=4)
    path.write_bytes(data)
    return sum(1 for _ in pickletools.genops(io.BytesIO(data)))


def make_benign_objects(path: Path, n: int) -> None:
    import random

    rnd = random.Random(1)
    rows = [{"id": i, "name": f"item{i}", "score": rnd.random(), "ok": i % 2 == 0} for i in range(n)]
    with path.open("wb") as fh:
        pickle.dump(rows, fh, protocol=4)


_LIB_CALL = """
import resource, sys, time
from pathlib import Path
from shareguard.core.registry import load_registries
from shareguard.core.settings import Settings
from shareguard.scan import run_path_scan
regs = load_registries()
t, c = time.perf_counter(), time.process_time()
res = run_path_scan(Path(sys.argv[1]), command="models", capabilities=frozenset({"models"}),
                    settings=Settings.from_env(), registries=regs)
wall, cpu = time.perf_counter() - t, time.process_time() - c
# VmHWM is this process's own peak (ru_maxrss can carry the forking parent's peak across exec).
try:
    hwm = [line for line in open("/proc/self/status") if line.startswith("VmHWM:")]
    rss = int(hwm[0].split()[1])
except (OSError, IndexError, ValueError):
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
worst = max((f.severity.rank for f in res.findings), default=-1)
print(wall, cpu, rss, len(res.findings), len(res.issues), worst)
"""


def lib_in_fresh_process(src: Path, path: Path) -> tuple[float, float, int, str]:
    """(wall s, CPU s, peak RSS KiB, summary) of the library call of the shareguard under `src`."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    out = subprocess.run(
        [sys.executable, "-c", _LIB_CALL, str(path)], env=env, capture_output=True, text=True, timeout=1800
    )
    if out.returncode != 0:
        return float("nan"), float("nan"), 0, out.stderr.strip().splitlines()[-1][:100]
    wall, cpu, rss, n_find, n_issue, worst = out.stdout.split()
    return float(wall), float(cpu), int(rss), f"{n_find} findings, {n_issue} issues, worst rank {worst}"


def baseline_src(rev: str) -> Path:
    dest = WORK / f"baseline-{rev.replace('/', '_').replace('~', '-')}"
    if not dest.exists():
        dest.mkdir(parents=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "src"], capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    return dest / "src"


def side_by_side(rev: str, files: dict[str, Path], rounds: int = 2) -> None:
    """Library call of `rev` and of the working tree, fresh process each, interleaved; best of rounds."""
    old_src, new_src = baseline_src(rev), ROOT / "src"
    print(
        f"\n| file | {rev} CPU s | now CPU s | CPU ratio | {rev} peak MiB | now peak MiB | {rev} result | now result |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for label, f in files.items():
        best: dict[str, tuple[float, float, int, str]] = {}
        for _ in range(rounds):
            for key, src in (("old", old_src), ("new", new_src)):
                run = lib_in_fresh_process(src, f)
                if key not in best or run[1] < best[key][1]:
                    best[key] = run
        (_, oc, orss, osum), (_, nc, nrss, nsum) = best["old"], best["new"]
        print(
            f"| {label} | {oc:.2f} | {nc:.2f} | {nc / oc:.2f} | {orss / 1024:.0f} | {nrss / 1024:.0f} | {osum} | {nsum} |"
        )


def timed(cmd: list[str], timeout: int = 900) -> tuple[float, float, int, int]:
    """(wall seconds, CPU seconds (user+sys), peak RSS KiB, exit code) of one process."""
    fd, out = tempfile.mkstemp()
    os.close(fd)
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            ["/usr/bin/time", "-f", "%U %S %M", "-o", out, *cmd],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=timeout,
        )
        code = proc.returncode
    except subprocess.TimeoutExpired:
        return float("inf"), float("inf"), 0, -1
    wall = time.perf_counter() - start
    last = (Path(out).read_text().strip().splitlines() or ["0 0 0"])[-1].split()
    Path(out).unlink()
    try:
        cpu, rss = float(last[0]) + float(last[1]), int(last[2])
    except (ValueError, IndexError):
        cpu, rss = float("nan"), 0
    return wall, cpu, rss, code


def in_process(path: Path, repeat: int = 3) -> tuple[float, float]:
    """Best (wall, CPU) seconds of the library call, registries loaded once beforehand."""
    from shareguard.core.registry import load_registries
    from shareguard.core.settings import Settings
    from shareguard.scan import run_path_scan

    regs = load_registries()
    best = (float("inf"), float("inf"))
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        run_path_scan(
            path, command="models", capabilities=frozenset({"models"}), settings=Settings.from_env(), registries=regs
        )
        best = min(best, (time.perf_counter() - t, time.process_time() - c))
    return best


def tools() -> dict[str, list[str]]:
    sg = shutil.which("shareguard") or "shareguard"
    out = {"shareguard (CLI)": [sg, "models", "{f}", "-q", "--format", "json"]}
    if shutil.which("picklescan"):
        out["picklescan"] = ["picklescan", "--path", "{f}"]
    if shutil.which("modelscan"):
        out["modelscan"] = ["modelscan", "-p", "{f}"]
    if shutil.which("fickling"):
        out["fickling"] = ["fickling", "--check-safety", "{f}"]
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="small files (smoke run)")
    ap.add_argument("--no-peers", action="store_true", help="shareguard only")
    ap.add_argument("--baseline", metavar="REV", help="also run REV's library call side by side (ratios)")
    ap.add_argument("--compare-only", action="store_true", help="with --baseline: only the side-by-side table")
    args = ap.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    ckpt, big, many = WORK / "ckpt_4g.pt", WORK / "big_1g.pkl", WORK / "many_ops.pkl"
    benign = WORK / "benign_2m.pkl"
    total = 64 << 20 if args.quick else 4 * GIB
    if not ckpt.exists() or abs(ckpt.stat().st_size - total) > total // 10:
        make_checkpoint(ckpt, total)
    if not big.exists():
        make_big_pickle(big, (16 << 20) if args.quick else GIB)
    n_ops = make_many_ops(many, 200_000 if args.quick else 4_000_000)
    make_benign_objects(benign, 100_000 if args.quick else 2_000_000)
    files = {"ckpt_4g.pt": ckpt, "big_1g.pkl": big, "many_ops.pkl": many, "benign_2m.pkl": benign}
    print(f"many_ops.pkl: {many.stat().st_size / 1e6:.1f} MB, {n_ops:,} opcodes")
    print(
        f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (wall times inflate under load; CPU s does not)"
    )
    if args.baseline and args.compare_only:
        side_by_side(args.baseline, files)
        return
    print("| file | size | tool | wall s | CPU s | peak RSS MiB | exit |")
    print("|---|---|---|---|---|---|---|")
    for label, f in files.items():
        size = f.stat().st_size
        t_wall, t_lib = in_process(f)
        print(
            f"| {label} | {size / GIB:.2f} GiB | shareguard (library, in-process) | {t_wall:.3f} | {t_lib:.3f} | - | - |"
        )
        for tool, cmd in tools().items():
            if args.no_peers and tool != "shareguard (CLI)":
                continue
            wall, cpu, rss, code = timed([c.replace("{f}", str(f)) for c in cmd])
            print(f"| {label} | {size / GIB:.2f} GiB | {tool} | {wall:.2f} | {cpu:.2f} | {rss / 1024:.0f} | {code} |")
        if label == "many_ops.pkl":
            print(
                f"shareguard opcode throughput (CPU): {n_ops / t_lib / 1e6:.2f} M opcodes/s, {size / t_lib / 1e6:.1f} MB/s"
            )
        if label == "big_1g.pkl":
            print(f"shareguard byte throughput (wall): {size / t_wall / GIB:.1f} GiB/s")
    if args.baseline:
        side_by_side(args.baseline, files)


if __name__ == "__main__":
    main()
