"""The ML stack: the CUDA toolkit, cuDNN (`cudnn_version*.h`), NCCL (`nccl.h`), and framework builds
(`torch/version.py`, TensorFlow's `build_info.py`).

CUDA is recognised from `usr/local/cuda*/version.json|version.txt`, from `cuda.h` (its `CUDA_VERSION`
define) in any toolkit's `include/` (not the copies Python wheels bundle), and from a `version.json|txt`
elsewhere whose content says CUDA: such a one counts only beside a `bin/nvcc` (the finalizer checks the
merged file list). Library file names (`libcudart.so.12.4.127`, `libcudnn.so.9.1.0`, `libnccl.so.2.21.5`)
carry versions too; they are read from the merged file list by the ML-stack finalizer, so
multi-hundred-MB libraries are never read. Python files are parsed with `ast` (never executed).
"""

from __future__ import annotations

import ast
import json
from typing import Any

from shareguard.core.analyzer import PathHint
from shareguard.core.context import ScanContext
from shareguard.core.entry import FileEntry
from shareguard.core.facts import Fact, Package
from shareguard.image.analyzers import purls
from shareguard.image.analyzers._common import MIB, InventoryFiles, basename, body, decode_text, parent
from shareguard.image.facts import FrameworkBuild

_MAX_HEADER = 4 * MIB
_MAX_VERSION_FILE = 64 * 1024
"""A CUDA `version.json` lists every component in a few KB; anything larger is not one."""
_MAX_PY = 256 * 1024
_TORCH = "/torch/version.py"
_TF = "tensorflow/python/platform/build_info.py"
_PY_FILES = (_TORCH, _TF)
_WANTED_ENDINGS = (".h", _TORCH, _TF, "/version.json", "/version.txt")
_LAST_CHARS = frozenset(e[-1] for e in _WANTED_ENDINGS)


def generic_package(
    name: str, version: str, path: str, layer: str | None, *, namespace: str = "nvidia", **extra: str
) -> Package:
    return Package(
        name=name,
        version=version,
        ecosystem="generic",
        path=path,
        layer=layer,
        purl=purls.generic(namespace, name, version),
        origin="ml-stack",
        extra=tuple(sorted(extra.items())),
    )


def c_defines(text: str, names: frozenset[str]) -> dict[str, str]:
    """`#define NAME value` lines for the wanted names (values are plain tokens or quoted strings)."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped.startswith("#"):
            continue
        parts = stripped.lstrip("#").split(None, 2)
        if len(parts) == 3 and parts[0] == "define" and parts[1] in names:
            out[parts[1]] = parts[2].split("//")[0].strip().strip('"')
    return out


def _digits(*values: str | None) -> bool:
    return all(v is not None and v.isdigit() for v in values)


_CUDNN = frozenset({"CUDNN_MAJOR", "CUDNN_MINOR", "CUDNN_PATCHLEVEL"})
_CUDA_H = frozenset({"CUDA_VERSION"})
NEEDS_NVCC = "needs_nvcc"
"""Extra key of a CUDA record found outside `usr/local/cuda*`: the finalizer keeps it only when
`<toolkit_root>/bin/nvcc` exists, and removes the key."""
_BUNDLED_COPIES = ("-packages/", "node_modules/")
"""Headers and version files inside Python wheels (triton bundles `cuda.h`) or npm packages are not a toolkit."""


def _usr_local_cuda(path: str) -> bool:
    """`usr/local/cuda/version.json`, `usr/local/cuda-12.4/version.txt`: the toolkit's own version file."""
    return path.startswith("usr/local/cuda") and path.count("/") == 3


def toolkit_root(include_path: str) -> str:
    """`usr/local/cuda-12.4/targets/x86_64-linux/include/cuda.h` → `usr/local/cuda-12.4`."""
    root = parent(parent(include_path))
    head, sep, _arch = root.rpartition("/targets/")
    return head if sep else root


_NCCL = frozenset({"NCCL_MAJOR", "NCCL_MINOR", "NCCL_PATCH", "NCCL_SUFFIX"})


def cuda_toolkit(path: str, content: bytes, layer: str | None) -> list[Fact]:
    text = decode_text(content[:_MAX_VERSION_FILE])
    version = ""
    if path.endswith(".json"):
        try:
            doc = json.loads(text)
        except (ValueError, RecursionError):
            return []
        cuda = doc.get("cuda") if isinstance(doc, dict) else None
        value = cuda.get("version") if isinstance(cuda, dict) else None
        version = value.strip() if isinstance(value, str) else ""
    else:
        words = text.split()
        if len(words) >= 3 and words[0] == "CUDA" and words[1] == "Version":
            version = words[2]
    if not version or len(version) > 40 or not version[0].isdigit():
        return []
    extra = {"toolkit_root": parent(path), "detected_from": basename(path)}
    if not _usr_local_cuda(path):
        extra[NEEDS_NVCC] = "true"
    return [generic_package("cuda", version, path, layer, **extra)]


def cuda_header(path: str, content: bytes, layer: str | None) -> list[Fact]:
    """`#define CUDA_VERSION 12040` → CUDA 12.4 (major × 1000 + minor × 10)."""
    value = c_defines(decode_text(content[:_MAX_HEADER]), _CUDA_H).get("CUDA_VERSION", "")
    if not value.isdigit() or len(value) > 7:
        return []
    number = int(value)
    if number < 1000:
        return []
    version = f"{number // 1000}.{(number % 1000) // 10}"
    return [generic_package("cuda", version, path, layer, toolkit_root=toolkit_root(path), detected_from="cuda.h")]


def cudnn(path: str, content: bytes, layer: str | None) -> list[Fact]:
    d = c_defines(decode_text(content[:_MAX_HEADER]), _CUDNN)
    if not _digits(d.get("CUDNN_MAJOR"), d.get("CUDNN_MINOR"), d.get("CUDNN_PATCHLEVEL")):
        return []
    version = f"{d['CUDNN_MAJOR']}.{d['CUDNN_MINOR']}.{d['CUDNN_PATCHLEVEL']}"
    return [generic_package("cudnn", version, path, layer)]


def nccl(path: str, content: bytes, layer: str | None) -> list[Fact]:
    d = c_defines(decode_text(content[:_MAX_HEADER]), _NCCL)
    if not _digits(d.get("NCCL_MAJOR"), d.get("NCCL_MINOR"), d.get("NCCL_PATCH")):
        return []
    version = f"{d['NCCL_MAJOR']}.{d['NCCL_MINOR']}.{d['NCCL_PATCH']}{d.get('NCCL_SUFFIX', '')}"
    return [generic_package("nccl", version, path, layer)]


def module_constants(text: str) -> dict[str, Any]:
    """Top-level `NAME = <literal>` assignments of a Python file, via `ast` (nothing is executed)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return {}
    out: dict[str, Any] = {}
    for node in tree.body:
        target: ast.expr | None = None
        value: ast.expr | None = None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign):
            target, value = node.target, node.value
        if isinstance(target, ast.Name) and value is not None:
            try:
                out[target.id] = ast.literal_eval(value)
            except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
                continue
    return out


def _opt_str(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def torch_build(path: str, content: bytes, layer: str | None) -> list[Fact]:
    consts = module_constants(decode_text(content[:_MAX_PY]))
    version = _opt_str(consts.get("__version__"))
    if not version:
        return []
    return [
        FrameworkBuild(
            framework="torch",
            version=version,
            path=path,
            layer=layer,
            cuda=_opt_str(consts.get("cuda")),
            rocm=_opt_str(consts.get("hip")),
            git_version=_opt_str(consts.get("git_version")),
        )
    ]


def tensorflow_build(path: str, content: bytes, layer: str | None) -> list[Fact]:
    info = module_constants(decode_text(content[:_MAX_PY])).get("build_info")
    if not isinstance(info, dict):
        return []
    cuda, cudnn_v, rocm = info.get("cuda_version"), info.get("cudnn_version"), info.get("rocm_version")
    return [
        FrameworkBuild(
            framework="tensorflow",
            version="",
            path=path,
            layer=layer,
            cuda=_opt_str(cuda),
            cudnn=_opt_str(cudnn_v),
            rocm=_opt_str(rocm),
        )
    ]


class MLStackAnalyzer(InventoryFiles):
    name = "inventory.ml-stack"
    version = "2"

    path_hint = PathHint.ending(*_WANTED_ENDINGS, installed=True)

    def required(self, path: str, size: int) -> bool:
        # Cheapest first: the last character (a cached one-character string), then the suffixes.
        if path[-1:] not in _LAST_CHARS or not path.endswith(_WANTED_ENDINGS):
            return False
        if path.endswith(".h"):
            base = basename(path)
            if base == "cuda.h":
                return path.endswith("include/cuda.h") and not any(b in path for b in _BUNDLED_COPIES)
            return base == "nccl.h" or base.startswith("cudnn_version")
        if path.endswith(".py"):
            return True
        if path.endswith(("/version.json", "/version.txt")):
            # any toolkit root (the finalizer keeps those outside usr/local/cuda* only beside bin/nvcc); a
            # `version.json` of this size is not a toolkit's: the size filters, it is no budget
            return size <= _MAX_VERSION_FILE and not any(b in path for b in _BUNDLED_COPIES)
        return False

    def max_bytes(self, path: str) -> int | None:
        if path.endswith(".h"):
            return _MAX_HEADER
        return _MAX_PY if path.endswith(".py") else None

    def analyze(self, entry: FileEntry, ctx: ScanContext) -> list[Fact]:
        path, content, layer = entry.rel_path, body(entry), entry.layer
        if path.endswith(".py"):
            return (
                torch_build(path, content, layer) if path.endswith(_TORCH) else tensorflow_build(path, content, layer)
            )
        if path.endswith(".h"):
            base = basename(path)
            if base == "cuda.h":
                return cuda_header(path, content, layer)
            return nccl(path, content, layer) if base == "nccl.h" else cudnn(path, content, layer)
        return cuda_toolkit(path, content, layer)
