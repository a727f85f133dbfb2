"""One layer streamed: hostile members are reported and skipped, corrupt layers fail as a whole."""

from __future__ import annotations

import functools
import gzip
import io
import tarfile
from collections.abc import Iterator
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
    normalise,
    stream_layer,
    symlink_escapes,
)
from shareguard.sources.image.model import LayerRef

MIB = 1 << 20


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


def _walk(layer: LayerRef, **kw: object) -> list[LayerEntry]:
    return list(
        stream_layer(
            layer,
            lambda p, s: True,
            max_member_bytes=1 << 20,
            max_members=10_000,
            max_decompressed_bytes=1 << 30,
            on_issue=lambda p, m, e: None,
            **kw,  # type: ignore[arg-type]
        )
    )


def _budget_walks(budget: InflateBudget, layers: list[LayerRef], order: list[int]) -> list[str | None]:
    """Walk `layers` against one image budget in `order` (as layers read at once may end), then settle
    them in layer order: each one's error message (None: read)."""
    own: dict[int, str | None] = {}
    for i in order:
        try:
            _walk(layers[i], image_budget=budget, index=i, max_layer_bytes=16 * MIB)
            own[i] = None
        except LayerError as exc:
            own[i] = str(exc)
    return [budget.settle(i) or own[i] for i in range(len(layers))]


@pytest.mark.parametrize("order", [[0, 1, 2], [2, 1, 0], [1, 2, 0], [1, 0, 2]])
def test_the_image_budget_gives_the_serial_outcome_whichever_walk_ends_first(order: list[int]) -> None:
    """Layers read at once may end in any order: settled in layer order, the budget gives each the
    outcome of a serial read (the first layers read, the one that crosses the budget stopped, the rest
    not read), whatever the order their walks ran in."""
    layers = [ref(make_layer([file(f"f{i}", bytes([i]) * (12 * MIB))])) for i in range(3)]
    over = f"the image inflated past {20 * MIB} bytes (the per-image budget)"
    serial = _budget_walks(InflateBudget(20 * MIB), layers, [0, 1, 2])
    assert serial == [None, over, over + "; not read"]
    assert _budget_walks(InflateBudget(20 * MIB), layers, order) == serial


def test_a_layer_s_own_limit_wins_over_the_image_budget_it_reaches_later() -> None:
    """Serially a layer stops at the lower of its own limit and what the image leaves it: a layer over its
    per-layer budget (16 MiB) that the image budget would also stop later keeps its own error."""
    layers = [ref(make_layer([file("a", b"a" * (4 * MIB))])), ref(make_layer([file("b", b"b" * (40 * MIB))]))]
    per_layer = f"inflated past {16 * MIB} bytes (the per-layer budget)"
    for order in ([0, 1], [1, 0]):
        assert _budget_walks(InflateBudget(30 * MIB), layers, order) == [None, per_layer]


def test_a_walk_past_what_the_layers_before_it_leave_stops_early() -> None:
    """While earlier layers are read, a later layer's walk stops once it passes what they leave it now
    (its share can only shrink): a bomb read at once with other layers costs at most about the budget."""
    budget = InflateBudget(20 * MIB)
    budget.start(0, None)
    budget.check(0, 18 * MIB)  # the first layer, still read, has inflated 18 MiB so far
    bomb = ref(make_layer([file("zeros", b"\0" * (40 * MIB))]))
    with pytest.raises(LayerError, match="per-image budget"):
        _walk(bomb, image_budget=budget, index=1)
    assert budget.upper(1) == 2 * MIB
