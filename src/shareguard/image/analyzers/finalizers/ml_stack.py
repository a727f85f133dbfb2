"""ML-stack finalizer: library-name versions (CUDA runtime, cuDNN, NCCL), one record per (component,
version), one CUDA toolkit per release, and framework builds attached to their PyPI package
(`torch 2.3.0+cu121` → extra `cuda=12.1`).

CUDA: a version file found outside `usr/local/cuda*` counts only beside `bin/nvcc`; the records of one
release (`major.minor`) found several ways (version.json 12.4.1, cuda.h 12.4, libcudart.so.12.4.127) are
one: the most precise source wins (version.json, version.txt, cuda.h, then the runtime library's name),
with extra `detected_from` naming all of them, `cudart` the runtime library's version and `nvcc` the
compiler's path when present.

Build facts land on the PyPI package as extra: `cuda`, `cudnn`, `rocm`, `accelerator`, `git_version`,
from the local version label (`+cu121`, `+cuda12.cudnn89`, `+rocm6.0`, `+cpu`) and from the framework's
own files (`torch/version.py`, TensorFlow's `build_info.py`) in the same site-packages directory.
"""

from __future__ import annotations

import dataclasses

from shareguard.core.facts import Fact, Package
from shareguard.image.analyzers._common import basename, parent
from shareguard.image.analyzers.finalizers._util import extra_value, with_extra
from shareguard.image.analyzers.ml_stack import NEEDS_NVCC, generic_package
from shareguard.image.facts import FrameworkBuild

# Library file name prefix -> component; versions need three numeric parts (`libcudnn.so.9` is ambiguous).
_LIBRARIES = (("libcudnn.so.", "cudnn"), ("libnccl.so.", "nccl"), ("libcudart.so.", "cuda"))
_SOURCE_RANK = {"version.json": 0, "version.txt": 1, "cuda.h": 2, "libcudart": 3}
_NAMESPACES = {"torch": "pytorch", "tensorflow": "tensorflow"}
_FRAMEWORK_DISTS = {"torch": ("torch",), "tensorflow": ("tensorflow", "tensorflow-cpu", "tensorflow-gpu", "tf-nightly")}


def library_versions(files: dict[str, str | None]) -> list[Package]:
    found: dict[tuple[str, str], Package] = {}
    for path in files:
        if ".so." not in path or "-packages/" in path:  # a wheel's bundled copy is its PyPI package's
            continue
        base = basename(path)
        for prefix, component in _LIBRARIES:
            if base.startswith(prefix):
                version = base[len(prefix) :]
                parts = version.split(".")
                if len(parts) >= 3 and all(p.isdigit() for p in parts) and (component, version) not in found:
                    extra = {"detected_from": "libcudart"} if component == "cuda" else {}
                    found[(component, version)] = generic_package(component, version, path, files[path], **extra)
    return list(found.values())


def _release(version: str) -> str:
    return ".".join(version.split(".")[:2])


def cuda_toolkits(records: list[Package], files: dict[str, str | None]) -> list[Package]:
    """One CUDA record per release (see the module doc); version files outside usr/local/cuda* need nvcc."""
    by_release: dict[str, list[Package]] = {}
    for rec in records:
        root = extra_value(rec, "toolkit_root")
        nvcc = f"{root}/bin/nvcc" if root else None
        if extra_value(rec, NEEDS_NVCC) and (nvcc is None or nvcc not in files):
            continue  # a version file that merely says CUDA, with no compiler beside it
        pairs = {"nvcc": nvcc} if nvcc and nvcc in files else {}
        kept = tuple((k, v) for k, v in rec.extra if k != NEEDS_NVCC)
        rec = with_extra(dataclasses.replace(rec, extra=kept), pairs) if pairs or len(kept) != len(rec.extra) else rec
        by_release.setdefault(_release(rec.version), []).append(rec)
    out: list[Package] = []
    for same in by_release.values():
        ranked = sorted(same, key=lambda r: (_SOURCE_RANK.get(extra_value(r, "detected_from") or "", 9), r.path))
        best = ranked[0]
        pairs = {"detected_from": ",".join(dict.fromkeys(extra_value(r, "detected_from") or "" for r in ranked))}
        cudart = next((r.version for r in ranked if extra_value(r, "detected_from") == "libcudart"), None)
        if cudart and cudart != best.version:
            pairs["cudart"] = cudart
        nvcc = next((v for r in ranked if (v := extra_value(r, "nvcc"))), None)
        if nvcc:
            pairs["nvcc"] = nvcc
        out.append(with_extra(best, pairs))
    return out


def _cuda_from_digits(digits: str) -> str:
    """`121` → `12.1`, `118` → `11.8`, `12` → `12` (PyTorch's `cuXYZ` labels put the minor last)."""
    return f"{digits[:-1]}.{digits[-1]}" if len(digits) >= 3 else digits


def local_build(version: str) -> dict[str, str]:
    """Accelerator facts from a PEP 440 local version label."""
    _, plus, local = version.partition("+")
    if not plus:
        return {}
    out: dict[str, str] = {}
    if local.startswith("rocm"):
        return {"accelerator": "rocm", "rocm": local[4:]}
    for token in local.replace("_", ".").split("."):
        if token == "cpu":
            out["accelerator"] = "cpu"
        elif token.startswith("cudnn") and token[5:].isdigit():
            out["cudnn"] = ".".join(token[5:7]) if len(token[5:]) == 2 else token[5:]
        elif token.startswith("cuda") and token[4:].isdigit():
            out |= {"accelerator": "cuda", "cuda": token[4:]}
        elif token.startswith("cu") and token[2:].isdigit():
            out |= {"accelerator": "cuda", "cuda": _cuda_from_digits(token[2:])}
    return out


def _site_dir(build: FrameworkBuild) -> str:
    """`…/site-packages/torch/version.py` → `…/site-packages`."""
    top = build.path.split(f"/{build.framework}/", 1)[0]
    return top if top != build.path else parent(parent(build.path))


def build_pairs(build: FrameworkBuild) -> dict[str, str]:
    pairs = {k: v for k, v in (("cuda", build.cuda), ("cudnn", build.cudnn), ("rocm", build.rocm)) if v}
    if build.git_version:
        pairs["git_version"] = build.git_version
    if build.cuda:
        pairs["accelerator"] = "cuda"
    elif build.rocm:
        pairs["accelerator"] = "rocm"
    return pairs


class MLStackFinalizer:
    name = "inventory.ml-stack"
    order = 50

    def finalize(self, facts: list[Fact], files: dict[str, str | None]) -> list[Fact]:
        builds = {(_site_dir(b), b.framework): b for b in facts if isinstance(b, FrameworkBuild)}
        used: set[tuple[str, str]] = set()
        seen_generic: set[tuple[str, str]] = set()
        out: list[Fact] = []
        cuda: list[Package] = []
        for fact in facts:
            if isinstance(fact, Package) and fact.origin == "ml-stack" and fact.name == "cuda":
                cuda.append(fact)
                continue
            if isinstance(fact, Package) and fact.origin == "ml-stack":
                key = (fact.name, fact.version)
                if key in seen_generic:
                    continue  # e.g. the same CUDA via `usr/local/cuda` and `usr/local/cuda-12.4`
                seen_generic.add(key)
            elif isinstance(fact, Package) and fact.ecosystem == "PyPI":
                pairs = local_build(fact.version)
                site = parent(parent(fact.path))
                for framework, dists in _FRAMEWORK_DISTS.items():
                    build = builds.get((site, framework))
                    if fact.name in dists and build is not None:
                        pairs |= build_pairs(build)
                        used.add((site, framework))
                if pairs:
                    fact = with_extra(fact, pairs)
            out.append(fact)
        for lib in library_versions(files):
            if lib.name == "cuda":
                cuda.append(lib)
            elif (lib.name, lib.version) not in seen_generic:
                seen_generic.add((lib.name, lib.version))
                out.append(lib)
        out.extend(cuda_toolkits(cuda, files))
        for key, build in builds.items():
            if key not in used and build.version:
                out.append(
                    generic_package(
                        build.framework,
                        build.version,
                        build.path,
                        build.layer,
                        namespace=_NAMESPACES.get(build.framework, build.framework),
                        **build_pairs(build),
                    )
                )
        return out
