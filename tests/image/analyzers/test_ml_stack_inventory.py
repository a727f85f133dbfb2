from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from inventory_harness import analyze_files, extra, finalize, inventory, packages, run_analyzer

from shareguard.core.facts import Package
from shareguard.image.analyzers.finalizers.ml_stack import local_build
from shareguard.image.analyzers.ml_stack import MLStackAnalyzer, module_constants
from shareguard.image.facts import FrameworkBuild

# The shapes these files have in NVIDIA's CUDA images and in the framework wheels.
CUDA_VERSION_JSON = json.dumps(
    {
        "cuda": {"name": "CUDA SDK", "version": "12.4.1"},
        "cuda_cccl": {"name": "CUDA C++ Core Compute Libraries", "version": "12.4.127"},
        "cuda_cudart": {"name": "CUDA Runtime (cudart)", "version": "12.4.127"},
        "libcublas": {"name": "CUDA cuBLAS", "version": "12.4.5.8"},
    },
    indent=3,
).encode()
CUDNN_H = b"""/*
 * Copyright 2014-2023 NVIDIA Corporation.  All rights reserved.
 */
#ifndef CUDNN_VERSION_H_
#define CUDNN_VERSION_H_

#define CUDNN_MAJOR 9
#define CUDNN_MINOR 1
#define CUDNN_PATCHLEVEL 0

#define CUDNN_VERSION (CUDNN_MAJOR * 10000 + CUDNN_MINOR * 100 + CUDNN_PATCHLEVEL)

#endif /* CUDNN_VERSION_H */
"""
NCCL_H = b"""#ifndef NCCL_H_
#define NCCL_H_

#include <cuda_runtime.h>
#include <cuda_fp16.h>

#define NCCL_MAJOR 2
#define NCCL_MINOR 21
#define NCCL_PATCH 5
#define NCCL_SUFFIX ""

#define NCCL_VERSION_CODE 22105
#define NCCL_VERSION(X,Y,Z) (((X) <= 2 && (Y) <= 8) ? (X) * 1000 + (Y) * 100 + (Z) : (X) * 10000 + (Y) * 100 + (Z))
"""
TORCH_VERSION_PY = b"""from typing import Optional

__all__ = ['__version__', 'debug', 'cuda', 'git_version', 'hip']
__version__ = '2.3.0+cu121'
debug = False
cuda: Optional[str] = '12.1'
git_version = '97ff6cfd9c86c5c09d7ce775ab64ec5c99230f5d'
hip: Optional[str] = None
"""
TF_BUILD_INFO = b"""# Copyright 2020 The TensorFlow Authors. All Rights Reserved.
\"\"\"Auto-generated module providing information about the build.\"\"\"
import collections

build_info = collections.OrderedDict([])
build_info = {'cpu_compiler': '/usr/lib/llvm-17/bin/clang', 'cuda_compute_capabilities': ['sm_50', 'sm_60', 'sm_70', 'sm_80', 'compute_90'], 'cuda_version': '12.3', 'cudnn_version': '8', 'is_cuda_build': True, 'is_rocm_build': False, 'is_tensorrt_build': True}
"""
SITE = "usr/local/lib/python3.10/dist-packages"


def test_cuda_toolkit_json_and_txt() -> None:
    a = MLStackAnalyzer()
    for path in ("usr/local/cuda-12.4/version.json", "usr/local/cuda/version.json"):
        assert a.required(path, len(CUDA_VERSION_JSON))
    [pkg] = run_analyzer(a, "usr/local/cuda-12.4/version.json", CUDA_VERSION_JSON, "sha256:cuda")
    assert isinstance(pkg, Package)
    assert (pkg.name, pkg.version, pkg.ecosystem, pkg.origin) == ("cuda", "12.4.1", "generic", "ml-stack")
    assert pkg.purl == "pkg:generic/nvidia/cuda@12.4.1" and pkg.layer == "sha256:cuda"
    [old] = run_analyzer(a, "usr/local/cuda-11.0/version.txt", b"CUDA Version 11.0.207\n", None)
    assert isinstance(old, Package) and old.version == "11.0.207"
    # Version files elsewhere are read (small ones) but only one that says CUDA and sits beside bin/nvcc counts
    assert run_analyzer(a, "usr/local/lib/version.json", b'{"version": "1.2.3"}', None) == []
    assert not a.required("usr/local/lib/version.json", 100 * 1024)
    assert not a.required("usr/lib/python3/dist-packages/x/version.json", 100)
    facts = inventory({"usr/local/cuda-12.4/doc/version.json": CUDA_VERSION_JSON})
    assert not [p for p in packages(facts) if p.name == "cuda"]


def test_cudnn_and_nccl_headers() -> None:
    a = MLStackAnalyzer()
    assert a.required("usr/include/x86_64-linux-gnu/cudnn_version_v9.h", len(CUDNN_H))
    [cudnn] = run_analyzer(a, "usr/include/x86_64-linux-gnu/cudnn_version_v9.h", CUDNN_H, None)
    assert isinstance(cudnn, Package) and (cudnn.name, cudnn.version) == ("cudnn", "9.1.0")
    assert a.required("usr/include/nccl.h", len(NCCL_H))
    [nccl] = run_analyzer(a, "usr/include/nccl.h", NCCL_H, None)
    assert isinstance(nccl, Package) and (nccl.name, nccl.version) == ("nccl", "2.21.5")
    assert run_analyzer(a, "usr/include/nccl.h", b"#define NCCL_MAJOR x\n", None) == []
    assert not a.required("usr/include/cudnn.h", 100) and not a.required("usr/include/stdio.h", 100)


def test_torch_build_lands_on_its_pypi_package() -> None:
    facts = inventory(
        {
            f"{SITE}/torch/version.py": TORCH_VERSION_PY,
            f"{SITE}/torch-2.3.0+cu121.dist-info/METADATA": b"Name: torch\nVersion: 2.3.0+cu121\n",
            f"{SITE}/jaxlib-0.4.26+cuda12.cudnn89.dist-info/METADATA": b"Name: jaxlib\nVersion: 0.4.26+cuda12.cudnn89\n",
            f"{SITE}/tensorflow/python/platform/build_info.py": TF_BUILD_INFO,
            f"{SITE}/tensorflow-2.16.1.dist-info/METADATA": b"Name: tensorflow\nVersion: 2.16.1\n",
        }
    )
    by_name = {p.name: p for p in packages(facts, "PyPI")}
    torch = extra(by_name["torch"])
    assert torch["cuda"] == "12.1" and torch["accelerator"] == "cuda"
    assert torch["git_version"] == "97ff6cfd9c86c5c09d7ce775ab64ec5c99230f5d"
    assert extra(by_name["jaxlib"]) == {"accelerator": "cuda", "cuda": "12", "cudnn": "8.9"}
    assert extra(by_name["tensorflow"]) == {"cuda": "12.3", "cudnn": "8", "accelerator": "cuda"}
    assert not [p for p in packages(facts) if p.origin == "ml-stack"]


def test_framework_without_pypi_record_becomes_a_generic_package() -> None:
    facts = inventory({"opt/pytorch/torch/version.py": TORCH_VERSION_PY})
    [pkg] = packages(facts)
    assert (pkg.name, pkg.version, pkg.purl) == ("torch", "2.3.0+cu121", "pkg:generic/pytorch/torch@2.3.0%2Bcu121")


def test_library_names_and_dedup() -> None:
    facts, files = analyze_files(
        {
            "usr/local/cuda-12.4/version.json": CUDA_VERSION_JSON,
            "usr/local/cuda/version.json": CUDA_VERSION_JSON,
            "usr/include/cudnn_version.h": CUDNN_H,
        },
        "sha256:a",
    )
    files |= {
        "usr/lib/x86_64-linux-gnu/libcudnn.so.9.1.0": "sha256:b",
        "usr/lib/x86_64-linux-gnu/libcudnn.so.9": "sha256:b",
        "usr/lib/x86_64-linux-gnu/libnccl.so.2.21.5": "sha256:c",
        "opt/conda/lib/libnccl.so.2.18.3": "sha256:d",
        "usr/lib/libcudnn.so.9.1.0.bak": "sha256:e",
    }
    pkgs = sorted((p.name, p.version, p.layer) for p in packages(finalize(facts, files)))
    assert pkgs == [
        ("cuda", "12.4.1", "sha256:a"),
        ("cudnn", "9.1.0", "sha256:a"),
        ("nccl", "2.18.3", "sha256:d"),
        ("nccl", "2.21.5", "sha256:c"),
    ]


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("2.3.0+cu121", {"accelerator": "cuda", "cuda": "12.1"}),
        ("1.13.1+cu117", {"accelerator": "cuda", "cuda": "11.7"}),
        ("2.3.0+cpu", {"accelerator": "cpu"}),
        ("2.3.0+rocm6.0", {"accelerator": "rocm", "rocm": "6.0"}),
        ("0.4.26+cuda12.cudnn89", {"accelerator": "cuda", "cuda": "12", "cudnn": "8.9"}),
        ("2.3.0", {}),
        ("1.0+local.build", {}),
    ],
)
def test_local_version_labels(version: str, expected: dict[str, str]) -> None:
    assert local_build(version) == expected


def test_python_files_are_parsed_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    hostile = f"import os\nos.system('touch {marker}')\n__version__ = __import__('os').getcwd()\ncuda = '1' * 10\n"
    assert module_constants(hostile) == {}
    assert run_analyzer(MLStackAnalyzer(), "x/torch/version.py", hostile.encode(), None) == []
    assert not marker.exists()
    assert module_constants("x = (" * 100000) == {}


def test_real_torch_if_installed() -> None:
    import importlib.util

    spec = importlib.util.find_spec("torch")
    if spec is None or not spec.origin:
        pytest.skip("torch not installed")
    version_py = Path(spec.origin).parent / "version.py"
    [build] = run_analyzer(MLStackAnalyzer(), str(version_py).lstrip("/"), version_py.read_bytes(), None)
    assert isinstance(build, FrameworkBuild) and build.framework == "torch"


@settings(deadline=None)
@given(st.binary(max_size=2000))
def test_fuzz(content: bytes) -> None:
    a = MLStackAnalyzer()
    for path in (
        "usr/local/cuda/version.json",
        "usr/local/cuda/version.txt",
        "usr/include/nccl.h",
        "usr/include/cudnn_version.h",
        "x/torch/version.py",
        "x/tensorflow/python/platform/build_info.py",
    ):
        assert all(isinstance(f, Package | FrameworkBuild) for f in run_analyzer(a, path, content, None))
