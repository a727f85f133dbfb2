"""Image references as Docker parses them: `[registry[:port]/]repository[:tag][@digest]`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from shareguard.core.errors import InputError
from shareguard.sources.image.digest import parse_digest

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_HOST = re.compile(r"^(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:]+\])(?::[0-9]{1,5})?$")


@dataclass(frozen=True)
class Reference:
    registry: str
    """As written (`docker.io` for Docker Hub), with port."""
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def api_host(self) -> str:
        return DOCKER_HUB_API if self.registry == DOCKER_HUB else self.registry

    @property
    def ref(self) -> str:
        """What the manifest endpoint is asked for: the digest if pinned, else the tag."""
        return self.digest or self.tag or "latest"

    def __str__(self) -> str:
        out = f"{self.registry}/{self.repository}"
        if self.tag:
            out += f":{self.tag}"
        if self.digest:
            out += f"@{self.digest}"
        return out


def parse_reference(text: str) -> Reference:
    raw = text.strip()
    if not raw or len(raw) > 1024 or any(c.isspace() for c in raw):
        raise InputError(f"invalid image reference {text[:100]!r}")
    name, _, digest = raw.partition("@")
    if digest:
        parse_digest(digest)
    tag = None
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name, tag = name.rsplit(":", 1)
        if not _TAG.match(tag):
            raise InputError(f"invalid tag {tag!r} in image reference {text[:100]!r}")
    first, sep, rest = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost" or first.startswith("[")):
        registry, repository = first, rest
        if not _HOST.match(registry):
            raise InputError(f"invalid registry host {registry!r}")
    else:
        registry, repository = DOCKER_HUB, name
    if registry == DOCKER_HUB and "/" not in repository:
        repository = f"library/{repository}"
    if not repository or not all(_COMPONENT.match(c) for c in repository.split("/")):
        raise InputError(f"invalid repository name in image reference {text[:100]!r}")
    if tag is None and not digest:
        tag = "latest"
    return Reference(registry=registry, repository=repository, tag=tag, digest=digest or None)
