"""The header the posture post analyzers share: rules judged across the `ConfigResource` facts of a scan.

A subclass names itself (`name`), the rules it judges (`rule_ids`) and what it reads; the duties it serves
(`controls`) are those of its rules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

from shareguard.core.facts import ConfigResource, Fact
from shareguard.core.rules import RuleMeta


@dataclass
class RulesPostAnalyzer:
    """A PostAnalyzer (`core.analyzer.PostAnalyzer`) over configuration resources, judging `rule_ids`."""

    rule_ids: ClassVar[tuple[str, ...]] = ()

    rules: Callable[[], dict[str, RuleMeta]]
    name: str = ""
    version: str = "1"
    order: int = 10
    inputs: tuple[type[Fact], ...] = (ConfigResource,)
    controls: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.controls:
            rules = self.rules()
            self.controls = tuple(sorted({c for r in self.rule_ids for c in rules[r].control_ids}))
