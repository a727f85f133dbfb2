"""Registers the SBOM formats (`--format cyclonedx`, `--format spdx`) for image and rootfs scans."""

from __future__ import annotations

from shareguard.core.registry import Registries
from shareguard.report.cyclonedx import CycloneDxReporter
from shareguard.report.interface import Reporter
from shareguard.report.spdx import SpdxReporter


def register(registries: Registries) -> None:
    reporters = registries.of(Reporter)  # type: ignore[type-abstract]
    reporters.add(CycloneDxReporter.name, CycloneDxReporter())
    reporters.add(SpdxReporter.name, SpdxReporter())
