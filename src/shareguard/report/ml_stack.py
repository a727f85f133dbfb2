"""The ML stack of a scanned image or root filesystem, summarised from its `Package` facts: the CUDA
toolkit, cuDNN and NCCL the inventory recognised (generic packages of origin `ml-stack`), and the build
of each ML framework (accelerator, CUDA/cuDNN/ROCm it was built for, git version) that the ML-stack
finalizer put on the framework's package. Read by the JSON report (`ml_stack`) and both SBOM writers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from shareguard.core.facts import Package

COMPONENTS = ("cuda", "cudnn", "nccl")
"""Generic ml-stack packages that are libraries/toolkits; any other ml-stack package is a framework build."""
BUILD_KEYS = ("accelerator", "cuda", "cudnn", "rocm", "git_version")
"""Extra keys of a framework's package that describe its build."""
_COMPONENT_KEYS = ("detected_from", "toolkit_root", "nvcc", "cudart")


def build_facts(pkg: Package) -> dict[str, str]:
    """The build facts (BUILD_KEYS) a package carries, in that order."""
    extra = dict(pkg.extra)
    return {k: extra[k] for k in BUILD_KEYS if extra.get(k)}


def is_ml_stack(pkg: Package) -> bool:
    """A CUDA/cuDNN/NCCL record, a framework build record, or a package with build facts."""
    return pkg.origin == "ml-stack" or (pkg.ecosystem == "PyPI" and bool(build_facts(pkg)))


def summary(packages: Iterable[Package]) -> dict[str, Any] | None:
    """`{"accelerators": [...], "cuda": [...], "cudnn": [...], "nccl": [...], "frameworks": [...]}`, each
    list sorted and each entry with `version`, `path` (and `layer` when known); None when the scan found
    no ML stack."""
    out: dict[str, list[dict[str, str]]] = {name: [] for name in COMPONENTS}
    frameworks: list[dict[str, str]] = []
    accelerators: set[str] = set()
    for pkg in packages:
        if not is_ml_stack(pkg):
            continue
        entry = {"version": pkg.version, "path": pkg.path} | ({"layer": pkg.layer} if pkg.layer else {})
        extra = dict(pkg.extra)
        if pkg.origin == "ml-stack" and pkg.name in COMPONENTS:
            out[pkg.name].append(entry | {k: extra[k] for k in _COMPONENT_KEYS if extra.get(k)})
            if pkg.name == "cuda":
                accelerators.add("cuda")
            continue
        build = build_facts(pkg)
        if build.get("accelerator"):
            accelerators.add(build["accelerator"])
        frameworks.append({"name": pkg.name, "ecosystem": pkg.ecosystem} | entry | build)
    if not frameworks and not any(out.values()):
        return None
    doc: dict[str, Any] = {"accelerators": sorted(accelerators)}
    for name in COMPONENTS:
        doc[name] = sorted(out[name], key=lambda e: (e["version"], e["path"]))
    doc["frameworks"] = sorted(frameworks, key=lambda e: (e["name"], e["version"], e["path"]))
    return doc
