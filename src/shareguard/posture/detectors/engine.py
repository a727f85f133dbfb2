"""Compile the detector patterns and run them over one text value."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from shareguard.core.memo import per_scan
from shareguard.posture.detectors.validators import VALIDATORS

_BUNDLED_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # trusted package data: libyaml is faster

try:  # RE2: linear-time matching, so a hostile value cannot make a pattern backtrack for ever
    import re2 as _re2

    _compile: Callable[[str], Any] = _re2.compile
except ImportError:  # pragma: no cover - google-re2 is a declared dependency
    _compile = re.compile

MAX_VALUE_CHARS = 64 * 1024
"""Longer values are cut: free-text fields are short; a huge blob is not a tag."""


@dataclass(frozen=True)
class Detector:
    id: str
    category: str
    """`personal`, `secret` or `url_credentials`."""
    pattern: Any
    group: int = 0
    validator: Callable[[str], bool] | None = None
    kinds: frozenset[str] | None = None
    hint: tuple[str, ...] = ()
    """Cheap prefilter: the pattern is only run when one of these substrings occurs."""
    digits: bool = False
    """Prefilter: only run on text with a digit."""


@dataclass(frozen=True)
class Detection:
    detector: str
    category: str
    value: str
    """The matched value (unmasked: mask before it leaves the process)."""
    start: int
    end: int


def _inside_url(text: str, start: int) -> bool:
    scheme = text.rfind("://", 0, start)
    return scheme >= 0 and not any(ch.isspace() or ch in "\"'<>" for ch in text[scheme:start])


@cache
def detectors() -> tuple[Detector, ...]:
    text = resources.files("shareguard.posture.detectors").joinpath("patterns.yaml").read_text(encoding="utf-8")
    out = []
    for item in yaml.load(text, Loader=_BUNDLED_LOADER):
        validator = item.get("validator")
        out.append(
            Detector(
                id=item["id"],
                category=item["category"],
                pattern=_compile(item["pattern"]),
                group=int(item.get("group", 0)),
                validator=VALIDATORS[validator] if validator else None,
                kinds=frozenset(item["kinds"]) if item.get("kinds") else None,
                hint=tuple(item.get("hint") or ()),
                digits=bool(item.get("digits")),
            )
        )
    return tuple(out)


_ASCII_DIGIT = re.compile(r"[0-9]")
_MEMO_CHARS = 256
"""Values up to this length have their detections memoised: names, labels and env values recur across
the resources and files of one scan, and a bounded memo of short values stays small. The memo is the
scan's (`core.memo.per_scan`): the values and detections are unmasked secrets, so it is dropped when the
scan returns, and outside a scan nothing is kept."""


@cache
def _plan(kind: str, categories: frozenset[str] | None) -> tuple[Detector, ...]:
    """The detectors that can apply to a field of `kind` and the wanted categories (a handful of combinations)."""
    return tuple(
        d
        for d in detectors()
        if (categories is None or d.category in categories) and (d.kinds is None or kind in d.kinds)
    )


def detect(text: str, *, kind: str = "text", categories: frozenset[str] | None = None) -> list[Detection]:
    """Every validated detection in `text` (a field of kind `kind`)."""
    if len(text) < 6:
        return []
    if len(text) <= _MEMO_CHARS:
        return list(_detect_memo(text, kind, categories))
    return _detect(text[:MAX_VALUE_CHARS], _plan(kind, categories))


@per_scan(maxsize=8192)
def _detect_memo(text: str, kind: str, categories: frozenset[str] | None) -> tuple[Detection, ...]:
    return tuple(_detect(text, _plan(kind, categories)))


def _detect(text: str, plan: tuple[Detector, ...]) -> list[Detection]:
    out: list[Detection] = []
    has_url = "://" in text
    # The digit prefilter guards patterns that need ASCII digits (RE2's `\d` and `[0-9]` are ASCII).
    has_digit = _ASCII_DIGIT.search(text) is not None
    for det in plan:
        if det.category == "url_credentials" and not has_url:
            continue
        if det.hint and not any(h in text for h in det.hint):
            continue
        if det.digits and not has_digit:
            continue
        for m in det.pattern.finditer(text):
            value = m.group(det.group)
            if value is None:
                continue
            if det.validator is not None and not det.validator(value):
                continue
            if det.category == "personal" and _inside_url(text, m.start(det.group)):
                continue  # `user:token@host` of a URL is a credential question, not an e-mail address
            out.append(Detection(det.id, det.category, value, m.start(det.group), m.end(det.group)))
    # A match inside a URL-credentials match (the `pass@host` of a URL is not an e-mail) is reported once.
    urls = [(d.start, d.end) for d in out if d.category == "url_credentials"]
    if urls:
        out = [
            d for d in out if d.category == "url_credentials" or not any(s <= d.start and d.end <= e for s, e in urls)
        ]
    return out
