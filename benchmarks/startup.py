"""Benchmark: what each command line costs before (and besides) its work, side by side with another revision.

For each command line below, the whole process is measured with callgrind (instructions: stable on a busy
host) when valgrind is installed, else by CPU time (best of `--repeat`, label it with the load):

- `--version`, `image --help`, `config --help`, `audit --help`, `catalog show --format json`;
- `image` up to its first layer (`scan_image` replaced by what it does before reading a layer: the file
  analyzers, their scopes, the layer-cache key), on the image `image_scan.py` builds;
- a warm `image` rescan of that image (layer and image caches filled by a first run);
- `logs` on the example CloudTrail file.

`--baseline REV` runs the same lines against `git archive REV` (the same venv), so the figures compare code,
not hosts. Bytecode is compiled first for both trees (an installed package has it).

Usage: python benchmarks/startup.py [--baseline main] [--image DIR] [--repeat 3] [--no-callgrind]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_LOG = ROOT / "examples" / "ml-platform" / "logs" / "cloudtrail.json"
DEFAULT_IMAGE = ROOT / "benchmarks" / "work" / "image"

_UNTIL_FIRST_LAYER = """
import sys
import shareguard.image.scan as scan


def stop(source, registries, ctx, **kw):
    files = scan.file_analyzers(registries, "image", kw.get("analyzer_filter"))
    scan.declare_scopes(files, ctx)
    scan.layer_key(files, ctx)
    raise SystemExit(0)


scan.scan_image = stop
from shareguard.cli.main import main

sys.argv[0] = "shareguard"
main()
"""
_MAIN = "from shareguard.cli.main import main; main()"


def find_image(base: Path) -> Path | None:
    """An OCI layout `image_scan.py` built (the smallest, so the warm rescan stays start-up-sized)."""
    layouts = sorted(base.glob("image-*/index.json"), key=lambda p: sum(f.stat().st_size for f in p.parent.rglob("*")))
    return layouts[0].parent if layouts else None


def export(rev: str, into: Path) -> Path:
    """`git archive REV src` unpacked into `into`; returns its `src`."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "src"], capture_output=True, check=True).stdout
    with tempfile.NamedTemporaryFile(suffix=".tar") as tf:
        tf.write(archive)
        tf.flush()
        with tarfile.open(tf.name) as tar:
            tar.extractall(into, filter="data")
    return into / "src"


def run(src: Path, code: str, argv: list[str], env: dict[str, str], callgrind: bool, repeat: int) -> str:
    env = {**env, "PYTHONPATH": str(src)}
    cmd = [sys.executable, "-c", code, *argv]
    if callgrind:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "cg.out"
            proc = subprocess.run(
                ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *cmd],
                env=env,
                capture_output=True,
                check=False,
            )
            m = re.search(r"^summary:\s+(\d+)", out.read_text(), re.M) if out.exists() else None
            if m is None:
                return f"failed (exit {proc.returncode})"
            return f"{int(m.group(1)) / 1e9:.3f} G instr (exit {proc.returncode})"
    best = float("inf")
    for _ in range(repeat):
        before = os.times()
        proc = subprocess.run(cmd, env=env, capture_output=True, check=False)
        after = os.times()
        best = min(best, after.children_user + after.children_system - before.children_user - before.children_system)
    return f"{best:.3f} s CPU (exit {proc.returncode}, load {os.getloadavg()[0]:.1f})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", help="a git revision to measure side by side (e.g. main)")
    parser.add_argument("--image", type=Path, help="an OCI layout (default: the smallest image_scan.py built)")
    parser.add_argument("--repeat", type=int, default=3, help="CPU-time runs per line without callgrind")
    parser.add_argument("--no-callgrind", action="store_true", help="CPU time even where valgrind is installed")
    args = parser.parse_args()
    callgrind = not args.no_callgrind and shutil.which("valgrind") is not None
    image = args.image or find_image(DEFAULT_IMAGE)
    work = Path(tempfile.mkdtemp(prefix="sg-startup-"))
    trees = {"this checkout": ROOT / "src"}
    if args.baseline:
        trees[args.baseline] = export(args.baseline, work / "baseline")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    lines: list[tuple[str, str, list[str]]] = [
        ("--version", _MAIN, ["--version"]),
        ("image --help", _MAIN, ["image", "--help"]),
        ("config --help", _MAIN, ["config", "--help"]),
        ("audit --help", _MAIN, ["audit", "--help"]),
        ("catalog show", _MAIN, ["catalog", "show", "--format", "json"]),
        ("logs (example CloudTrail)", _MAIN, ["logs", str(EXAMPLE_LOG), "-f", "json", "-q", "--no-sigmahq"]),
    ]
    if image is not None:
        scan = ["image", "--input", str(image), "-f", "json", "-o", str(work / "report.json"), "-q"]
        lines += [("image, until its first layer", _UNTIL_FIRST_LAYER, scan), ("image, warm rescan", _MAIN, scan)]
    else:
        print("no image: build one with `python benchmarks/image_scan.py --size-gb 0.3 --files 20000 --build-only`")
    try:
        for name, src in trees.items():
            subprocess.run(
                [sys.executable, "-m", "compileall", "-q", str(src)], env=env, capture_output=True, check=False
            )
            cache = work / f"cache-{len(name)}-{abs(hash(name))}"
            tree_env = {**env, "SHAREGUARD_CACHE_DIR": str(cache)}
            if image is not None:  # fills the layer, image and data caches: the rescan reads no layer
                subprocess.run(
                    [sys.executable, "-c", _MAIN, *lines[-1][2]],
                    env={**tree_env, "PYTHONPATH": str(src)},
                    capture_output=True,
                    check=False,
                )
            print(f"## {name} ({'callgrind' if callgrind else 'CPU time'})", flush=True)
            t = time.perf_counter()
            for label, code, argv in lines:
                print(f"  {label:32s} {run(src, code, argv, tree_env, callgrind, args.repeat)}", flush=True)
            print(f"  ({time.perf_counter() - t:.0f} s)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
