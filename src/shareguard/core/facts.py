"""Facts: what analyzers learn about the target, shared through one per-scan fact store.

Fact types that several capabilities read live here (packages, OS, image identity, text fields,
config resources); a capability may define further fact types of its own in its own package.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from shareguard.core.resource import Location, Resource


@dataclass(frozen=True, slots=True)
class Fact:
    """Base class of every fact."""


@dataclass(frozen=True, slots=True)
class OSInfo(Fact):
    id: str  # os-release ID: debian, ubuntu, alpine, rhel, …
    version_id: str
    pretty_name: str = ""
    version_codename: str = ""
    distroless: bool = False
    path: str = "etc/os-release"
    layer: str | None = None


@dataclass(frozen=True, slots=True)
class Package(Fact):
    """One installed package, wherever it was found."""

    name: str
    version: str
    ecosystem: str
    """OSV ecosystem name: `PyPI`, `npm`, `Debian`, `Ubuntu`, `Alpine`, `conda`, `Red Hat`, `generic`."""
    path: str
    """Where its metadata lives (relative to the root), e.g. `var/lib/dpkg/status`."""
    layer: str | None = None
    """Digest of the layer that brought it (images only)."""
    purl: str | None = None
    source_name: str | None = None
    """dpkg/rpm source package, used for distro advisories."""
    source_version: str | None = None
    arch: str | None = None
    origin: str = "os"
    """`os` (distro package manager), `pip`, `conda`, `npm`, `third-party` (e.g. NVIDIA's apt repo), `ml-stack`."""
    os_managed: bool = False
    """Files owned by the OS package manager: matched only against OS advisories."""
    licenses: tuple[str, ...] = ()
    extra: tuple[tuple[str, str], ...] = ()
    """Further key/value facts (e.g. ("cuda", "12.4"), ("maintainer", "…"))."""


@dataclass(frozen=True, slots=True)
class ImageIdentity(Fact):
    reference: str
    digest: str | None = None
    """Manifest digest."""
    config_digest: str | None = None
    platform: str = "linux/amd64"
    layers: tuple[str, ...] = ()
    """Layer diff ids, in order."""
    labels: tuple[tuple[str, str], ...] = ()
    created: str | None = None
    base_image: str | None = None
    env: tuple[tuple[str, str], ...] = ()
    """The image config's environment (`DLC_CONTAINER_TYPE`…); values may be secrets: never rendered."""


@dataclass(frozen=True, slots=True)
class TextField(Fact):
    """A free-text value found in configuration (tag, label, name, description, env value, URL…).

    Config parsers publish these; the sensitive-data detectors read them, so neither imports
    the other.
    """

    value: str
    resource: Resource
    location: Location
    kind: str = "text"
    """`tag`, `label`, `annotation`, `name`, `description`, `env`, `parameter`, `url`, `text`."""


@dataclass(frozen=True, slots=True)
class ConfigResource(Fact):
    """A normalised configuration resource (for user CEL rules and cross-file checks)."""

    type: str
    name: str
    path: str
    line: int | None
    attributes: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    source_format: str = ""
    lines: dict[str, int] = field(default_factory=dict, hash=False, compare=False)
    """Attribute path → line, where the parser knows it (cross-resource findings point at the attribute)."""
    raw_type: str = field(default="", compare=False)
    """The format's own type name as its parser gave it (`aws_s3_bucket_policy`, `AWS::S3::BucketPolicy`): what
    a cross-resource finding names the resource by. Empty where the parser gave none."""


F = TypeVar("F", bound=Fact)


class FactStore:
    """Per-scan store: analyzers add facts, later stages read them by type. Not global."""

    def __init__(self) -> None:
        self._by_type: dict[type[Fact], list[Fact]] = defaultdict(list)

    def add(self, fact: Fact) -> None:
        self._by_type[type(fact)].append(fact)

    def extend(self, facts: list[Fact]) -> None:
        for f in facts:
            self.add(f)

    def of(self, kind: type[F]) -> list[F]:
        out: list[F] = []
        for t, items in self._by_type.items():
            if issubclass(t, kind):
                out.extend(items)  # type: ignore[arg-type]
        return out

    def __iter__(self) -> Iterator[Fact]:
        for items in self._by_type.values():
            yield from items

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_type.values())
