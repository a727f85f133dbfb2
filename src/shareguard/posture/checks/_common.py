"""Helpers the Dockerfile and Kubernetes checks share: secret-looking names and values, image trust."""

from __future__ import annotations

import fnmatch
import itertools
import re
from collections.abc import Iterable
from functools import cache, lru_cache
from importlib import resources
from typing import Any

import yaml

_BUNDLED_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # trusted package data: libyaml is faster

# Name segments that mean "this holds a credential". Matched per `_`/`-`-separated segment so
# TOKENIZERS_PARALLELISM or GPG_KEY (a public fingerprint) do not count.
_SECRET_SEGMENTS = frozenset(
    {
        "PASSWORD",
        "PASSWD",
        "PASS",
        "PWD",
        "SECRET",
        "SECRETS",
        "TOKEN",
        "APIKEY",
        "CREDENTIALS",
        "CREDENTIAL",
        "PRIVATEKEY",
    }
)
_SECRET_PAIRS = frozenset({("API", "KEY"), ("ACCESS", "KEY"), ("PRIVATE", "KEY"), ("SECRET", "KEY"), ("AUTH", "KEY")})
# A trailing segment that says the value is a pointer to a secret, not the secret.
_POINTER_SUFFIXES = frozenset(
    {"FILE", "PATH", "DIR", "URL", "URI", "ENDPOINT", "NAME", "ID", "TYPE", "HEADER", "LENGTH", "TTL", "EXPIRY",
     "REF", "ARN", "SECRETNAME", "KEYRING", "LOCATION", "VERSION", "MODE", "ENABLED", "FIELD", "PREFIX", "HOST"}
)  # fmt: skip
_PLACEHOLDER = re.compile(
    r"^(?:|\$.*|<.*>|\{\{.*\}\}|x+|\*+|changeme|change_me|dummy|none|null|redacted|todo|\.\.\.)$", re.I
)

_CAMEL = re.compile(r"([a-z])([A-Z])")
_NAME_SEPS = re.compile(r"[_\-.]")


@lru_cache(maxsize=8192)
def is_secret_name(name: str) -> bool:
    """Cached: the same variable names recur in every file of a scan."""
    segs = [s for s in _NAME_SEPS.split(_CAMEL.sub(r"\1_\2", name).upper()) if s]
    if not segs or segs[-1] in _POINTER_SUFFIXES:
        return False
    if any(s in _SECRET_SEGMENTS for s in segs) or segs[-1] == "PASS":  # DB_PASS; not PWD (the shell's cwd)
        return True
    return any((a, b) in _SECRET_PAIRS for a, b in itertools.pairwise(segs))


_FLAGS = frozenset({"true", "false", "yes", "no", "on", "off", "enabled", "disabled", "none", "auto"})
_REFERENCE = re.compile(
    r"^(?:/|\./|~/|[A-Za-z]:\\|file:|projects/[^/]+/secrets/|arn:aws[\w-]*:|sm://|vault:|gcp-secret:|secretmanager:)"
)


def is_placeholder(value: str) -> bool:
    """An empty/templated/dummy value, or one that points at a secret instead of being one (a path, an ARN…)."""
    v = value.strip()
    if v.lower() in _FLAGS or (v.isdigit() and len(v) < 6):
        return True  # ENABLE_TOKEN_AUTH=true, TOKEN_TTL=3600: settings, not credentials
    return _PLACEHOLDER.match(v) is not None or _REFERENCE.match(v) is not None


@cache
def default_trusted_registries() -> tuple[str, ...]:
    ref = resources.files("shareguard.posture").joinpath("data/trusted_registries.yaml")
    doc = yaml.load(ref.read_text(encoding="utf-8"), Loader=_BUNDLED_LOADER)
    return tuple(str(p) for p in doc.get("trusted", ()))


def is_trusted(full_name: str, patterns: Iterable[str]) -> bool:
    """`full_name` is `registry/repository` (normalised)."""
    return _trust_regex(tuple(patterns)).match(full_name) is not None


@lru_cache(maxsize=64)
def _trust_regex(patterns: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns) or "(?!)")


_FLOATING = re.compile(r"^(?:latest|nightly|edge|main|master|dev|stable)(?:[-_.].*)?$|[-_.](?:latest|nightly)$", re.I)


def is_floating_tag(tag: str) -> bool:
    """`latest`, `latest-gpu`, `nightly`, `2.1-latest`… tags that move by design."""
    return _FLOATING.search(tag) is not None
