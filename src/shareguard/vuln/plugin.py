"""Registers the OSV matcher (post analyzer) and the vulnerability rules."""

from __future__ import annotations

from collections.abc import Iterable

from shareguard.core.analyzer import PostAnalyzer, RuleProvider
from shareguard.core.registry import Registries
from shareguard.core.rules import RuleMeta
from shareguard.vuln.analyzer import OsvMatcher, vuln_rules


class VulnRules:
    name = "vuln"

    def rules(self) -> Iterable[RuleMeta]:
        return vuln_rules().values()


def register(registries: Registries) -> None:
    registries.of(PostAnalyzer).add(OsvMatcher.name, OsvMatcher())  # type: ignore[type-abstract]
    registries.of(RuleProvider).add(VulnRules.name, VulnRules())  # type: ignore[type-abstract]
