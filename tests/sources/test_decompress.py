"""Layer decompression by magic: gzip/zstd in-process, on a worker thread or through `zstd`; plain tar."""

from __future__ import annotations

import gzip
import io

import pytest
import zstandard

from shareguard.sources.image.decompress import DecompressError, decompressed, external_tool

PAYLOAD = b"".join(b"line %d of a layer\n" % i for i in range(50_000))


def _read(blob: bytes, parallel: bool) -> tuple[str, bytes]:
    out = bytearray()
    buf = memoryview(bytearray(65536))
    with decompressed(io.BytesIO(blob), parallel=parallel) as (kind, reader):
        while True:
            k = reader.readinto(buf)  # type: ignore[attr-defined]
            if not k:
                break
            out += buf[:k]
    return kind, bytes(out)


MODES = [False, pytest.param(True, id="parallel")]


@pytest.mark.parametrize("parallel", MODES)
def test_gzip(parallel: bool) -> None:
    assert _read(gzip.compress(PAYLOAD), parallel) == ("gzip", PAYLOAD)


@pytest.mark.parametrize("parallel", MODES)
def test_multi_member_gzip(parallel: bool) -> None:
    blob = gzip.compress(PAYLOAD[:1000]) + gzip.compress(PAYLOAD[1000:])
    assert _read(blob, parallel) == ("gzip", PAYLOAD)


@pytest.mark.parametrize("parallel", MODES)
def test_zstd(parallel: bool) -> None:
    assert _read(zstandard.ZstdCompressor().compress(PAYLOAD), parallel) == ("zstd", PAYLOAD)


def test_plain_tar_passes_through() -> None:
    assert _read(PAYLOAD, False) == ("tar", PAYLOAD)


@pytest.mark.parametrize("parallel", MODES)
def test_truncated_gzip(parallel: bool) -> None:
    blob = gzip.compress(PAYLOAD)
    with pytest.raises(DecompressError):
        _read(blob[: len(blob) // 2], parallel)


@pytest.mark.parametrize("parallel", MODES)
def test_corrupt_gzip(parallel: bool) -> None:
    blob = bytearray(gzip.compress(PAYLOAD))
    for i in range(200, 260):
        blob[i] ^= 0x5A
    with pytest.raises(DecompressError):
        _read(bytes(blob), parallel)


@pytest.mark.parametrize("parallel", MODES)
def test_corrupt_zstd(parallel: bool) -> None:
    blob = bytearray(zstandard.ZstdCompressor().compress(PAYLOAD))
    for i in range(20, 80):
        blob[i] ^= 0x5A
    with pytest.raises(DecompressError):
        _read(bytes(blob), parallel)


def test_trailing_garbage_after_gzip_in_process() -> None:
    with pytest.raises(DecompressError, match="garbage"):
        _read(gzip.compress(PAYLOAD) + b"not gzip", False)


def test_unsupported_compression() -> None:
    import bz2

    with pytest.raises(DecompressError, match="bzip2"):
        _read(bz2.compress(PAYLOAD), False)


def test_external_tools() -> None:
    assert external_tool("gzip") is None  # a zlib thread is cheaper than pigz
    argv = external_tool("zstd")
    if argv is None:
        pytest.skip("zstd is not installed")
    assert "-dc" in argv


@pytest.mark.parametrize("corrupt", [False, True])
def test_threaded_zstd_without_the_tool(monkeypatch: pytest.MonkeyPatch, corrupt: bool) -> None:
    import shareguard.sources.image.decompress as mod

    monkeypatch.setattr(mod, "external_tool", lambda kind: None)
    blob = bytearray(zstandard.ZstdCompressor().compress(PAYLOAD))
    if not corrupt:
        assert _read(bytes(blob), True) == ("zstd", PAYLOAD)
        return
    for i in range(20, 80):
        blob[i] ^= 0x5A
    with pytest.raises(DecompressError):
        _read(bytes(blob), True)


@pytest.mark.parametrize("kind", ["gzip", "zstd"])
def test_stopping_early_does_not_hang(kind: str) -> None:
    big = PAYLOAD * 40
    blob = gzip.compress(big) if kind == "gzip" else zstandard.ZstdCompressor().compress(big)
    buf = memoryview(bytearray(1024))
    with decompressed(io.BytesIO(blob), parallel=True) as (_, reader):
        assert reader.readinto(buf) > 0  # type: ignore[attr-defined]
    # leaving the block stops the worker (thread or process) without reading the rest
