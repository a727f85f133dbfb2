"""Every analyzer on garbage: returns facts or raises a ShareguardError (a per-file error), nothing else."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from inventory_harness import run_analyzer

from shareguard.core.errors import ShareguardError
from shareguard.core.facts import Fact
from shareguard.image.plugin import inventory_analyzers

CLAIMED = [
    "etc/os-release",
    "etc/alpine-release",
    "etc/debian_version",
    "var/lib/dpkg/status",
    "var/lib/dpkg/status.d/libc6",
    "var/lib/dpkg/info/libc6:amd64.list",
    "etc/apt/sources.list",
    "var/lib/rpm/rpmdb.sqlite",
    "var/lib/rpm/Packages",
    "lib/apk/db/installed",
    "usr/lib/python3/dist-packages/x-1.dist-info/METADATA",
    "usr/lib/python3/dist-packages/x-1.dist-info/INSTALLER",
    "usr/lib/python3/dist-packages/x-1.egg-info",
    "opt/conda/conda-meta/x-1-0.json",
    "node_modules/x/package.json",
    "usr/local/cuda-12.4/version.json",
    "usr/local/cuda-11.0/version.txt",
    "usr/include/cudnn_version.h",
    "usr/include/nccl.h",
    "site/torch/version.py",
    "site/tensorflow/python/platform/build_info.py",
]


def _run(path: str, content: bytes) -> None:
    claimed = False
    for analyzer in inventory_analyzers():
        if not analyzer.required(path, len(content)):
            continue
        claimed = True
        try:
            facts = run_analyzer(analyzer, path, content, "sha256:fuzz")
        except ShareguardError:
            continue
        assert isinstance(facts, list) and all(isinstance(f, Fact) for f in facts)
    assert claimed, path


def test_every_claimed_path_is_claimed() -> None:
    for path in CLAIMED:
        _run(path, b"")


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(CLAIMED), st.binary(max_size=4096))
def test_random_bytes(path: str, content: bytes) -> None:
    _run(path, content)


REAL = [Path("/var/lib/dpkg/status"), Path("/etc/os-release")]


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=0, max_value=2**20), st.integers(min_value=0, max_value=255))
def test_truncated_and_flipped_real_files(cut: int, flip: int) -> None:
    for real, path in zip(REAL, ("var/lib/dpkg/status", "etc/os-release"), strict=True):
        if not real.exists():
            continue
        data = bytearray(real.read_bytes()[: cut % 200_000])
        if data:
            data[flip % len(data)] ^= 0xFF
        _run(path, bytes(data))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "Package: ",
                "Version: ",
                "Status: ",
                "\n",
                "\n ",
                " P",
                "1",
                "\r",
                "\x0b",
                "\x0c",
                "\x1c",
                "\x1e",
                "\x85",
                "\u2028",
            ]
        ),
        max_size=30,
    )
)
def test_dpkg_stray_line_breaks(parts: list[str]) -> None:
    """Characters `str.splitlines` breaks at but dpkg does not once made python-debian raise a ValueError."""
    _run("var/lib/dpkg/status", "".join(parts).encode())


def test_dpkg_vertical_tab_in_continuation() -> None:
    # Found by fuzzing: `Package: \n P\x0b P` raised "value must not have blank lines".
    _run("var/lib/dpkg/status", b"Package: \n P\x0b P")
    facts = run_analyzer(
        next(a for a in inventory_analyzers() if a.required("var/lib/dpkg/status", 1)),
        "var/lib/dpkg/status",
        b"Package: a\r\nStatus: install ok installed\r\nVersion: 1\x0b2\r\n",
        "sha256:x",
    )
    assert [getattr(f, "version", None) for f in facts] == ["1 2"]
