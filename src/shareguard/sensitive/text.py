"""The detectors over one short text value: configuration tags, labels, names, env values, URLs.

The configuration checks (`posture`) call these; they run the same detector set and engine as data at
rest, so nothing is detected twice in two places. Values up to `_MEMO_CHARS` are memoised for the scan
only (`core.memo.per_scan`): the values are unmasked secrets and are dropped when the scan returns.
"""

from __future__ import annotations

from dataclasses import dataclass

from shareguard.core.memo import per_scan
from shareguard.sensitive.catalog import Confidence
from shareguard.sensitive.engine import engine

MAX_VALUE_CHARS = 64 * 1024
"""Longer values are cut: free-text fields are short; a huge blob is not a tag."""
_MEMO_CHARS = 256


@dataclass(frozen=True)
class Detection:
    detector: str
    category: str
    """`personal`, `financial` or `credential`."""
    value: str
    """The matched value (unmasked: mask before it leaves the process)."""
    start: int
    end: int
    """Character offsets into the text."""
    url: bool = False
    """A credential inside a URL."""
    confidence: Confidence = Confidence.POSSIBLE


def detect(
    text: str,
    *,
    kind: str = "text",
    urls_only: bool = False,
    min_confidence: Confidence = Confidence.POSSIBLE,
) -> list[Detection]:
    """Every validated detection in `text`, a field of kind `kind` (`tag`, `label`, `env`…)."""
    if len(text) < 6:
        return []
    found = _detect_memo(text, kind) if len(text) <= _MEMO_CHARS else _detect(text[:MAX_VALUE_CHARS], kind)
    return [d for d in found if d.confidence >= min_confidence and (d.url or not urls_only)]


@per_scan(maxsize=8192)
def _detect_memo(text: str, kind: str) -> tuple[Detection, ...]:
    return _detect(text, kind)


def _detect(text: str, kind: str) -> tuple[Detection, ...]:
    data = text.encode("utf-8", "surrogatepass")
    ascii_only = len(data) == len(text)
    out = []
    for hit in engine().scan(data):
        det = hit.detector
        if det.kinds is not None and kind not in det.kinds:
            continue
        if det.category != "credential" and _inside_url(data, hit.start):
            continue  # `user:token@host` of a URL is a credential question, not an e-mail address
        start, end = hit.start, hit.end
        if not ascii_only:
            start = len(data[:start].decode("utf-8", "surrogatepass"))
            end = start + len(data[hit.start : hit.end].decode("utf-8", "surrogatepass"))
        out.append(Detection(det.id, det.category, text[start:end], start, end, det.url, hit.confidence))
    return tuple(out)


def _inside_url(data: bytes, start: int) -> bool:
    scheme = data.rfind(b"://", 0, start)
    return scheme >= 0 and not any(ch in b" \t\r\n\"'<>" for ch in data[scheme:start])


def secret_kind(text: str) -> str | None:
    """The kind of credential `text` holds (its detector, in words), if any: for checks that flag a value
    as a secret without locating it (a Dockerfile `RUN`, a ConfigMap value)."""
    for d in detect(text):
        if d.category == "credential":
            return d.detector.replace("_", " ")
    return None
