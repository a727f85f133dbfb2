"""An analyzer's `path_hint` may only narrow which paths are asked about, never hide a wanted one."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from shareguard.core.analyzer import FileAnalyzer, PathHint
from shareguard.core.context import ScanContext
from shareguard.core.dispatch import PathDispatch
from shareguard.core.entry import FileEntry
from shareguard.core.registry import load_registries
from shareguard.core.settings import Settings
from shareguard.image.plugin import inventory_analyzers as builtin_inventory


def inventory_analyzers(_regs: object) -> list[FileAnalyzer]:
    return list(builtin_inventory())


def _dispatch(analyzers: list[FileAnalyzer]) -> PathDispatch:
    return PathDispatch(analyzers, ScanContext(settings=Settings()))


WORDS = [
    "var", "lib", "dpkg", "status", "status.d", "info", "libssl3.list", "etc", "apt", "sources.list",
    "sources.list.d", "nvidia.list", "x.sources", "os-release", "usr", "local", "cuda", "version.json",
    "version.txt", "include", "nccl.h", "cudnn_version.h", "site-packages", "torch", "version.py",
    "tensorflow", "python", "platform", "build_info.py", "numpy-1.26.dist-info", "METADATA", "INSTALLER",
    "pkg.egg-info", "PKG-INFO", "EGG-INFO", "conda-meta", "torch-2.3.json", "node_modules", "package.json",
    "apk", "db", "installed", "rpm", "rpmdb.sqlite", "Packages", "sysimage", "opt", "conda", "a.py",
]  # fmt: skip
paths = st.lists(st.sampled_from(WORDS), min_size=1, max_size=8).map("/".join)


def _hinted() -> list[object]:
    return [a for a in inventory_analyzers(load_registries()) if isinstance(getattr(a, "path_hint", None), PathHint)]


def _admits(hint: PathHint, path: str) -> bool:
    return hint.admits(path)


def test_every_builtin_inventory_analyzer_has_a_hint() -> None:
    assert len(_hinted()) == len(inventory_analyzers(load_registries()))


@settings(max_examples=2000, deadline=None)
@given(path=paths, size=st.sampled_from([0, 100, 5000]))
def test_hint_admits_every_path_the_analyzer_requires(path: str, size: int) -> None:
    for a in _hinted():
        if a.required(path, size):  # type: ignore[attr-defined]
            assert _admits(a.path_hint, path), (a, path)  # type: ignore[attr-defined]


@settings(max_examples=500, deadline=None)
@given(path=paths, size=st.sampled_from([0, 100]))
def test_collector_asks_the_same_analyzers_as_without_hints(path: str, size: int) -> None:
    analyzers = inventory_analyzers(load_registries())
    expected = [a for a in analyzers if a.required(path, size)]
    assert _dispatch(analyzers).wanting(path, size) == expected


def test_analyzers_without_a_hint_are_asked_about_every_path() -> None:
    class Plain:
        name, version = "third-party.plain", "1"

        def required(self, path: str, size: int) -> bool:
            return path.endswith("/Q")

        controls = ()

        def claims(self, entry: FileEntry) -> bool:
            return self.required(entry.rel_path, entry.size)

        def analyze(self, entry: FileEntry, ctx: ScanContext) -> list[object]:
            return []

    plain = Plain()
    dispatch = _dispatch([*inventory_analyzers(load_registries()), plain])  # type: ignore[list-item]
    assert dispatch.wanting("opt/x/Q", 1) == [plain]
