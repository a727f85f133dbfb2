"""`audit` reads audit-log files found in a workspace (or an image) through the one file-analyzer model.

The analyzer claims CloudTrail, Cloud Audit Logs and Kubernetes audit files by content (gzip or not),
evaluates the built-in rule pack and SigmaHQ's bundled cloud and Kubernetes rules on them and yields one finding per deduplicated alert (naming its
incident), plus the evidence of what was evaluated: for each log source present, every rule that ran on
it counts as evaluated for the monitoring duty (resource `<file>#<log source>`). An unreadable line or
a truncated file is a gap: the duty is then incomplete, not passing.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

from shareguard.core.analyzer import Output, PathHint
from shareguard.core.context import ScanContext
from shareguard.core.entry import FileEntry
from shareguard.logs.names import ANALYZER, GZIP_MAGIC, MONITORING_DUTY, sniff

SUFFIXES = (
    ".json",
    ".jsonl",
    ".ndjson",
    ".json.gz",
    ".jsonl.gz",
    ".ndjson.gz",
    ".log",
    ".log.gz",
    ".gz",
    ".csv",
    ".csv.gz",
)
SNIFF = 16 * 1024


class LogAnalyzer:
    name = ANALYZER
    version = "2"  # 2: SigmaHQ snapshot evaluated too
    controls: tuple[str, ...] = (MONITORING_DUTY,)
    path_hint = PathHint.ending(*SUFFIXES)
    sources = frozenset({"workspace"})
    """Audit logs are exported to buckets and workspaces, not baked into images: on image layers and root
    filesystems `required` would make every `.json`/`.gz` body be read for nothing (`shareguard logs` reads
    any file or folder directly)."""

    def required(self, path: str, size: int) -> bool:
        return size > 0 and path.lower().endswith(SUFFIXES)

    def claims(self, entry: FileEntry) -> bool:
        if not self.required(entry.rel_path, entry.size):
            return False
        head = entry.head(SNIFF)
        if head[:2] == GZIP_MAGIC:
            try:
                head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, SNIFF)
            except zlib.error:
                return False
        return sniff(head)

    def analyze(self, entry: FileEntry, ctx: ScanContext) -> Iterator[Output]:
        # pySigma and the decoders are imported when a log is found, not by every command's start-up.
        from shareguard.logs.detect import Detector, default_rules
        from shareguard.logs.evidence import outputs

        rules = default_rules(cache_dir=ctx.settings.cache_dir)  # built-in pack + SigmaHQ snapshot, compiled once
        detector = Detector(rules)
        with entry.open() as fh:
            detector.feed(entry.rel_path, fh)
        yield from outputs(detector.finish(), rules, ctx, self.name)
