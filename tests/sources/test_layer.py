"""One layer streamed: hostile members are reported and skipped, corrupt layers fail as a whole."""

from __future__ import annotations

import dataclasses
import functools
import gzip
import io
import tarfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from imagebuild import Entry, Layer, directory, file, hardlink, layer_tar, make_layer, opaque, symlink, whiteout

from shareguard.sources.image.layer import (
    FILE,
    HLINK,
    LINK,
    OPAQUE,
    WHITEOUT,
    InflateBudget,
    LayerEntry,
    LayerError,
    OpenedLayer,
    normalise,
    stream_layer,
    symlink_escapes,
)
from shareguard.sources.image.libz import Ring
from shareguard.sources.image.model import LayerRef

OpenHook = Callable[[threading.Event | None], None]


@contextmanager
def _open(blob: bytes) -> Iterator[io.BytesIO]:
    yield io.BytesIO(blob)


def ref(
    layer: Layer, *, digest: str | None = "auto", media_type: str | None = "auto", size: int | None = None
) -> LayerRef:
    return LayerRef(
        index=0,
        diff_id=layer.diff_id,
        digest=layer.digest if digest == "auto" else digest,
        media_type=layer.media_type if media_type == "auto" else media_type,
        size=len(layer.blob) if size is None else size,
        opener=functools.partial(_open, layer.blob),
    )


def run(
    layer: LayerRef, want: tuple[str, ...] = (), max_member: int = 1 << 20, parallel: bool = True
) -> tuple[list[LayerEntry], list[tuple[str, str, bool]]]:
    issues: list[tuple[str, str, bool]] = []
    entries = list(
        stream_layer(
            layer,
            lambda p, s: p in want,
            max_member_bytes=max_member,
            max_members=10_000,
            max_decompressed_bytes=1 << 30,
            on_issue=lambda p, m, e: issues.append((p, m, e)),
            parallel=parallel,
        )
    )
    return entries, issues


@pytest.mark.parametrize("compression", ["gzip", "zstd", "tar"])
@pytest.mark.parametrize("parallel", [True, False])
def test_reads_only_wanted_files(compression: str, parallel: bool) -> None:
    layer = make_layer(
        [directory("etc"), file("etc/os-release", "ID=debian\n"), file("etc/other", "x" * 5000)], compression
    )
    entries, issues = run(ref(layer), want=("etc/os-release",), parallel=parallel)
    files = {e.path: e.content for e in entries if e.kind == FILE}
    assert files == {"etc/os-release": b"ID=debian\n", "etc/other": None}
    assert not issues


def test_whiteouts_and_opaque_dirs() -> None:
    layer = make_layer([whiteout("usr/lib/x"), opaque("opt/conda"), file("a", "1")])
    entries, _ = run(ref(layer))
    kinds = {(e.kind, e.path) for e in entries}
    assert (WHITEOUT, "usr/lib/x") in kinds
    assert (OPAQUE, "opt/conda") in kinds
    assert not any(".wh." in e.path for e in entries)


def test_hostile_paths_are_reported_and_skipped() -> None:
    layer = make_layer(
        [
            file("../../etc/passwd", "root:x:0:0"),
            file("/etc/shadow", "x"),
            file("ok/../../escape", "x"),
            file("fine/file", "ok"),
            hardlink("hl", "../../outside"),
            symlink("sl", "../../../../etc/passwd"),
            symlink("abs", "/usr/lib/os-release"),
            Entry("dev/sda", type=tarfile.BLKTYPE),
            Entry("dev/null", type=tarfile.CHRTYPE),
            Entry("pipe", type=tarfile.FIFOTYPE),
        ]
    )
    entries, issues = run(ref(layer), want=("fine/file",))
    paths = {e.path for e in entries}
    assert paths == {"fine/file", "sl", "abs"}
    errors = [p for p, _, is_error in issues if is_error]
    assert "../../etc/passwd" in errors and "/etc/shadow" in errors and "ok/../../escape" in errors and "hl" in errors
    warnings = {p: m for p, m, is_error in issues if not is_error}
    assert "outside the root" in warnings["sl"]
    assert "device" in warnings["dev/sda"] and "device" in warnings["dev/null"]
    assert "abs" not in warnings  # absolute targets resolve inside the image


def test_links_are_reported_with_targets() -> None:
    layer = make_layer(
        [
            file("usr/lib/os-release", "ID=x"),
            symlink("etc/os-release", "../usr/lib/os-release"),
            hardlink("h", "usr/lib/os-release"),
        ]
    )
    entries, _ = run(ref(layer))
    by_path = {e.path: e for e in entries}
    assert by_path["etc/os-release"].kind == LINK and by_path["etc/os-release"].link == "../usr/lib/os-release"
    assert by_path["h"].kind == HLINK and by_path["h"].link == "usr/lib/os-release"


def test_enormous_wanted_file_is_not_read() -> None:
    layer = make_layer([file("var/lib/dpkg/status", "x" * 10_000)])
    entries, issues = run(ref(layer), want=("var/lib/dpkg/status",), max_member=1000)
    assert entries[0].content is None
    assert "budget" in issues[0][1]


def test_digest_mismatch_fails_the_layer() -> None:
    layer = make_layer([file("a", "1")])
    bad = ref(layer, digest="sha256:" + "0" * 64)
    with pytest.raises(LayerError, match="does not match"):
        run(bad)


def test_size_mismatch_fails_the_layer() -> None:
    layer = make_layer([file("a", "1")])
    with pytest.raises(LayerError, match="bytes"):
        run(ref(layer, size=len(layer.blob) - 5))


@pytest.mark.parametrize("parallel", [True, False])
def test_truncated_gzip_fails_the_layer(parallel: bool) -> None:
    layer = make_layer([file(f"f{i}", "x" * 1000) for i in range(100)])
    layer.blob = layer.blob[: len(layer.blob) // 2]
    with pytest.raises(LayerError):
        run(ref(layer, digest=None, size=None), parallel=parallel)


@pytest.mark.parametrize("parallel", [True, False])
def test_corrupt_zstd_fails_the_layer(parallel: bool) -> None:
    layer = make_layer([file(f"f{i}", f"{i}" * 1000) for i in range(100)], "zstd")
    blob = bytearray(layer.blob)
    for i in range(30, len(blob) - 10, 7):
        blob[i] ^= 0xA5
    layer.blob = bytes(blob)
    with pytest.raises(LayerError):
        run(ref(layer, digest=None, size=None), parallel=parallel)


def test_unknown_media_type_fails_the_layer() -> None:
    layer = make_layer([file("a", "1")])
    with pytest.raises(LayerError, match="media type"):
        run(ref(layer, media_type="application/vnd.example.weird"))


def test_garbage_layer_fails() -> None:
    layer = Layer(b"this is not a tar archive at all" * 40, "tar")
    with pytest.raises(LayerError):
        run(ref(layer))


def test_decompression_bomb_is_stopped() -> None:
    tar = layer_tar([file("zeros", b"\0" * (20 << 20))])
    blob = gzip.compress(tar, 9)
    layer = Layer(tar, "tar")
    layer.blob = blob
    issues: list[tuple[str, str, bool]] = []
    with pytest.raises(LayerError, match="bomb"):
        list(
            stream_layer(
                ref(layer, digest=None, media_type=None, size=len(blob) // 1000),
                lambda p, s: False,
                max_member_bytes=1 << 20,
                max_members=100,
                max_decompressed_bytes=1 << 20,
                on_issue=lambda p, m, e: issues.append((p, m, e)),
            )
        )


def test_normalise() -> None:
    assert normalise("./usr/lib/") == "usr/lib"
    assert normalise("a//b/./c") == "a/b/c"
    assert normalise("/etc/passwd") is None
    assert normalise("a/../../b") is None
    assert normalise("a/../b") == "b"
    assert normalise("./") == ""


def test_symlink_escapes() -> None:
    assert symlink_escapes("a/b", "../../x")
    assert not symlink_escapes("a/b", "../x")
    assert not symlink_escapes("a/b", "/anything/../../..")
    assert symlink_escapes("top", "../x")


def test_fifos_and_devices_are_told_to_on_special_never_read() -> None:
    layer = make_layer(
        [
            Entry("dev/sda", type=tarfile.BLKTYPE),
            Entry("dev/null", type=tarfile.CHRTYPE),
            Entry("pipe", type=tarfile.FIFOTYPE),
        ]
    )
    specials: list[tuple[str, str]] = []
    entries = list(
        stream_layer(
            ref(layer),
            lambda p, s: True,
            max_member_bytes=1 << 20,
            max_members=100,
            max_decompressed_bytes=1 << 30,
            on_issue=lambda p, m, e: None,
            on_special=lambda p, what: specials.append((p, what)),
        )
    )
    assert entries == []
    assert specials == [("dev/sda", "block device"), ("dev/null", "character device"), ("pipe", "FIFO")]


def _walk(
    layer: LayerRef, *, opened: OpenedLayer | None = None, on_open: OpenHook | None = None, **kw: object
) -> list[LayerEntry]:
    return list(
        stream_layer(
            layer,
            lambda p, s: True,
            max_member_bytes=1 << 20,
            max_members=10_000,
            max_decompressed_bytes=1 << 30,
            on_issue=lambda p, m, e: None,
            opened=opened,
            on_open=on_open,
            **kw,  # type: ignore[arg-type]
        )
    )


@pytest.mark.parametrize("compression", ["gzip", "zstd", "tar"])
def test_a_layer_opened_ahead_reads_as_when_opened_at_its_turn(compression: str) -> None:
    """The next layer is opened while one is walked and inflates once that one's inflater is done: the
    same entries and bodies, and its inflated bytes are charged to the image budget at its own walk."""
    first = make_layer([file(f"a/f{i}", f"{i}" * 3000) for i in range(200)], compression)
    second = make_layer([file(f"b/g{i}", f"{i}" * 2000) for i in range(150)], compression)
    ring = Ring()
    ahead: list[OpenedLayer] = []
    budget = InflateBudget(1 << 30, 1 << 30)
    got1 = _walk(
        ref(first),
        on_open=lambda done: ahead.append(OpenedLayer(ref(second), ring=ring, after=done)),
        ring=ring,
        image_budget=budget,
    )
    assert len(ahead) == 1
    after_first = budget.left
    got2 = _walk(ref(second), opened=ahead[0], ring=ring, image_budget=budget)
    assert [(e.path, e.content) for e in got1] == [(e.path, e.content) for e in _walk(ref(first))]
    assert [(e.path, e.content) for e in got2] == [(e.path, e.content) for e in _walk(ref(second))]
    assert after_first - budget.left == len(layer_tar([file(f"b/g{i}", f"{i}" * 2000) for i in range(150)]))


def test_an_error_of_a_layer_opened_ahead_is_its_own() -> None:
    """A layer opened ahead that does not match its digest, or cannot be opened, fails its own walk; the
    layer before it is read in full."""
    first = make_layer([file(f"a/f{i}", "x" * 5000) for i in range(50)])
    second = make_layer([file("b/g", "y" * 5000)])
    bad_digest = ref(second, digest="sha256:" + "0" * 64)

    def missing() -> Iterator[io.BytesIO]:
        raise FileNotFoundError(2, "No such file or directory")

    unreadable = dataclasses.replace(ref(second), opener=contextmanager(missing))
    ahead: list[OpenedLayer] = []
    for broken, message in ((bad_digest, "does not match"), (unreadable, "cannot read layer")):
        ring = Ring()

        def open_ahead(done: threading.Event | None, b: LayerRef = broken, r: Ring = ring) -> None:
            ahead.append(OpenedLayer(b, ring=r, after=done))

        entries = _walk(ref(first), on_open=open_ahead, ring=ring)
        assert len(entries) == 50
        with pytest.raises(LayerError, match=message):
            _walk(broken, opened=ahead[0], ring=ring)
        ahead.clear()


def test_a_layer_opened_ahead_after_a_failed_layer_is_read() -> None:
    first = make_layer([file(f"a/f{i}", "x" * 1000) for i in range(300)])
    first.blob = first.blob[: len(first.blob) // 2]  # truncated: its walk fails half-way
    second = make_layer([file("b/g", "y" * 5000)])
    ring = Ring()
    ahead: list[OpenedLayer] = []
    with pytest.raises(LayerError):
        _walk(
            ref(first, digest=None, size=None),
            on_open=lambda done: ahead.append(OpenedLayer(ref(second), ring=ring, after=done)),
            ring=ring,
        )
    assert [e.content for e in _walk(ref(second), opened=ahead[0], ring=ring)] == [b"y" * 5000]
