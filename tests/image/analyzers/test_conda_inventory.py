from __future__ import annotations

import json

import pytest
from inventory_harness import extra, inventory, packages, run_analyzer

from shareguard.core.errors import ParseError
from shareguard.core.facts import Package
from shareguard.image.analyzers.conda import CondaAnalyzer, channel_name


def _record(name: str, version: str, build: str, channel: str, files: list[str], **more: object) -> bytes:
    """The shape conda writes to `conda-meta/<name>-<version>-<build>.json` (a PrefixRecord)."""
    subdir = str(more.pop("subdir", "linux-64"))
    fn = f"{name}-{version}-{build}.conda"
    doc = {
        "build": build,
        "build_number": 0,
        "channel": f"{channel}/{subdir}",
        "constrains": [],
        "depends": ["python >=3.11,<3.12.0a0", "libgcc-ng >=12"],
        "extracted_package_dir": f"/opt/conda/pkgs/{name}-{version}-{build}",
        "features": "",
        "files": files,
        "fn": fn,
        "license": more.pop("license", "BSD-3-Clause"),
        "link": {"source": f"/opt/conda/pkgs/{name}-{version}-{build}", "type": 1},
        "md5": "5fa6a5d5de1e2e5b2ba1e3aa5c4ea4e0",
        "name": name,
        "package_tarball_full_path": f"/opt/conda/pkgs/{fn}",
        "paths_data": {
            "paths": [{"_path": f, "path_type": "hardlink", "size_in_bytes": 10} for f in files],
            "paths_version": 1,
        },
        "requested_spec": name,
        "sha256": "0" * 64,
        "size": 123456,
        "subdir": subdir,
        "timestamp": 1707225600000,
        "url": f"{channel}/{subdir}/{fn}",
        "version": version,
        **more,
    }
    return json.dumps(doc, indent=1).encode()


NUMPY = _record(
    "numpy",
    "1.26.4",
    "py311h64a7726_0",
    "https://conda.anaconda.org/conda-forge",
    [
        "bin/f2py",
        "lib/python3.11/site-packages/numpy-1.26.4.dist-info/INSTALLER",
        "lib/python3.11/site-packages/numpy-1.26.4.dist-info/METADATA",
        "lib/python3.11/site-packages/numpy/__init__.py",
    ],
)
PYTORCH = _record(
    "pytorch",
    "2.3.0",
    "py3.11_cuda12.1_cudnn8.9.2_0",
    "https://conda.anaconda.org/pytorch",
    ["lib/python3.11/site-packages/torch/__init__.py"],  # records without the dist-info use the name map
)
OPENSSL = _record("openssl", "3.2.1", "hd590300_0", "https://conda.anaconda.org/conda-forge", ["lib/libssl.so.3"])


def test_conda_env_with_pip_metadata_is_matched_once() -> None:
    env = "opt/conda/envs/train"
    facts = inventory(
        {
            f"{env}/conda-meta/numpy-1.26.4-py311h64a7726_0.json": NUMPY,
            f"{env}/conda-meta/pytorch-2.3.0-py3.11_cuda12.1_cudnn8.9.2_0.json": PYTORCH,
            f"{env}/conda-meta/openssl-3.2.1-hd590300_0.json": OPENSSL,
            f"{env}/conda-meta/history": b"==> 2024-02-06 <==\n",
            f"{env}/lib/python3.11/site-packages/numpy-1.26.4.dist-info/METADATA": b"Name: numpy\nVersion: 1.26.4\n",
            f"{env}/lib/python3.11/site-packages/numpy-1.26.4.dist-info/INSTALLER": b"conda\n",
        },
        "sha256:env",
    )
    conda = {p.name: p for p in packages(facts, "conda")}
    assert set(conda) == {"numpy", "pytorch", "openssl"}
    numpy = conda["numpy"]
    assert extra(numpy)["channel"] == "conda-forge" and extra(numpy)["env"] == env
    assert numpy.purl == "pkg:conda/numpy@1.26.4?build=py311h64a7726_0&channel=conda-forge&subdir=linux-64"
    # numpy's PyPI record exists: the conda record points at it and does not carry pypi_name (no double match)
    assert "pypi_name" not in extra(numpy) and extra(numpy)["pypi_project"] == "numpy"
    assert extra(numpy)["pypi_path"].endswith("numpy-1.26.4.dist-info/METADATA")
    [pypi_numpy] = packages(facts, "PyPI")
    assert extra(pypi_numpy)["installer"] == "conda" and extra(pypi_numpy)["conda_package"] == "numpy"
    # pytorch has no PyPI record here: matched through the name map
    assert extra(conda["pytorch"])["pypi_name"] == "torch" and conda["pytorch"].layer == "sha256:env"
    assert "pypi_name" not in extra(conda["openssl"])


def test_channel_names() -> None:
    assert (
        channel_name({"channel": "https://conda.anaconda.org/conda-forge/linux-64", "subdir": "linux-64"})
        == "conda-forge"
    )
    assert channel_name({"channel": "https://repo.anaconda.com/pkgs/main/noarch", "subdir": "noarch"}) == "pkgs/main"
    assert channel_name({"channel": "defaults"}) == "defaults"
    assert (
        channel_name({"url": "https://conda.anaconda.org/t/tk-123/nvidia/linux-64/cuda-12.conda", "subdir": "linux-64"})
        == "nvidia"
    )
    assert channel_name({}) is None


def test_required() -> None:
    a = CondaAnalyzer()
    assert a.required("opt/conda/conda-meta/numpy-1.26.4-py311h64a7726_0.json", 5000)
    assert a.required("root/miniconda3/envs/x/conda-meta/a-1-0.json", 5000)
    assert not a.required("opt/conda/conda-meta/history", 5000)
    assert not a.required("opt/conda/conda-meta/sub/a.json", 5000)
    assert not a.required("opt/conda/pkgs/numpy/info/index.json", 5000)


def test_bad_json() -> None:
    a = CondaAnalyzer()
    with pytest.raises(ParseError):
        run_analyzer(a, "opt/conda/conda-meta/x.json", b"{not json", None)
    with pytest.raises(ParseError):
        run_analyzer(a, "opt/conda/conda-meta/x.json", b"[" * 200000, None)
    assert run_analyzer(a, "opt/conda/conda-meta/x.json", b'["a"]', None) == []
    assert run_analyzer(a, "opt/conda/conda-meta/x.json", b'{"name": "x"}', None) == []
    [pkg] = run_analyzer(a, "opt/conda/conda-meta/x.json", b'{"name": "x", "version": "1", "files": [1, null]}', None)
    assert isinstance(pkg, Package)


def test_metapackage_beside_its_pypi_record_is_not_matched_twice() -> None:
    env = "opt/conda"
    tf_meta = _record("tensorflow", "2.15.0", "cuda120py311hd3d3f7a_3", "https://conda.anaconda.org/conda-forge", [])
    tf_base = _record(
        "tensorflow-base",
        "2.15.0",
        "cuda120py311h1b6a8d6_3",
        "https://conda.anaconda.org/conda-forge",
        ["lib/python3.11/site-packages/tensorflow-2.15.0.dist-info/METADATA"],
    )
    facts = inventory(
        {
            f"{env}/conda-meta/tensorflow-2.15.0-cuda120py311hd3d3f7a_3.json": tf_meta,
            f"{env}/conda-meta/tensorflow-base-2.15.0-cuda120py311h1b6a8d6_3.json": tf_base,
            f"{env}/lib/python3.11/site-packages/tensorflow-2.15.0.dist-info/METADATA": b"Name: tensorflow\nVersion: 2.15.0\n",
            # another environment's PyPI record does not cover the base environment's conda package
            "opt/conda/envs/other/conda-meta/pyyaml-6.0.1-py311_0.json": _record(
                "pyyaml", "6.0.1", "py311_0", "https://conda.anaconda.org/conda-forge", []
            ),
            f"{env}/lib/python3.11/site-packages/PyYAML-6.0.1.dist-info/METADATA": b"Name: PyYAML\nVersion: 6.0.1\n",
        }
    )
    conda = {p.name: extra(p) for p in packages(facts, "conda")}
    matched_via_pypi = [n for n, e in conda.items() if "pypi_name" in e]
    assert matched_via_pypi == ["pyyaml"]
    assert (
        conda["tensorflow"]["pypi_project"] == "tensorflow" and conda["tensorflow-base"]["pypi_project"] == "tensorflow"
    )
