"""Layer decompression by magic: gzip/zstd through the external tools and in-process, plain tar."""

from __future__ import annotations

import gzip
import io

import pytest
import zstandard

from shareguard.sources.image.decompress import DecompressError, decompressed, external_tool

PAYLOAD = b"".join(b"line %d of a layer\n" % i for i in range(50_000))


def _read(blob: bytes, external: bool) -> tuple[str, bytes]:
    out = bytearray()
    buf = memoryview(bytearray(65536))
    with decompressed(io.BytesIO(blob), external=external) as (kind, reader):
        while True:
            k = reader.readinto(buf)  # type: ignore[attr-defined]
            if not k:
                break
            out += buf[:k]
    return kind, bytes(out)


MODES = [False, pytest.param(True, id="external")]


@pytest.mark.parametrize("external", MODES)
def test_gzip(external: bool) -> None:
    assert _read(gzip.compress(PAYLOAD), external) == ("gzip", PAYLOAD)


@pytest.mark.parametrize("external", MODES)
def test_multi_member_gzip(external: bool) -> None:
    blob = gzip.compress(PAYLOAD[:1000]) + gzip.compress(PAYLOAD[1000:])
    assert _read(blob, external) == ("gzip", PAYLOAD)


@pytest.mark.parametrize("external", MODES)
def test_zstd(external: bool) -> None:
    assert _read(zstandard.ZstdCompressor().compress(PAYLOAD), external) == ("zstd", PAYLOAD)


def test_plain_tar_passes_through() -> None:
    assert _read(PAYLOAD, False) == ("tar", PAYLOAD)


@pytest.mark.parametrize("external", MODES)
def test_truncated_gzip(external: bool) -> None:
    blob = gzip.compress(PAYLOAD)
    with pytest.raises(DecompressError):
        _read(blob[: len(blob) // 2], external)


@pytest.mark.parametrize("external", MODES)
def test_corrupt_gzip(external: bool) -> None:
    blob = bytearray(gzip.compress(PAYLOAD))
    for i in range(200, 260):
        blob[i] ^= 0x5A
    with pytest.raises(DecompressError):
        _read(bytes(blob), external)


@pytest.mark.parametrize("external", MODES)
def test_corrupt_zstd(external: bool) -> None:
    blob = bytearray(zstandard.ZstdCompressor().compress(PAYLOAD))
    for i in range(20, 80):
        blob[i] ^= 0x5A
    with pytest.raises(DecompressError):
        _read(bytes(blob), external)


def test_trailing_garbage_after_gzip_in_process() -> None:
    with pytest.raises(DecompressError, match="garbage"):
        _read(gzip.compress(PAYLOAD) + b"not gzip", False)


def test_unsupported_compression() -> None:
    import bz2

    with pytest.raises(DecompressError, match="bzip2"):
        _read(bz2.compress(PAYLOAD), False)


def test_external_tools_are_found_when_installed() -> None:
    argv = external_tool("gzip")
    if argv is None:
        pytest.skip("pigz is not installed")
    assert argv[-1] == "-dc"
