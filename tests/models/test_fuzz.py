"""Property tests: random and mutated input never crashes a reader and always terminates."""

from __future__ import annotations

import contextlib
import io
import pickle
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shareguard.core.settings import Settings
from shareguard.models.formats.blob import Budget
from shareguard.models.formats.env import Env
from shareguard.models.formats.pickle_walker import walk_stream
from shareguard.models.formats.stream import ChunkedReader
from shareguard.models.inspect import inspect_stream
from shareguard.models.sink import FindingSink, Where

SEEDS = [pickle.dumps({"a": [1, 2, (3, "x")], "b": b"y" * 300}, protocol=p) for p in range(6)] + [
    b"\x80\x04\x8c\x02os\x94\x8c\x06system\x94\x93\x8c\x02id\x85R."
]


def _inspect(data: bytes, name: str) -> None:
    sink = FindingSink("test")
    env = Env(Settings(cache_dir=Path(tempfile.gettempdir())), sink, Budget(64 * 1024 * 1024), inspect_stream)
    inspect_stream(env, Where(name), io.BytesIO(data), len(data), name)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2048))
def test_walker_random_bytes(data: bytes) -> None:
    walk_stream(ChunkedReader(io.BytesIO(data), chunk=64))


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(SEEDS), st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=8))
def test_walker_mutated_pickles(seed: bytes, edits: list[tuple[int, int]]) -> None:
    data = bytearray(seed)
    for pos, val in edits:
        data[pos % len(data)] = val
    res = walk_stream(ChunkedReader(io.BytesIO(bytes(data))))
    assert res.error is None or res.error_offset is not None


def _zip_seed() -> bytes:
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("archive/data.pkl", SEEDS[2])
        zf.writestr("archive/data/0", b"\x00" * 64)
        zf.writestr("archive/version", b"3\n")
    return buf.getvalue()


ZIP_SEED = _zip_seed()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 100_000), st.integers(0, 255)), min_size=1, max_size=6))
def test_dispatcher_mutated_zip(edits: list[tuple[int, int]]) -> None:
    from shareguard.core.errors import ShareguardError
    from shareguard.models.formats.blob import CorruptData

    data = bytearray(ZIP_SEED)
    for pos, val in edits:
        data[pos % len(data)] = val
    with contextlib.suppress(ShareguardError, CorruptData):
        _inspect(bytes(data), "model.pt")


PREFIXES = [
    b"",
    b"PK\x03\x04",
    b"\x1f\x8b",
    b"\x93NUMPY\x01\x00",
    b"GGUF\x03\x00\x00\x00",
    b"\x08\x07",
    b"\x89HDF\r\n\x1a\n",
]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(PREFIXES),
    st.binary(max_size=1024),
    st.sampled_from(["x.pkl", "m.onnx", "m.safetensors", "saved_model.pb", "x.bin", "a.npy"]),
)
def test_dispatcher_random_bytes(prefix: bytes, body: bytes, name: str) -> None:
    from shareguard.core.errors import ShareguardError
    from shareguard.models.formats.blob import CorruptData

    with contextlib.suppress(ShareguardError, CorruptData):
        _inspect(prefix + body, name)


_GRAPH_SEED = (
    b"\x0a\x13\x0a\x02n0\x12\x0bPlaceholder\x1a\x02n0\x0a\x10\x0a\x02n1\x12\x08ReadFile\x1a\x02n0\x22\x03\x08\xf3\x0a"
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=6), st.integers(0, 60))
def test_frozen_graph_mutated(edits: list[tuple[int, int]], cut: int) -> None:
    data = bytearray(_GRAPH_SEED)
    for pos, val in edits:
        data[pos % len(data)] = val
    _inspect(bytes(data[: max(1, len(data) - cut)]), "frozen.pb")
