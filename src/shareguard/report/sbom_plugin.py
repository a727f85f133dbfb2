"""Registers the SBOM formats (`--format cyclonedx`, `--format spdx`) for image and rootfs scans."""

from __future__ import annotations

from shareguard.catalog.model import Catalog
from shareguard.core.registry import Registries
from shareguard.core.result import ScanResult
from shareguard.report.interface import Reporter
from shareguard.report.lazy import LazyReporter


class LazyCycloneDxReporter:
    """`--format cyclonedx`, importing cyclonedx-python-lib (~0.2 s) only when a BOM is rendered,
    not in every command's start-up."""

    name = "cyclonedx"
    commands: frozenset[str] | None = frozenset({"image", "rootfs"})

    def render(self, result: ScanResult, catalog: Catalog) -> str:
        from shareguard.report.cyclonedx import CycloneDxReporter

        return CycloneDxReporter().render(result, catalog)


def register(registries: Registries) -> None:
    reporters = registries.of(Reporter)  # type: ignore[type-abstract]
    reporters.add(LazyCycloneDxReporter.name, LazyCycloneDxReporter())
    reporters.add("spdx", LazyReporter("spdx", "shareguard.report.spdx:SpdxReporter", frozenset({"image", "rootfs"})))
