"""Plugin registration of the image capability: inventory analyzers (file analyzers) and their finalizers."""

from __future__ import annotations

from shareguard.core.analyzer import FileAnalyzer
from shareguard.core.registry import Registries
from shareguard.image.analyzer import InventoryFinalizer
from shareguard.image.analyzers._common import InventoryFiles
from shareguard.image.analyzers.apk import ApkAnalyzer
from shareguard.image.analyzers.apt_sources import AptSourcesAnalyzer
from shareguard.image.analyzers.conda import CondaAnalyzer
from shareguard.image.analyzers.dpkg import DpkgAnalyzer
from shareguard.image.analyzers.finalizers.distro import DistroFinalizer
from shareguard.image.analyzers.finalizers.ml_stack import MLStackFinalizer
from shareguard.image.analyzers.finalizers.os_info import OSInfoFinalizer
from shareguard.image.analyzers.finalizers.ownership import OwnershipFinalizer
from shareguard.image.analyzers.finalizers.third_party import ThirdPartyFinalizer
from shareguard.image.analyzers.ml_stack import MLStackAnalyzer
from shareguard.image.analyzers.npm import NpmAnalyzer
from shareguard.image.analyzers.os_release import OSReleaseAnalyzer
from shareguard.image.analyzers.python import PythonAnalyzer
from shareguard.image.analyzers.rpm import RpmAnalyzer


def inventory_analyzers() -> list[InventoryFiles]:
    return [
        OSReleaseAnalyzer(),
        DpkgAnalyzer(),
        AptSourcesAnalyzer(),
        RpmAnalyzer(),
        ApkAnalyzer(),
        PythonAnalyzer(),
        CondaAnalyzer(),
        NpmAnalyzer(),
        MLStackAnalyzer(),
    ]


def inventory_finalizers() -> list[InventoryFinalizer]:
    """In `order`: OS first (the others read it), then ecosystems, vendors, ownership, ML stack."""
    return [OSInfoFinalizer(), DistroFinalizer(), ThirdPartyFinalizer(), OwnershipFinalizer(), MLStackFinalizer()]


def register(registries: Registries) -> None:
    analyzers = registries.of(FileAnalyzer)  # type: ignore[type-abstract]
    for analyzer in inventory_analyzers():
        analyzers.add(analyzer.name, analyzer)
    finalizers = registries.of(InventoryFinalizer)  # type: ignore[type-abstract]
    for finalizer in inventory_finalizers():
        finalizers.add(finalizer.name, finalizer)
