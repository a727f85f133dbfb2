"""`PathIndex` (the path hints as dicts) decides exactly what the hints say, path by path.

Property: for any analyzers (hinted by names, extensions as written or folded, last characters,
prefixes, any path, or not hinted at all; shown installed-software trees or not) and any path, the
analyzers `PathDispatch.wanting` asks are those whose hint `admits` the path (every path without a
hint), minus the non-installed ones inside installed-software trees, in registration order."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from shareguard.core.analyzer import PathHint
from shareguard.core.context import ScanContext
from shareguard.core.dispatch import PathDispatch, installed_tree
from shareguard.core.entry import FileEntry
from shareguard.core.settings import Settings

PARTS = ["usr", "lib", "site-packages", "app", "etc", "x.py", "X.PY", "Dockerfile", "a.tf", "b.Yaml", "METADATA",
         "pkg.egg-info", ".env", "version.json", "cuda.h", "var", "dpkg", "status", "noext", "a.tar.gz"]  # fmt: skip
path = st.lists(st.sampled_from(PARTS), min_size=1, max_size=5).map("/".join)
words = st.sampled_from(
    ["x.py", ".py", "/METADATA", ".egg-info", "version.json", "/cuda.h", ".gz", "Dockerfile", ".yaml"]
)


@st.composite
def hints(draw: st.DrawFn) -> PathHint | None:
    kind = draw(st.sampled_from(["none", "ending", "folded", "last", "prefix", "any"]))
    installed = draw(st.booleans())
    if kind == "none":
        return None
    if kind == "ending":
        return PathHint.ending(*draw(st.lists(words, min_size=1, max_size=3)), installed=installed)
    if kind == "folded":
        return PathHint.ending(*draw(st.lists(words, min_size=1, max_size=3)), installed=installed, folded=True)
    if kind == "last":
        return PathHint(last_chars=frozenset(draw(st.text("yYfsh", min_size=1, max_size=2))), installed=installed)
    if kind == "prefix":
        return PathHint(prefixes=tuple(draw(st.lists(st.sampled_from(["usr/", "var/lib/", "app"]), min_size=1))))
    return PathHint(prefixes=("",), installed=installed)


@dataclass
class Hinted:
    name: str
    path_hint: PathHint | None
    version: str = "1"
    controls: tuple[str, ...] = ()

    def required(self, path: str, size: int) -> bool:
        return True

    def claims(self, entry: FileEntry) -> bool:
        return True

    def analyze(self, entry: FileEntry, ctx: ScanContext) -> list[object]:
        return []


def _expected(analyzers: list[Hinted], p: str) -> list[Hinted]:
    inside = installed_tree(p)
    out = []
    for a in analyzers:
        hint = a.path_hint
        if hint is None:
            if not inside:
                out.append(a)
        elif hint.admits(p) and (hint.installed or not inside):
            out.append(a)
    return out


@settings(max_examples=400, deadline=None)
@given(st.lists(hints(), min_size=1, max_size=6), st.lists(path, min_size=1, max_size=8))
def test_the_index_asks_exactly_the_analyzers_whose_hint_admits_the_path(
    drawn: list[PathHint | None], paths: list[str]
) -> None:
    analyzers = [Hinted(f"a{i}", h) for i, h in enumerate(drawn)]
    dispatch = PathDispatch(analyzers, ScanContext(settings=Settings()))  # type: ignore[arg-type]
    for p in paths:  # one dispatch over many paths: its per-directory memo must not leak between them
        assert dispatch.wanting(p, 10) == _expected(analyzers, p), p


def test_ending_hints_fix_names_and_extensions() -> None:
    hint = PathHint.ending("/METADATA", ".egg-info", "tensorflow/build_info.py", "Dockerfile")
    assert hint.names == {"METADATA", "build_info.py"}
    assert hint.extensions == {".egg-info"}
    assert hint.last_chars == {"e"}
    assert hint.admits("a/b.dist-info/METADATA") and not hint.admits("a/METADATA.txt")
    assert hint.admits("x/y/tensorflow/build_info.py") and not hint.admits("x/version.py")
    folded = PathHint.ending(".py", ".ipynb", folded=True)
    assert folded.admits("a/B.PY") and folded.admits("n.IpYnB") and not folded.admits("a.pyc")
