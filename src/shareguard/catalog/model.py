"""Catalog data model: services, their duties (controls) and framework requirements."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from shareguard.core.errors import UnknownIdError


class Owner(StrEnum):
    CUSTOMER = "customer"
    PROVIDER = "provider"


class Control(BaseModel):
    """One duty of the shared-responsibility model, owned by the provider or the customer."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[A-Z][A-Z0-9]*-[CP]-\d{2}$")
    owner: Owner
    title: str
    description: str = ""
    rationale: str = ""
    source: str = ""
    """The vendor page the duty comes from."""
    references: tuple[str, ...] = ()
    """Further vendor pages that spell the duty out (per cloud, per feature)."""
    frameworks: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    """Framework key (e.g. `nist-800-53-rev5`) → requirement ids."""
    service: str = ""
    """Filled by the loader from the file the control is in."""


class Service(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    service: str
    name: str
    cloud: str
    source: str = ""
    """The service's shared-responsibility page."""
    rests_on: tuple[str, ...] = ()
    """Shared services (iam, logging, ...) whose duties also apply when you use this one."""
    controls: tuple[Control, ...]


class Requirement(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow")

    id: str
    title: str


class Framework(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow")

    key: str = ""
    framework: str
    source: str = ""
    license: str = ""
    requirements: tuple[Requirement, ...]

    def ids(self) -> set[str]:
        return {r.id for r in self.requirements}


class Catalog(BaseModel):
    model_config = ConfigDict(frozen=True)

    services: dict[str, Service]
    frameworks: dict[str, Framework]

    @property
    def controls(self) -> dict[str, Control]:
        return {c.id: c for s in self.services.values() for c in s.controls}

    def control(self, control_id: str) -> Control:
        c = self.controls.get(control_id.upper())
        if c is None:
            raise UnknownIdError(f"unknown control id {control_id!r}")
        return c

    def service(self, name: str) -> Service:
        s = self.services.get(name.lower())
        if s is None:
            raise UnknownIdError(f"unknown service {name!r} (known: {', '.join(sorted(self.services))})")
        return s

    def framework(self, key: str) -> Framework:
        f = self.frameworks.get(key)
        if f is None:
            raise UnknownIdError(f"unknown framework {key!r} (known: {', '.join(sorted(self.frameworks))})")
        return f
