"""The release catalog's records: one `Release` per image line (framework version x accelerator x platform)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

PRODUCTS = ("dlc", "dlvm", "workbench", "dataflow-sdk")
"""`dlc`: deep-learning container images; `dlvm`: Deep Learning VM image families; `workbench`: Vertex AI
Workbench (user-managed notebooks) image families; `dataflow-sdk`: Apache Beam SDK releases with Dataflow's
support dates (GA = release, end of patch = deprecation, end of availability = decommission)."""


@dataclass(frozen=True)
class Release:
    """One release line of a vendor's deep-learning images, with its support dates and the names to pull."""

    provider: str
    """`aws` or `google`."""
    product: str
    """One of `PRODUCTS`."""
    repository: str
    """AWS: the ECR repository (`pytorch-training`); Google: the image or family stem (`pytorch-cu124`)."""
    framework: str
    """Lower-case framework name as the vendor spells it in names (`pytorch`, `tensorflow`, `vllm`…)."""
    version: str
    """The framework version line (`2.6`)."""
    accelerator: str = ""
    """`gpu`, `cpu`, `neuronx`… (AWS) or `cu124`/`cpu` (Google)."""
    python: str = ""
    cuda: str = ""
    os: str = ""
    platform: str = ""
    """AWS: `ec2` or `sagemaker`."""
    variant: str = ""
    """What else tells two releases of one version apart (AWS `engine` or Neuron `sdk`)."""
    container_type: str = ""
    """`training` or `inference` where the repository says so."""
    ga: date | None = None
    eop: date | None = None
    """End of patch: no patched image of this line after it."""
    eoa: date | None = None
    """End of availability (Google)."""
    tags: tuple[str, ...] = ()
    """Tags (AWS) or image/family names (Google) to pull; the first is the most specific."""
    origin: str = ""
    """Where the record comes from (file and entry), for error messages and `catalog show`."""

    @property
    def line_key(self) -> tuple[int, ...]:
        return version_key(self.version)


@dataclass(frozen=True)
class CatalogSource:
    name: str
    url: str
    retrieved: date
    """When shareguard imported it (the 30-day staleness clock)."""
    revision: str = ""
    """Source commit or page date."""
    license: str = ""


@dataclass(frozen=True)
class ReleaseCatalog:
    sources: tuple[CatalogSource, ...]
    releases: tuple[Release, ...]
    origin: str = ""
    """The file it was loaded from (bundled snapshot or local store)."""
    by_framework: dict[str, list[Release]] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for r in self.releases:
            self.by_framework.setdefault(r.framework, []).append(r)

    def oldest_retrieval(self) -> date | None:
        return min((s.retrieved for s in self.sources), default=None)


_NUM = re.compile(r"\d+")


def version_key(version: str) -> tuple[int, ...]:
    """`2.10` > `2.9`: the numeric parts of a version, for ordering lines."""
    return tuple(int(n) for n in _NUM.findall(version)[:4])


def line_of(version: str) -> str:
    """`2.6.0` → `2.6` (the framework line a release covers)."""
    parts = _NUM.findall(version)
    return ".".join(parts[:2]) if len(parts) >= 2 else version


def normalise_framework(name: str) -> str:
    """Vendor spellings of one framework: `PyTorch`, `torch`, `pt` → `pytorch`; `tf`, `tf2` → `tensorflow`."""
    n = name.strip().lower().replace("_", "-")
    return {"torch": "pytorch", "pt": "pytorch", "tf": "tensorflow", "tf2": "tensorflow"}.get(n, n)
