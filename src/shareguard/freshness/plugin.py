"""Plugin registration: marker and job-description file analyzers, the freshness post analyzer, its rules."""

from __future__ import annotations

from shareguard.core.analyzer import FileAnalyzer, PostAnalyzer, RuleProvider
from shareguard.core.registry import Registries
from shareguard.freshness.jobs import JobAnalyzer
from shareguard.freshness.markers import MarkerAnalyzer
from shareguard.freshness.post import FreshnessAnalyzer
from shareguard.freshness.rules import FreshnessRules


def register(registries: Registries) -> None:
    files = registries.of(FileAnalyzer)  # type: ignore[type-abstract]
    files.add(MarkerAnalyzer.name, MarkerAnalyzer())
    files.add(JobAnalyzer.name, JobAnalyzer())
    post = FreshnessAnalyzer()
    registries.of(PostAnalyzer).add(post.name, post)  # type: ignore[type-abstract]
    registries.of(RuleProvider).add("freshness", FreshnessRules())  # type: ignore[type-abstract]
