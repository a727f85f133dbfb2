"""Layers read at once (`image/scan.apply_layers`, `WALKERS`) give what a serial read gives: the same
findings, facts, issues and verdicts, whichever layer's walk ends first."""

from __future__ import annotations

import gzip
import hashlib
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sources"))
from imagebuild import Layer, file, make_layer, opaque, symlink, whiteout, write_oci_layout

from shareguard.catalog import load_catalog
from shareguard.core.context import ScanContext
from shareguard.core.registry import Registries, load_registries
from shareguard.core.result import ScanResult
from shareguard.core.settings import Budgets, Settings
from shareguard.image import scan as image_scan
from shareguard.image.scan import scan_image
from shareguard.report.json_report import report_dict
from shareguard.sources.image.layer import LayerError
from shareguard.sources.image.open import open_image_path

EVIL_PICKLE = (
    b"\x80\x04\x95\x1b\x00\x00\x00\x00\x00\x00\x00\x8c\x05posix\x94\x8c\x06system\x94\x93\x94"
    b"\x8c\x02id\x94\x85\x94R\x94."
)
DOCKERFILE = b'FROM python:3.11\nRUN pip install torch\nCMD ["python", "serve.py"]\n'
MIB = 1 << 20


@pytest.fixture(scope="module")
def regs() -> Registries:
    return load_registries()


def _layers() -> list[Layer]:
    """Seven layers whose later ones undo, replace and link what earlier ones wrote, one of them large
    and slow (so later, smaller layers end their walks first), one broken."""
    pad = [file(f"pad/big{i}.bin", bytes([i % 251]) * 200_000) for i in range(40)]
    return [
        make_layer([file("etc/os-release", "ID=debian\nVERSION_ID=12\n"), file("models/a.pkl", EVIL_PICKLE), *pad]),
        make_layer([file("models/b.pkl", EVIL_PICKLE), file("app/Dockerfile", DOCKERFILE)]),
        make_layer([whiteout("models/a.pkl"), file("models/c.pkl", EVIL_PICKLE)]),
        make_layer([file("app/Dockerfile", b"FROM scratch\nUSER 1000\n")]),  # replaces layer 2's
        make_layer([opaque("models"), file("models/d.pkl", EVIL_PICKLE), symlink("models/e.pkl", "d.pkl")]),
        make_layer([file(f"z/{i}", b"x" * 3000) for i in range(100)]),
        make_layer([file("srv/job/Dockerfile", DOCKERFILE)]),
    ]


def _scan(root: Path, regs: Registries, cache: Path, budgets: Budgets, parallel: bool) -> ScanResult:
    ctx = ScanContext(settings=Settings(cache_dir=cache, budgets=budgets))
    return scan_image(open_image_path(root, "linux/amd64"), regs, ctx, use_cache=False, parallel=parallel)


def _comparable(result: ScanResult) -> dict[str, Any]:
    """The JSON report (findings, duty verdicts, issues, what was scanned) without its times, and every fact."""
    doc = report_dict(result, load_catalog())
    for key in ("started", "finished"):
        doc.pop(key)
    doc["facts"] = sorted(repr(f) for f in result.facts)
    return doc


@pytest.mark.parametrize("broken", [None, 1, 3])
def test_layers_read_at_once_give_the_serial_result(tmp_path: Path, regs: Registries, broken: int | None) -> None:
    layers = _layers()
    if broken is not None:
        layers[broken].blob = layers[broken].blob[: len(layers[broken].blob) // 2]  # truncated
    write_oci_layout(tmp_path / "img", layers)
    serial = _scan(tmp_path / "img", regs, tmp_path / "c1", Budgets(), parallel=False)
    at_once = _scan(tmp_path / "img", regs, tmp_path / "c2", Budgets(), parallel=True)
    assert _comparable(at_once) == _comparable(serial)
    pickles = {f.resource.path for f in at_once.findings if f.rule_id == "MODEL-001"}
    if broken is None:
        assert pickles == {"models/d.pkl"}  # the opaque directory hid a, b and c (links are not followed)
    assert [i.path.split(" ")[1] for i in at_once.issues if "layer not scanned" in i.message] == (
        [] if broken is None else [str(broken + 1)]
    )


def test_the_image_budget_stops_the_same_layers_read_at_once(tmp_path: Path, regs: Registries) -> None:
    """A large first layer read beside small later ones that together pass the image budget: the later
    walks end first, yet the layer that crosses the budget and those after it are the serial ones."""
    layers = [make_layer([file("big.bin", b"\1" * (14 * MIB)), file("etc/os-release", "ID=first\n")])]
    layers += [make_layer([file(f"f{i}.bin", bytes([i]) * (3 * MIB)), file(f"x{i}", "y")]) for i in range(4)]
    write_oci_layout(tmp_path / "img", layers)
    budgets = Budgets(max_image_inflated_bytes=20 * MIB)
    serial = _scan(tmp_path / "img", regs, tmp_path / "c1", budgets, parallel=False)
    stopped = [i.path.split(" ")[1] for i in serial.issues if "per-image budget" in i.message]
    assert stopped == ["3", "4", "5"]
    for n in range(3):
        at_once = _scan(tmp_path / "img", regs, tmp_path / f"c{n + 2}", budgets, parallel=True)
        assert _comparable(at_once) == _comparable(serial)


def test_at_most_walkers_plus_one_layer_results_are_held(
    tmp_path: Path, regs: Registries, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Layers are taken in order as their walks end: no more than `WALKERS` walks run, and no more
    than one finished walk waits for an earlier layer (memory stays bounded however many layers)."""
    layers = [make_layer([file(f"l{i}/f{j}", b"q" * 2000) for j in range(50)]) for i in range(12)]
    write_oci_layout(tmp_path / "img", layers)
    running = [0]
    most = [0]
    real = image_scan.read_layer

    def counting(*args: object, **kw: object) -> object:
        running[0] += 1
        most[0] = max(most[0], running[0])
        try:
            return real(*args, **kw)  # type: ignore[arg-type]
        finally:
            running[0] -= 1

    monkeypatch.setattr(image_scan, "read_layer", counting)
    result = _scan(tmp_path / "img", regs, tmp_path / "c", Budgets(), parallel=True)
    assert most[0] <= image_scan.WALKERS
    assert result.metadata["layers"] == 12
    assert not [i for i in result.issues if i.kind == "error"]


class _ZerosLayer(Layer):
    """A gzip layer of one file of `count` x 64 MiB zero bytes, built from one compressed member repeated
    (a gzip stream may hold many members): GiBs of layer in a test, at the cost of compressing 64 MiB."""

    def __init__(self, count: int) -> None:
        size = count * (64 * MIB)
        info = tarfile.TarInfo("zeros.bin")
        info.size = size
        chunk = gzip.compress(bytes(64 * MIB), 1, mtime=0)
        self.tar = b""
        self.compression = "gzip"
        self.media_type = "application/vnd.oci.image.layer.v1.tar+gzip"
        self.blob = gzip.compress(info.tobuf(tarfile.USTAR_FORMAT), mtime=0) + chunk * count
        self.blob += gzip.compress(bytes(1024), mtime=0)  # the end-of-archive blocks

    @property
    def diff_id(self) -> str:
        return "sha256:" + hashlib.sha256(b"zeros layer for a test").hexdigest()


def test_an_interrupted_scan_stops_the_walks_still_running(
    tmp_path: Path, regs: Registries, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C (here: raised by the progress callback once the first layer is taken) ends the scan without
    reading the 2 GiB layer walked beside it to its end: the walks still running stop at their next
    budget check, and the interrupt reaches the caller."""
    write_oci_layout(tmp_path / "img", [make_layer([file("a.txt", "a")]), _ZerosLayer(32)])
    outcomes: list[str] = []
    real = image_scan.read_layer

    def recording(*args: object, **kw: object) -> object:
        try:
            result = real(*args, **kw)  # type: ignore[arg-type]
        except LayerError as exc:
            outcomes.append(str(exc))
            raise
        outcomes.append("read")
        return result

    def interrupt(layer: object, hit: bool) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(image_scan, "read_layer", recording)
    ctx = ScanContext(settings=Settings(cache_dir=tmp_path / "c"))
    with pytest.raises(KeyboardInterrupt):
        scan_image(open_image_path(tmp_path / "img", "linux/amd64"), regs, ctx, use_cache=False, on_layer=interrupt)
    assert sorted(outcomes) == ["not read to the end: the scan was stopped", "read"]
