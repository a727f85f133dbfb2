"""Plugin registration: model-file, ML-code and dependency analyzers, and this capability's rules."""

from __future__ import annotations

from shareguard.core.analyzer import FileAnalyzer, RuleProvider
from shareguard.core.registry import Registries
from shareguard.models.analyzers import DependencyAnalyzer, MLCodeAnalyzer, ModelFileAnalyzer
from shareguard.models.rules import ModelRules


def register(registries: Registries) -> None:
    files = registries.of(FileAnalyzer)  # type: ignore[type-abstract]
    analyzers: tuple[FileAnalyzer, ...] = (ModelFileAnalyzer(), MLCodeAnalyzer(), DependencyAnalyzer())
    for analyzer in analyzers:
        files.add(analyzer.name, analyzer)
    registries.of(RuleProvider).add("models", ModelRules())  # type: ignore[type-abstract]
