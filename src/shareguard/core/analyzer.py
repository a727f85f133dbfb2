"""The plugin kinds of the core: file analyzers, post analyzers, rule providers.

Capability packages implement these; the engine only knows these interfaces.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from shareguard.core.context import ScanContext
from shareguard.core.entry import FileEntry
from shareguard.core.facts import Fact, FactStore
from shareguard.core.finding import Finding
from shareguard.core.rules import RuleMeta

Output = Finding | Fact


@runtime_checkable
class FileAnalyzer(Protocol):
    """Claims files (by path pattern or content sniffing) and turns them into findings and facts."""

    name: str
    version: str
    controls: tuple[str, ...]
    """Duties this analyzer assesses: once it has looked at a file they are no longer 'not assessed'."""

    def claims(self, entry: FileEntry) -> bool: ...

    def analyze(self, entry: FileEntry, ctx: ScanContext) -> Iterable[Output]: ...


@runtime_checkable
class PostAnalyzer(Protocol):
    """Runs after the file/layer analyzers, reading the fact store (vuln matching, text-field
    detectors, freshness…). `inputs` names the fact types it needs; it only runs when some exist."""

    name: str
    version: str
    order: int
    controls: tuple[str, ...]
    inputs: tuple[type[Fact], ...]

    def analyze(self, facts: FactStore, ctx: ScanContext) -> Iterable[Output]: ...


class RuleProvider(Protocol):
    """A family of rules; the catalog's `controls show ID` lists the rules that check a duty."""

    name: str

    def rules(self) -> Iterable[RuleMeta]: ...
