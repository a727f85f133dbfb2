"""The plugin kinds of the core: file analyzers, post analyzers, rule providers.

Capability packages implement these; the engine only knows these interfaces.

One file-analyzer model for every analyzer that reads a file (configuration, model files, ML code, and
the image inventory: dpkg, rpm, apk, python, conda, npm, os-release, ML stack) and every source
(workspace walk, image layers, root filesystem): an analyzer declares what it needs and analyzes one
entry. What it needs, cheapest first:

1. `path_hint` (optional `PathHint`): a superset of the paths it may want, tested with one dict
   lookup per path; image layers are walked at ~200k paths per image.
2. `required(path, size)` (optional): the path predicate, no I/O. Where reading a file costs (image
   layers are streamed once and only wanted bodies are read; a root filesystem is opened file by
   file) an analyzer is shown only the files it requires. Without it the source asks `claims` of a
   path-only entry (`FileEntry.path_only`): a claim decided by path counts, a claim that sniffs
   content (`ContentNeeded`) makes the file wanted.
3. `claims(entry)`: the authority, with content at hand (`entry.head()` sniffs the first bytes). A
   workspace, where a head read is cheap, asks it of every file.
4. `analyze(entry, ctx)`: findings, facts and coverage records for that one entry (filed by
   `engine.consume`); a file it cannot analyse is `ctx.error(path, message, name)`. `entry.layer` names
   the image layer the file comes from (None elsewhere); a large image member comes as a spooled file
   (`entry.abs_path`), so read it as a stream where you can.

Optional attributes, read with `getattr`:
- `sources`: the sources it makes sense on (`"workspace"`, `"image"`, `"rootfs"`; default all, see
  `runs_on`). An inventory analyzer whose facts need the finalizers of a whole filesystem (an OS
  package database) is `{"image", "rootfs"}`; `models.deps` is `{"workspace"}`.
- `links` (default False): on image layers and root filesystems, a symlink or hard link to a wanted
  file of the same layer is analyzed under the link's path (the inventory: `etc/os-release` is a link
  on Debian). Others do not follow links, as in a workspace.

The sources feed it through `engine.analyze_entries` (workspace) and `core/dispatch.py` (image layers
and root filesystems, where results are kept per path so whiteouts delete them and layer caches store them).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from shareguard.core.context import ScanContext
from shareguard.core.coverage import Evaluation, Evaluations, Gap, Unassessed
from shareguard.core.entry import FileEntry
from shareguard.core.facts import Fact, FactStore
from shareguard.core.finding import Finding
from shareguard.core.rules import RuleMeta

Output = Finding | Fact | Evaluation | Evaluations | Gap | Unassessed
"""What analyzers yield: findings, facts, and the evidence of what they evaluated (see core/coverage.py)."""


@dataclass(frozen=True)
class PathHint:
    """Optional attribute `path_hint` of an analyzer: a cheap superset of the paths it may want.

    A path can be wanted only if `admits` it: its file name (the part after the last `/`) is one of
    `names`, its extension (the file name from its last `.`) is one of `extensions` (as written) or of
    `folded_extensions` (compared lower-cased, stored lower-cased), it ends with one of `last_chars`,
    or it starts with one of `prefixes`. Sources ask `required`/`claims` only of analyzers whose hint
    admits the path (those stay the authority); `core/dispatch.py` indexes names and extensions in
    dicts, so a path costs the same few lookups however many analyzers there are. Analyzers without a
    hint are asked about every path.

    `installed`: also offer paths inside installed-software trees (`site-packages`, `node_modules`,
    `usr/lib`, … see `core/dispatch.py`). File analyzers look at what the customer put into an image
    (configuration, code, models); the software a package manager installed is inventoried and matched
    for vulnerabilities instead: the inventory analyzers' hints say `installed=True`.
    """

    last_chars: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()
    installed: bool = False
    names: frozenset[str] = frozenset()
    extensions: frozenset[str] = frozenset()
    folded_extensions: frozenset[str] = frozenset()

    @staticmethod
    def ending(*suffixes: str, installed: bool = False, folded: bool = False) -> PathHint:
        """Paths ending with one of `suffixes` (`folded`: in any letter case). A suffix holding a `/`
        fixes the file name (`/METADATA`, `include/cuda.h`); one holding a `.` fixes the extension
        (`.egg-info`, `version.json`); any other is admitted by its last character."""
        names: set[str] = set()
        extensions: set[str] = set()
        last: set[str] = set()
        for s in suffixes:
            name = s[s.rfind("/") + 1 :]
            if "/" in s and name and not folded:
                names.add(name)
            elif "." in name:
                ext = name[name.rfind(".") :]
                extensions.add(ext.lower() if folded else ext)
            elif s:
                last.update((s[-1].lower(), s[-1].upper()) if folded else (s[-1],))
        if folded:
            return PathHint(last_chars=frozenset(last), folded_extensions=frozenset(extensions), installed=installed)
        return PathHint(
            last_chars=frozenset(last), names=frozenset(names), extensions=frozenset(extensions), installed=installed
        )

    def admits(self, path: str) -> bool:
        """True when the hint lets `path` through (what the dispatcher's index decides, one path at a time)."""
        name = path[path.rfind("/") + 1 :]
        dot = name.rfind(".")
        ext = name[dot:] if dot >= 0 else ""
        return (
            name in self.names
            or (bool(ext) and (ext in self.extensions or ext.lower() in self.folded_extensions))
            or path[-1:] in self.last_chars
            or (bool(self.prefixes) and path.startswith(self.prefixes))
        )


def runs_on(analyzer: object, source: str) -> bool:
    """True when `analyzer` runs on `source` (`workspace`, `image`, `rootfs`): its optional `sources`
    attribute names it (no attribute: every source)."""
    sources = getattr(analyzer, "sources", None)
    return sources is None or source in sources


@runtime_checkable
class FileAnalyzer(Protocol):
    """Claims files (by path pattern or content sniffing) and turns them into findings and facts."""

    name: str
    version: str
    controls: tuple[str, ...]
    """The duties its input falls under: a claimed file it cannot analyse leaves them `incomplete`.

    Claiming a file assesses nothing: a duty is assessed only by the `Evaluation`s (and failing
    findings) the analyzer yields for what it really checked."""

    def claims(self, entry: FileEntry) -> bool:
        """With content at hand (sniff `entry.head()`); see the module docstring for `path_hint`/`required`."""
        ...

    def analyze(self, entry: FileEntry, ctx: ScanContext) -> Iterable[Output]: ...


@runtime_checkable
class PostAnalyzer(Protocol):
    """Runs after the file/layer analyzers, reading the fact store (vuln matching, text-field
    detectors, freshness…). `inputs` names the fact types it needs; it only runs when some exist."""

    name: str
    version: str
    order: int
    controls: tuple[str, ...]
    """As for FileAnalyzer: duties left incomplete when it reports an input it could not analyse."""
    inputs: tuple[type[Fact], ...]

    def analyze(self, facts: FactStore, ctx: ScanContext) -> Iterable[Output]: ...


class RuleProvider(Protocol):
    """A family of rules; the catalog's `controls show ID` lists the rules that check a duty."""

    name: str

    def rules(self) -> Iterable[RuleMeta]: ...
