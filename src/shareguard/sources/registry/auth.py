"""Registry credentials and the `WWW-Authenticate` challenge (Basic, and Bearer token flow).

Credentials come from `--username/--password`, else SHAREGUARD_REGISTRY_USERNAME/PASSWORD, else the
`auths` of ~/.docker/config.json (or $DOCKER_CONFIG). Credential helpers are not run: shareguard
never executes programs named by configuration.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from dataclasses import dataclass
from pathlib import Path

from shareguard.core.errors import ShareguardError
from shareguard.core.files import read_regular
from shareguard.core.safe_json import load_json
from shareguard.sources.registry.reference import DOCKER_HUB

_MAX_CONFIG_BYTES = 1024 * 1024
"""A Docker `config.json` is small; a larger file (or a FIFO, a device) is not read."""

_PARAM = re.compile(r'([A-Za-z_][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))')
_HUB_KEYS = ("https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io")


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str

    def __repr__(self) -> str:  # never print a password
        return f"Credentials(username={self.username!r}, password=***)"


@dataclass(frozen=True)
class Challenge:
    scheme: str
    """`bearer` or `basic` (lower case)."""
    params: dict[str, str]


def parse_challenge(header: str) -> Challenge | None:
    scheme, _, rest = header.strip().partition(" ")
    if not scheme:
        return None
    params = {m.group(1).lower(): (m.group(2) if m.group(2) is not None else m.group(3)) for m in _PARAM.finditer(rest)}
    return Challenge(scheme.lower(), params)


def _docker_config_auth(registry: str, config_path: Path) -> Credentials | None:
    try:
        doc = load_json(read_regular(config_path, _MAX_CONFIG_BYTES), origin=str(config_path))
    except ShareguardError:  # no usable Docker config: anonymous access, as `docker` does
        return None
    auths = doc.get("auths") if isinstance(doc, dict) else None
    if not isinstance(auths, dict):
        return None
    keys = [registry, f"https://{registry}", f"http://{registry}", f"https://{registry}/v1/", f"https://{registry}/v2/"]
    if registry == DOCKER_HUB:
        keys = list(_HUB_KEYS) + keys
    for key in keys:
        entry = auths.get(key)
        if not isinstance(entry, dict):
            continue
        if isinstance(entry.get("auth"), str) and entry["auth"]:
            try:
                user, sep, password = base64.b64decode(entry["auth"]).decode("utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError):
                continue
            if sep:
                return Credentials(user, password)
        if isinstance(entry.get("username"), str) and isinstance(entry.get("password"), str):
            return Credentials(entry["username"], entry["password"])
    return None


def find_credentials(
    registry: str,
    username: str | None = None,
    password: str | None = None,
    env: dict[str, str] | None = None,
) -> Credentials | None:
    environ = os.environ if env is None else env
    if username:
        return Credentials(username, password or "")
    env_user = environ.get("SHAREGUARD_REGISTRY_USERNAME")
    if env_user:
        return Credentials(env_user, environ.get("SHAREGUARD_REGISTRY_PASSWORD", ""))
    config_dir = environ.get("DOCKER_CONFIG")
    config = Path(config_dir) / "config.json" if config_dir else Path.home() / ".docker" / "config.json"
    return _docker_config_auth(registry, config)
