"""The detector set: loaded from data (`data/detectors.yaml`, or a file given by `SHAREGUARD_DETECTORS`).

A detector is a value pattern, an optional validator, context keywords and a base confidence. Nothing here
matches anything: `engine.py` compiles the set once per process into multi-pattern databases.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import IntEnum
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from shareguard.core.errors import CatalogError
from shareguard.sensitive.validators import VALIDATORS

_BUNDLED_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

CATEGORIES = ("personal", "financial", "credential")
DEFAULT_WINDOW = 64
DEFAULT_MAX_LEN = 600


class Confidence(IntEnum):
    """Likelihood levels as Sensitive Data Protection (DLP) names them."""

    VERY_UNLIKELY = 1
    UNLIKELY = 2
    POSSIBLE = 3
    LIKELY = 4
    VERY_LIKELY = 5

    @classmethod
    def parse(cls, text: str) -> Confidence:
        try:
            return cls[text.strip().upper().replace("-", "_").replace(" ", "_")]
        except KeyError:
            raise ValueError(f"unknown confidence {text!r} (one of {', '.join(c.label for c in cls)})") from None

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Detector:
    id: str
    category: str
    """`personal`, `financial` or `credential`."""
    pattern: str
    group: int = 0
    validator: str | None = None
    keywords: tuple[str, ...] = ()
    """Lower-case context words."""
    window: int = DEFAULT_WINDOW
    required: bool = False
    """Context required: reported only with a keyword; found from the keyword."""
    confidence: Confidence = Confidence.POSSIBLE
    severity: str | None = None
    url: bool = False
    kinds: frozenset[str] | None = None
    max_len: int = DEFAULT_MAX_LEN
    exclude: frozenset[str] = frozenset()
    prefilter: str | None = None
    """A cheaper superset for the multi-pattern pass, where the pattern itself is costly there: some match of
    it must end inside every value the pattern reports (the region verified reaches the pattern's longest
    match back and forward from it, see `width.py`)."""
    database: str = ""
    """The multi-pattern database its value pattern (or prefilter) is compiled into: '' the main one; a name
    groups detectors into a database of their own (`engine.py`)."""

    @property
    def label(self) -> str:
        return self.id.replace("_", " ")


def _detector(item: Any, origin: str) -> Detector:
    if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not isinstance(item.get("pattern"), str):
        raise CatalogError("each detector needs an `id` and a `pattern`", path=origin)
    did = item["id"]
    category = item.get("category")
    if category not in CATEGORIES:
        raise CatalogError(f"detector {did}: category must be one of {CATEGORIES}", path=origin)
    validator = item.get("validator")
    if validator is not None and validator not in VALIDATORS:
        raise CatalogError(f"detector {did}: unknown validator {validator!r}", path=origin)
    context = item.get("context", "optional")
    if context not in ("optional", "required"):
        raise CatalogError(f"detector {did}: context must be optional or required", path=origin)
    keywords = tuple(str(k).lower() for k in item.get("keywords") or ())
    if context == "required" and not keywords:
        raise CatalogError(f"detector {did}: context required but no keywords", path=origin)
    if context == "required" and item.get("database"):
        raise CatalogError(f"detector {did}: context required: its keywords are in the main database", path=origin)
    try:
        confidence = Confidence.parse(str(item.get("confidence", "possible")))
    except ValueError as exc:
        raise CatalogError(f"detector {did}: {exc}", path=origin) from None
    return Detector(
        id=did,
        category=category,
        pattern=item["pattern"],
        group=int(item.get("group", 0)),
        validator=validator,
        keywords=keywords,
        window=int(item.get("window", DEFAULT_WINDOW)),
        required=context == "required",
        confidence=confidence,
        severity=item.get("severity"),
        url=bool(item.get("url", False)),
        kinds=frozenset(item["kinds"]) if item.get("kinds") else None,
        max_len=int(item.get("max_len", DEFAULT_MAX_LEN)),
        exclude=frozenset(str(v) for v in item.get("exclude") or ()),
        prefilter=str(item["prefilter"]) if item.get("prefilter") else None,
        database=str(item.get("database") or ""),
    )


def parse_detectors(text: str, origin: str) -> tuple[Detector, ...]:
    try:
        doc = yaml.load(text, Loader=_BUNDLED_LOADER)
    except yaml.YAMLError as exc:
        raise CatalogError(f"invalid YAML: {exc}", path=origin) from None
    if not isinstance(doc, list):
        raise CatalogError("expected a list of detectors", path=origin)
    out = tuple(_detector(item, origin) for item in doc)
    ids = [d.id for d in out]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise CatalogError(f"duplicate detector ids: {', '.join(dupes)}", path=origin)
    return out


BUNDLED = "shareguard.sensitive.data"


def detector_source() -> str:
    """Where the detector set comes from: `SHAREGUARD_DETECTORS` (a YAML file) or the bundled snapshot."""
    return os.environ.get("SHAREGUARD_DETECTORS") or f"{BUNDLED}/detectors.yaml"


@cache
def load_detectors(source: str | None = None) -> tuple[Detector, ...]:
    src = source or detector_source()
    if src.startswith(BUNDLED + "/"):
        text = resources.files(BUNDLED).joinpath("detectors.yaml").read_text(encoding="utf-8")
    else:
        try:
            text = Path(src).read_text(encoding="utf-8")
        except OSError as exc:
            raise CatalogError(f"cannot read detectors: {exc.strerror or exc}", path=src) from None
    return parse_detectors(text, src)
