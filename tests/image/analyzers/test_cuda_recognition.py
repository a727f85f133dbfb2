"""The CUDA toolkit is recognised from `cuda.h` (CUDA_VERSION), `libcudart.so.X.Y.Z` names and `bin/nvcc`
beside a version source, not only `usr/local/cuda*/version.json`; one record per CUDA release."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from inventory_harness import inventory, packages, run_analyzer

from shareguard.core.facts import Package
from shareguard.image.analyzer import PathHint
from shareguard.image.analyzers.ml_stack import MLStackAnalyzer, cuda_header, toolkit_root

# the lines of CUDA 12.4's cuda.h around the define (the real header is ~1 MB of declarations)
CUDA_H = b"""/*
 * Copyright 1993-2023 NVIDIA Corporation.  All rights reserved.
 */
#ifndef __cuda_cuda_h__
#define __cuda_cuda_h__

#include <stdlib.h>
/**
 * CUDA API version number
 */
#define CUDA_VERSION 12040

#ifdef __cplusplus
extern "C" {
#endif
"""
VERSION_JSON = b'{"cuda": {"name": "CUDA SDK", "version": "12.4.1"}, "cuda_cudart": {"version": "12.4.127"}}'


def _cuda(files: dict[str, bytes]) -> list[Package]:
    return [p for p in packages(inventory(files, "sha256:l")) if p.name == "cuda"]


def _x(p: Package) -> dict[str, str]:
    return dict(p.extra)


def test_cuda_h_alone() -> None:
    for path, root in (
        ("usr/local/cuda-12.4/targets/x86_64-linux/include/cuda.h", "usr/local/cuda-12.4"),
        ("usr/include/cuda.h", "usr"),  # Debian/Ubuntu's nvidia-cuda-dev
        ("opt/conda/targets/sbsa-linux/include/cuda.h", "opt/conda"),
    ):
        [cuda] = _cuda({path: CUDA_H})
        assert (cuda.version, cuda.ecosystem, cuda.purl) == ("12.4", "generic", "pkg:generic/nvidia/cuda@12.4")
        assert _x(cuda)["detected_from"] == "cuda.h" and _x(cuda)["toolkit_root"] == root == toolkit_root(path)
    [old] = cuda_header("usr/include/cuda.h", b"#define CUDA_VERSION 11080\n", None)
    assert isinstance(old, Package) and old.version == "11.8"


def test_bundled_copies_of_cuda_h_are_not_a_toolkit() -> None:
    a = MLStackAnalyzer()
    for path in (
        "usr/local/lib/python3.11/site-packages/triton/backends/nvidia/include/cuda.h",
        "opt/venv/lib/python3.11/site-packages/nvidia/cuda_runtime/include/cuda.h",
        "usr/lib/node_modules/x/include/cuda.h",
    ):
        assert not a.required(path, len(CUDA_H))
    # over the header budget: wanted whatever its size, and reported over `max_bytes` instead of read (#14)
    assert a.required("usr/local/cuda/include/cuda.h", 5 * 1024 * 1024)
    assert a.max_bytes("usr/local/cuda/include/cuda.h") == 4 * 1024 * 1024


def test_libcudart_name() -> None:
    [cuda] = _cuda({"opt/conda/lib/libcudart.so.12.4.127": b"\x7fELF"})
    assert cuda.version == "12.4.127" and _x(cuda)["detected_from"] == "libcudart"
    # two-part sonames are ambiguous; a wheel's bundled runtime is its PyPI package's
    assert _cuda({"usr/lib/libcudart.so.12": b""}) == []
    assert _cuda({"usr/local/lib/python3.11/site-packages/nvidia/cuda_runtime/lib/libcudart.so.12.4.127": b""}) == []


def test_nvcc_with_a_version_file_beside_it() -> None:
    files = {"opt/nvidia/hpc/cuda/bin/nvcc": b"\x7fELF", "opt/nvidia/hpc/cuda/version.json": VERSION_JSON}
    [cuda] = _cuda(files)
    assert cuda.version == "12.4.1" and _x(cuda)["nvcc"] == "opt/nvidia/hpc/cuda/bin/nvcc"
    assert "needs_nvcc" not in _x(cuda)
    # the same version file without the compiler beside it is just a file named version.json
    assert _cuda({"opt/nvidia/hpc/cuda/version.json": VERSION_JSON}) == []
    assert _cuda({"opt/other/bin/nvcc": b"", "opt/nvidia/hpc/cuda/version.txt": b"CUDA Version 12.4.1\n"}) == []
    [txt] = _cuda({"opt/cuda/bin/nvcc": b"", "opt/cuda/version.txt": b"CUDA Version 11.8.89\n"})
    assert txt.version == "11.8.89" and _x(txt)["detected_from"] == "version.txt"


def test_one_record_per_release_the_most_precise_source_first() -> None:
    files = {
        "usr/local/cuda-12.4/version.json": VERSION_JSON,
        "usr/local/cuda-12.4/bin/nvcc": b"",
        "usr/local/cuda-12.4/targets/x86_64-linux/include/cuda.h": CUDA_H,
        "usr/local/cuda-12.4/targets/x86_64-linux/lib/libcudart.so.12.4.127": b"",
        "usr/local/cuda/version.json": VERSION_JSON,  # the usual symlinked copy
        "opt/conda/lib/libcudart.so.11.8.89": b"",  # another release: its own record
    }
    records = {p.version: p for p in _cuda(files)}
    assert set(records) == {"12.4.1", "11.8.89"}
    best = _x(records["12.4.1"])
    assert best["detected_from"].split(",")[0] == "version.json" and "cuda.h" in best["detected_from"]
    assert best["cudart"] == "12.4.127" and best["nvcc"] == "usr/local/cuda-12.4/bin/nvcc"


def test_hostile_cuda_inputs_are_bounded_and_never_crash() -> None:
    a = MLStackAnalyzer()
    for content in (
        b"#define CUDA_VERSION " + b"9" * 10_000,
        b"#define CUDA_VERSION 12",
        b"#define CUDA_VERSION -1\n#define CUDA_VERSION 0x3000",
        b"\xff\xfe" * 1000,
        b"#" * 100_000,
    ):
        assert run_analyzer(a, "usr/include/cuda.h", content, None) == []
    for content in (b"[" * 100_000, b'{"cuda": {"version": 12}}', b'{"cuda": "x"}', b"CUDA Version", b"\x00" * 10):
        assert run_analyzer(a, "opt/cuda/version.json", content, None) == []
        assert run_analyzer(a, "opt/cuda/version.txt", content, None) == []
    assert not a.required("opt/cuda/version.json", 64 * 1024 + 1)


WORDS = ["usr", "local", "cuda", "cuda-12.4", "include", "cuda.h", "targets", "x86_64-linux", "bin", "nvcc",
         "version.json", "version.txt", "site-packages", "node_modules", "lib", "libcudart.so.12.4.127", "opt"]  # fmt: skip


@settings(max_examples=1000, deadline=None)
@given(path=st.lists(st.sampled_from(WORDS), min_size=1, max_size=7).map("/".join), size=st.sampled_from([0, 100]))
def test_the_hint_never_hides_a_cuda_path(path: str, size: int) -> None:
    a = MLStackAnalyzer()
    hint = a.path_hint
    assert isinstance(hint, PathHint)
    if a.required(path, size):
        assert hint.admits(path)
