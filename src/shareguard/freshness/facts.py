"""Facts of the freshness capability. Plain fields only: the image layer cache stores facts as JSON."""

from __future__ import annotations

from dataclasses import dataclass

from shareguard.core.facts import Fact


@dataclass(frozen=True, slots=True)
class ImageMarker(Fact):
    """A file a vendor's deep-learning image carries that says what it is (a DLC telemetry script, a
    Deep Learning VM metadata file), as read, never executed."""

    kind: str
    """`aws-dlc-telemetry` or `dlvm-metadata`."""
    root: str
    """The root filesystem the file belongs to (`` for an image or a scanned root, else the directory above
    `usr/` or `opt/` in a workspace)."""
    path: str
    fields: tuple[tuple[str, str], ...]
    layer: str | None = None


@dataclass(frozen=True, slots=True)
class Workload(Fact):
    """A running job, endpoint or VM as the cloud API describes it."""

    kind: str
    """`sagemaker.training_job`, `sagemaker.processing_job`, `sagemaker.endpoint`, `vertex.custom_job`,
    `vertex.endpoint`, `compute.instance`."""
    name: str
    path: str
    state: str
    started: str
    """ISO 8601 start (creation) time; `` when the description has none."""
    running: bool
    images: tuple[str, ...] = ()
    """Container images it runs (references as written)."""
    families: tuple[str, ...] = ()
    """VM image families or source images (Compute Engine)."""
