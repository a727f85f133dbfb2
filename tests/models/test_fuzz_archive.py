"""Fuzz target (issue #14): tar archives of model files (plain, gzip, bzip2, xz; a zip and a tar nested
inside) through the model inspector, mutated from valid archives. Zip archives and the pickle walker have
their fuzz targets in `test_fuzz.py`.

Property: inspecting returns (findings in the sink, each with rule, duties and severity) or raises a
`ShareguardError` / `CorruptData`, never another exception; truncating a plain tar anywhere after its
first member never loses that member's critical finding (a truncated stream is a gap, with every member
before it analysed)."""

from __future__ import annotations

import contextlib
import io
import tarfile
import tempfile
import zipfile
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from shareguard.core.errors import ShareguardError
from shareguard.core.finding import Finding
from shareguard.core.settings import Settings
from shareguard.models.formats.blob import Budget, CorruptData
from shareguard.models.formats.env import Env
from shareguard.models.inspect import inspect_stream
from shareguard.models.sink import FindingSink, Where

FUZZ = settings(max_examples=100, deadline=10_000, suppress_health_check=[HealthCheck.too_slow])
EVIL = b"\x80\x04\x8c\x02os\x94\x8c\x06system\x94\x93\x8c\x02id\x85R."
BENIGN = b"\x80\x04\x95\x0b\x00\x00\x00\x00\x00\x00\x00}\x94\x8c\x01a\x94K\x01s."


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("archive/data.pkl", BENIGN)
        zf.writestr("archive/version", b"3\n")
    return buf.getvalue()


def _tar(mode: str, members: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tf:  # type: ignore[call-overload]
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return bytes(buf.getvalue())


MEMBERS = [
    ("evil.pkl", EVIL),
    ("model/weights.pt", _zip()),
    ("inner.tar", _tar("w", [("x.pkl", BENIGN), ("y.joblib", BENIGN)])),
    ("README.md", b"# model\n"),
]
SEEDS = {
    "model.tar": _tar("w", MEMBERS),
    "model.tar.gz": _tar("w:gz", MEMBERS),
    "model.tar.bz2": _tar("w:bz2", MEMBERS),
    "model.tar.xz": _tar("w:xz", MEMBERS),
}


def _inspect(data: bytes, name: str) -> list[Finding]:
    sink = FindingSink("test")
    env = Env(Settings(cache_dir=Path(tempfile.gettempdir())), sink, Budget(64 * 1024 * 1024), inspect_stream)
    with contextlib.suppress(ShareguardError, CorruptData):
        inspect_stream(env, Where(name), io.BytesIO(data), len(data), name)
    findings = [f for _rank, _seq, f in sink.kept]
    for f in findings:
        assert isinstance(f, Finding) and f.rule_id and f.control_ids and f.severity
    for where, reason in sink.gaps:
        assert isinstance(where, Where) and isinstance(reason, str)
    return findings


def _critical(findings: list[Finding]) -> bool:
    return any(f.severity.value == "critical" for f in findings)


def test_seeds_find_the_evil_member() -> None:
    for name, data in SEEDS.items():
        assert _critical(_inspect(data, name)), name


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, bytes]:
    name = draw(st.sampled_from(sorted(SEEDS)))
    data = bytearray(SEEDS[name])
    for _ in range(draw(st.integers(1, 5))):
        op = draw(st.sampled_from(["flip", "digits", "insert", "delete", "truncate"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[pos] ^= draw(st.integers(1, 255))
        elif op == "digits":
            data[pos : pos + 12] = draw(st.sampled_from([b"77777777777\0", b"\xff" * 12, b"\x80" + b"\xff" * 11]))
        elif op == "insert":
            data[pos:pos] = draw(st.binary(max_size=300))
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 512))]
        else:
            del data[pos:]
    return name, bytes(data)


@FUZZ
@given(mutated())
@example(("model.tar.gz", SEEDS["model.tar.gz"][:-30]))
@example(("model.tar", SEEDS["model.tar"][:512] + b"\xff" * 1024))
def test_tar_archives_mutated(case: tuple[str, bytes]) -> None:
    _inspect(case[1], case[0])


FIRST_END = 512 + 512 * ((len(EVIL) + 511) // 512)


@settings(max_examples=25, deadline=10_000)
@given(st.integers(FIRST_END, len(SEEDS["model.tar"]) - 1), st.binary(max_size=64))
def test_truncated_tar_keeps_the_first_members_finding(cut: int, tail: bytes) -> None:
    assert _critical(_inspect(SEEDS["model.tar"][:cut] + tail, "model.tar"))
