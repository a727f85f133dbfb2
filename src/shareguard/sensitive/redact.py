"""`shareguard data PATH --redact OUT`: a copy of the input with every detected value masked, hashed (salted)
or replaced by its detector's name.

Plain text, CSV/TSV and JSON/JSONL files are copied with each hit's bytes replaced in place (structure,
quoting and every other byte kept); files the scan reads through a container (compressed streams, archives,
Parquet) and binary files are not copied and are listed as such. OUT must not be inside the input, and the
input is never written.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from shareguard.core.context import ScanContext
from shareguard.core.errors import ConfigError
from shareguard.core.masking import mask
from shareguard.core.settings import Settings
from shareguard.sensitive.engine import Hit, engine
from shareguard.sensitive.formats import Limits, Scanner, sniff_kind
from shareguard.sensitive.options import SensitiveOptions

MODES = ("mask", "hash", "replace")
_IN_PLACE = frozenset({"text", "csv", "json", "jsonl"})


@dataclass
class RedactReport:
    written: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    replaced: int = 0


def replacement(hit: Hit, mode: str, salt: bytes) -> bytes:
    if mode == "mask":
        return mask(hit.value).encode("utf-8")
    if mode == "hash":
        digest = hmac.new(salt, hit.value.encode("utf-8"), hashlib.sha256).hexdigest()[:16]
        return f"<{hit.detector.id}:{digest}>".encode()
    return f"<{hit.detector.id}>".encode()


def redact_bytes(name: str, data: bytes, hits: list[Hit], mode: str, salt: bytes) -> bytes:
    out = bytearray(data)
    for h in sorted(hits, key=lambda h: h.start, reverse=True):
        new = replacement(h, mode, salt)
        if name.lower().endswith((".json", ".jsonl", ".ndjson", ".ipynb")):
            new = json.dumps(new.decode("utf-8"))[1:-1].encode("utf-8")  # stays a valid JSON string body
        out[h.start : h.end] = new
    return bytes(out)


def redact_tree(
    source: Path, out: Path, *, mode: str = "mask", salt: bytes | None = None, options: SensitiveOptions | None = None
) -> RedactReport:
    from shareguard.sources.workspace import check_target, walk

    if mode not in MODES:
        raise ConfigError(f"unknown redaction mode {mode!r} (one of {', '.join(MODES)})")
    check_target(source)
    src_root = (source if source.is_dir() else source.parent).resolve()
    dest = out.resolve()
    if dest == src_root or src_root in dest.parents:
        raise ConfigError("the redacted copy must not be written inside the input", path=str(out))
    opts = options or SensitiveOptions(all_files=True)
    key = salt if salt is not None else os.urandom(32)
    scanner = Scanner(engine(), Limits(max_bytes=opts.max_bytes_per_object))
    report = RedactReport()
    ctx = ScanContext(settings=Settings.from_env())
    for entry in walk(source, ctx):
        with entry.open() as fh:
            data = fh.read(opts.max_bytes_per_object + 1)
        if len(data) > opts.max_bytes_per_object:
            report.skipped.append((entry.rel_path, "over --max-bytes-per-object: not copied"))
            continue
        kind = sniff_kind(entry.rel_path, data[:8192])
        if kind not in _IN_PLACE:
            report.skipped.append((entry.rel_path, f"{kind} content is not redacted in place: not copied"))
            continue
        outcome = scanner.scan(entry.rel_path, data)
        hits = [loc.hit for loc in outcome.hits if loc.location.member is None]
        hits = [h for h in hits if h.confidence >= opts.min_confidence]
        target = dest / entry.rel_path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(redact_bytes(entry.rel_path, data, hits, mode, key))
        report.written.append(entry.rel_path)
        report.replaced += len(hits)
    return report
