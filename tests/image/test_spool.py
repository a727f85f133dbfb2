"""Large wanted members are spooled to a temporary file under the cache directory, not held in memory:
the analyzers get an entry with `abs_path`, and the file is gone once they are done (also on errors)."""

from __future__ import annotations

import gc
import hashlib
import sys
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sources"))

from imagebuild import file, make_layer, write_oci_layout

from shareguard.core.analyzer import FileAnalyzer, PathHint
from shareguard.core.context import ScanContext
from shareguard.core.entry import FileEntry
from shareguard.core.facts import Fact, Package
from shareguard.core.registry import Registries
from shareguard.core.result import ScanResult
from shareguard.core.settings import Settings
from shareguard.image.scan import scan_image, scan_rootfs
from shareguard.sources.image.open import open_image_path

BIG = 40 * 1024 * 1024


class Streamer:
    """Reads a `.bin` file as a stream (as the model readers do) and reports its digest."""

    name = "test.streamer"
    version = "1"
    controls: tuple[str, ...] = ()
    path_hint = PathHint.ending(".bin")

    def __init__(self, *, fail: bool = False) -> None:
        self.fail = fail
        self.seen: list[tuple[Path, bool, bool]] = []

    def required(self, path: str, size: int) -> bool:
        return path.endswith(".bin")

    def claims(self, entry: FileEntry) -> bool:
        return self.required(entry.rel_path, entry.size)

    def analyze(self, entry: FileEntry, ctx: ScanContext) -> list[Fact]:
        assert entry.abs_path is not None
        self.seen.append((entry.abs_path, entry.data is None, entry.abs_path.exists()))
        digest = hashlib.sha256()
        with entry.open() as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
        if self.fail:
            raise RuntimeError("analyzer bug")
        return [
            Package(name="big", version=digest.hexdigest(), ecosystem="test", path=entry.rel_path, layer=entry.layer)
        ]


def _registries(analyzer: Streamer) -> Registries:
    regs = Registries()
    regs.of(FileAnalyzer).add(analyzer.name, analyzer)  # type: ignore[type-abstract]
    return regs


def _body() -> bytes:
    return bytes(range(256)) * (BIG // 256)


def _image(tmp_path: Path) -> str:
    body = _body()
    write_oci_layout(tmp_path / "img", [make_layer([file("models/weights.bin", body)], "tar")])
    return hashlib.sha256(body).hexdigest()


def _scan(tmp_path: Path, analyzer: Streamer) -> tuple[ScanResult, int]:
    ctx = ScanContext(settings=Settings(cache_dir=tmp_path / "cache"))
    source = open_image_path(tmp_path / "img", "linux/amd64")
    gc.collect()
    tracemalloc.start()
    try:
        result = scan_image(source, _registries(analyzer), ctx, use_cache=False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak


def test_a_large_member_is_analyzed_from_a_spooled_file(tmp_path: Path) -> None:
    digest = _image(tmp_path)
    analyzer = Streamer()
    result, peak = _scan(tmp_path, analyzer)
    [(spooled, no_data, existed)] = analyzer.seen
    assert no_data and existed
    assert spooled.parent == tmp_path / "cache" / "tmp"  # inside the scan's cache directory
    assert not spooled.exists() and not list(spooled.parent.iterdir())
    [pkg] = result.facts.of(Package)
    assert pkg.version == digest and pkg.path == "models/weights.bin"
    assert peak < BIG // 4, f"peak traced memory {peak} for a {BIG}-byte member"
    assert not result.has_errors()


def test_the_spooled_file_is_deleted_when_the_analyzer_fails(tmp_path: Path) -> None:
    _image(tmp_path)
    analyzer = Streamer(fail=True)
    result, _ = _scan(tmp_path, analyzer)
    [(spooled, _, existed)] = analyzer.seen
    assert existed and not spooled.exists() and not list(spooled.parent.iterdir())
    assert any(i.path == "models/weights.bin" and i.analyzer == "test.streamer" for i in result.issues)
    assert not result.facts.of(Package)


def test_a_small_member_stays_in_memory(tmp_path: Path) -> None:
    write_oci_layout(tmp_path / "img", [make_layer([file("models/small.bin", b"x" * 1000)])])
    analyzer = Streamer()
    seen: list[bytes | None] = []
    original = analyzer.analyze

    def analyze(entry: FileEntry, ctx: ScanContext) -> list[Fact]:
        seen.append(entry.data)
        return [] if entry.data is not None else original(entry, ctx)

    analyzer.analyze = analyze  # type: ignore[method-assign]
    ctx = ScanContext(settings=Settings(cache_dir=tmp_path / "cache"))
    scan_image(open_image_path(tmp_path / "img", "linux/amd64"), _registries(analyzer), ctx, use_cache=False)
    assert seen == [b"x" * 1000]


def test_rootfs_spools_a_large_wanted_file_too(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "models").mkdir(parents=True)
    body = _body()
    (root / "models" / "weights.bin").write_bytes(body)
    analyzer = Streamer()
    ctx = ScanContext(settings=Settings(cache_dir=tmp_path / "cache"))
    result = scan_rootfs(root, _registries(analyzer), ctx)
    [(spooled, no_data, existed)] = analyzer.seen
    assert no_data and existed and spooled.parent == tmp_path / "cache" / "tmp" and not spooled.exists()
    [pkg] = result.facts.of(Package)
    assert pkg.version == hashlib.sha256(body).hexdigest()
