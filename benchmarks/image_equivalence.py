"""Equivalence check for image-scan speed work: same findings, facts and verdicts before and after.

Runs `shareguard image --input IMAGE --no-cache` from two source trees (this checkout and a git
revision, exported with `git archive` to a temporary directory and put first on PYTHONPATH) in the
JSON report format (findings, duty verdicts, what was scanned, issues, ML stack, metadata) and the
CycloneDX SBOM (every package: the inventory facts), and compares the two outputs with run-specific
values removed (timestamps, serial numbers, durations). Exit 0 when equal, 1 with a diff otherwise.

`--rescans`: also check that this checkout's cold run (writing the layer and image caches), its warm
rescan (image cache) and a rescan served by the layer cache alone print the same as its `--no-cache` run.

Usage: python benchmarks/image_equivalence.py [--image DIR] [--baseline REV] [--rescans]
(default image: the one `image_scan.py` builds; default baseline: HEAD~1)
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_IMAGE = ROOT / "benchmarks" / "work" / "image" / "image-3gb-200000-v2"
RUN_SPECIFIC = frozenset({"started", "finished", "timestamp", "serialNumber", "duration_s", "elapsed", "version"})
"""Keys whose values differ from run to run (or between two checkouts' versions), never compared."""


def _normalise(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in sorted(value.items()) if k not in RUN_SPECIFIC}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    return value


def _run(src: Path, image: Path, fmt: str, out: Path, cache: Path, *, use_cache: bool = False) -> Any:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(src)
    env["SHAREGUARD_CACHE_DIR"] = str(cache)
    cmd = [sys.executable, "-c", "from shareguard.cli.main import main; main()", "image", "--input", str(image)]
    cmd += [*([] if use_cache else ["--no-cache"]), "-f", fmt, "-o", str(out), "-q"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode not in (0, 3):
        raise SystemExit(f"{src}: exit {proc.returncode}\n{proc.stderr[-2000:]}")
    return _normalise(json.loads(out.read_text()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--image", type=Path, default=DEFAULT_IMAGE)
    parser.add_argument("--baseline", default="HEAD~1", help="git revision to compare with (default HEAD~1)")
    parser.add_argument(
        "--rescans",
        action="store_true",
        help="also compare this checkout's cold (cache written), warm (image cache) and layer-cache-only runs",
    )
    args = parser.parse_args()
    if not (args.image / "index.json").is_file():
        print(f"no image at {args.image}: run `python benchmarks/image_scan.py --build-only` first", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="sg-equiv-") as tmp:
        base = Path(tmp) / "base"
        base.mkdir()
        archive = subprocess.run(["git", "archive", args.baseline, "src"], cwd=ROOT, capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(base)], input=archive.stdout, check=True)
        cache = Path(tmp) / "cache"  # one cache (the vulnerability database); --no-cache reads every layer
        same = True
        for fmt in ("json", "cyclonedx"):
            before = _run(base / "src", args.image, fmt, Path(tmp) / f"before.{fmt}", cache)
            after = _run(ROOT / "src", args.image, fmt, Path(tmp) / f"after.{fmt}", cache)
            if before == after:
                print(f"{fmt}: identical ({len(json.dumps(after))} bytes normalised)")
            else:
                same = False
                a = json.dumps(before, indent=1).splitlines()
                b = json.dumps(after, indent=1).splitlines()
                print(f"{fmt}: DIFFERENT")
                print("\n".join(list(difflib.unified_diff(a, b, args.baseline, "checkout", lineterm="", n=2))[:200]))
            if args.rescans:
                same = _rescans(args.image, Path(tmp), fmt, after) and same
    return 0 if same else 1


def _rescans(image: Path, tmp: Path, fmt: str, reference: Any) -> bool:
    """The cold run that writes the caches, the warm run served by the image cache and a run served by the
    layer cache alone, each against `reference` (this checkout's `--no-cache` output); only the metadata
    saying how many layers came from the cache may differ."""
    cache = tmp / "cache"
    for kept in ("layers", "images"):
        shutil.rmtree(cache / kept, ignore_errors=True)
    same = True
    for name in ("cold", "warm", "layers-only"):
        if name == "layers-only":
            shutil.rmtree(cache / "images", ignore_errors=True)
        got = _run(ROOT / "src", image, fmt, tmp / f"{name}.{fmt}", cache, use_cache=True)
        if isinstance(got, dict) and isinstance(got.get("metadata"), dict):
            got["metadata"].pop("layers_from_cache", None)
        expected = json.loads(json.dumps(reference))
        if isinstance(expected, dict) and isinstance(expected.get("metadata"), dict):
            expected["metadata"].pop("layers_from_cache", None)
        if got == expected:
            print(f"{fmt} {name}: identical to --no-cache")
            continue
        same = False
        a = json.dumps(expected, indent=1).splitlines()
        b = json.dumps(got, indent=1).splitlines()
        print(f"{fmt} {name}: DIFFERENT from --no-cache")
        print("\n".join(list(difflib.unified_diff(a, b, "no-cache", name, lineterm="", n=2))[:200]))
    return same


if __name__ == "__main__":
    raise SystemExit(main())
