"""Decode audit-log files into events: CloudTrail, Google Cloud Audit Logs, Kubernetes audit.

Accepted shapes (gzip-compressed or not, recognised by content, never by name):
- CloudTrail as delivered to S3: one document `{"Records": [...]}`; JSON lines of events (CloudTrail Lake
  and Athena exports of whole events, log shippers); JSON lines of `{"Records": [...]}` documents.
- Cloud Audit Logs `LogEntry` objects (`protoPayload` of type AuditLog): JSON lines as exported to files,
  or the JSON array `gcloud logging read --format=json` prints.
- CloudTrail query results: Athena and CloudTrail Lake CSV (a header of the table's lower-case columns),
  CloudTrail Lake JSON (`QueryResultRows`); rows mapped back to records by `tabular.py`.
- Kubernetes audit `Event`s (`audit.k8s.io/v1`), JSON lines as the API server writes them (EKS: also
  the CloudWatch Logs subscription envelope `{"logEvents": [{"message": "<event>"}]}`). GKE writes
  its audit log as Cloud Audit Logs: those entries are evaluated as GCP events and, through `gke.py`,
  as Kubernetes audit events too.

Budgets: one line (one event) is at most `max_line_bytes`; a whole document at most `max_document_bytes`.
A bad line is an issue naming it, and the rest is read; a truncated gzip keeps what came before it.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import orjson

from shareguard.logs.events import LogEvent, LogIssue, LogKind
from shareguard.logs.fields import ARRAYS, OBJECTS, materialise
from shareguard.logs.gke import k8s_view
from shareguard.logs.names import GZIP_MAGIC as GZIP_MAGIC  # re-exported
from shareguard.logs.names import sniff as sniff  # re-exported
from shareguard.logs.tabular import csv_rows, is_csv_header, lake_rows, text_lines

simdjson: Any
try:
    import simdjson
except ImportError:  # pragma: no cover - a dependency; without it every document goes through orjson
    simdjson = None

MAX_LINE_BYTES = 8 * 1024 * 1024
"""The largest single event (CloudTrail caps events at 256 KB; Kubernetes request bodies can be larger)."""
MAX_DOCUMENT_BYTES = 512 * 1024 * 1024
"""The largest whole JSON document (`{"Records": [...]}`, a JSON array) read at once."""
HEAD_BYTES = 64 * 1024
NEWLINE = b"\n"


def kind_of(obj: dict[str, Any]) -> LogKind | None:
    """The log an event belongs to, from its shape."""
    if "eventName" in obj and "eventSource" in obj:
        return LogKind.CLOUDTRAIL
    if "protoPayload" in obj:
        return LogKind.GCP_AUDIT
    api = obj.get("apiVersion")
    if obj.get("kind") == "Event" and type(api) is str and api.startswith("audit.k8s.io/"):
        return LogKind.K8S_AUDIT
    return None


@dataclass
class Decoder:
    """Decodes one input into events; what could not be read is collected in `issues`."""

    origin: str
    max_line_bytes: int = MAX_LINE_BYTES
    max_document_bytes: int = MAX_DOCUMENT_BYTES
    issues: list[LogIssue] = field(default_factory=list)
    counts: dict[LogKind, int] = field(default_factory=dict)
    unknown: int = 0
    _first_unknown: str | None = None

    def events(self, raw: BinaryIO) -> Iterator[LogEvent]:
        """The events of `raw` (a binary stream, gzip or plain)."""
        stream: io.BufferedReader = (
            raw if isinstance(raw, io.BufferedReader) else io.BufferedReader(_Raw(raw), HEAD_BYTES)
        )
        if stream.peek(2)[:2] == GZIP_MAGIC:
            stream = io.BufferedReader(_Raw(gzip.GzipFile(fileobj=stream, mode="rb")), HEAD_BYTES)
        try:
            head = stream.peek(HEAD_BYTES)
            if is_csv_header(head):
                yield from self._csv(stream)
            elif _json_lines(head):
                yield from self._lines(stream)
            else:
                yield from self._document(stream)
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            self.issues.append(
                LogIssue(self.origin, None, f"truncated or corrupt gzip ({exc}); events before it were read", True)
            )
        if self.unknown:
            self.issues.append(
                LogIssue(
                    self.origin,
                    self._first_unknown,
                    f"{self.unknown} JSON object(s) are not CloudTrail, Cloud Audit Log or Kubernetes audit events",
                )
            )

    def _document(self, stream: BinaryIO) -> Iterator[LogEvent]:
        data = stream.read(self.max_document_bytes + 1)
        if len(data) > self.max_document_bytes:
            self.issues.append(
                LogIssue(self.origin, None, f"JSON document over the {self.max_document_bytes}-byte budget", True)
            )
            return
        if not data.strip():
            return
        lazy = _lazy_parse(data)
        if lazy is not None:
            yield from self._objects(lazy, "record")
            return
        try:
            doc = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            self.issues.append(LogIssue(self.origin, _line_of(data, exc.pos), f"invalid JSON: {exc.msg}", True))
            return
        yield from self._objects(doc, "record")

    def _csv(self, stream: BinaryIO) -> Iterator[LogEvent]:
        """An Athena or CloudTrail Lake CSV query result (see tabular.py)."""
        issues = self.issues
        origin = self.origin

        def lines() -> Iterator[str]:
            for line in text_lines(stream, self.max_line_bytes):
                if type(line) is int:
                    issues.append(LogIssue(origin, f"line {line}", f"row over the {self.max_line_bytes}-byte budget"))
                    yield "\n"
                else:
                    yield str(line)

        yield from self._rows(csv_rows(lines()), "line")

    def _rows(self, rows: Iterator[tuple[int, dict[str, Any] | None, str | None]], unit: str) -> Iterator[LogEvent]:
        for number, event, problem in rows:
            if event is None:
                self.issues.append(LogIssue(self.origin, f"{unit} {number}", problem or "unreadable row"))
                continue
            yield from self._one(event, f"{unit} {number}")

    def _lines(self, stream: BinaryIO) -> Iterator[LogEvent]:
        limit = self.max_line_bytes
        number = 0
        loads = orjson.loads
        while True:
            line = stream.readline(limit + 1)
            if not line:
                return
            number += 1
            if len(line) > limit and not line.endswith(b"\n"):
                self.issues.append(LogIssue(self.origin, f"line {number}", f"event over the {limit}-byte budget"))
                while (rest := stream.readline(limit)) and not rest.endswith(b"\n"):
                    pass
                continue
            try:
                obj = loads(line)
            except orjson.JSONDecodeError as exc:
                if not line.strip():
                    continue
                self.issues.append(LogIssue(self.origin, f"line {number}", f"invalid JSON: {exc.msg}"))
                continue
            if type(obj) is dict:
                kind = kind_of(obj)
                if kind is LogKind.CLOUDTRAIL:  # the common case first
                    self.counts[kind] = self.counts.get(kind, 0) + 1
                    yield LogEvent(kind, obj, self.origin, f"line {number}")
                    continue
            yield from self._objects(obj, f"line {number}", single=True)

    def _objects(self, doc: Any, where: str, *, single: bool = False) -> Iterator[LogEvent]:
        """Events of a decoded document: a `Records` wrapper, a CloudWatch envelope, an array, one event."""
        if type(doc) in ARRAYS:
            for i, item in enumerate(doc):
                yield from self._one(item, f"{where} {i}" if not single else f"{where} item {i}")
            return
        if type(doc) in OBJECTS:
            records = doc.get("Records")
            if type(records) in ARRAYS:
                prefix = f"{where} " if not single else f"{where} record "
                cloudtrail = LogKind.CLOUDTRAIL
                n = 0
                for i, item in enumerate(records):
                    # CloudTrail's own document: its events take the short road (no per-event generator)
                    if type(item) in OBJECTS and "eventName" in item and "eventSource" in item:
                        n += 1
                        yield LogEvent(cloudtrail, item, self.origin, f"{prefix}{i}")
                    else:
                        yield from self._one(item, f"{prefix}{i}")
                if n:
                    self.counts[cloudtrail] = self.counts.get(cloudtrail, 0) + n
                return
            if "QueryResultRows" in doc:  # CloudTrail Lake's JSON query results
                yield from self._rows(lake_rows(_plain(doc.get("QueryResultRows"))), "row")
                return
            log_events = doc.get("logEvents")
            if type(log_events) in ARRAYS:
                for i, item in enumerate(log_events):
                    message = item.get("message") if type(item) in OBJECTS else None
                    try:
                        inner = orjson.loads(message) if type(message) is str else None
                    except orjson.JSONDecodeError as exc:
                        self.issues.append(LogIssue(self.origin, f"{where} logEvent {i}", f"invalid JSON: {exc.msg}"))
                        continue
                    yield from self._one(inner, f"{where} logEvent {i}")
                return
        yield from self._one(doc, where)

    def _one(self, obj: Any, where: str) -> Iterator[LogEvent]:
        kind = kind_of(obj) if type(obj) in OBJECTS else None
        if kind is None:
            self.unknown += 1
            if self._first_unknown is None:
                self._first_unknown = where
            return
        self.counts[kind] = self.counts.get(kind, 0) + 1
        yield LogEvent(kind, obj, self.origin, where)
        if kind is LogKind.GCP_AUDIT and _gke(obj):
            view = k8s_view(materialise(obj))
            if view is not None:
                self.counts[LogKind.K8S_AUDIT] = self.counts.get(LogKind.K8S_AUDIT, 0) + 1
                yield LogEvent(LogKind.K8S_AUDIT, view, self.origin, where)


class _Raw(io.RawIOBase):
    """Any binary stream (fsspec files, stdin, gzip) as the raw stream a `BufferedReader` wants."""

    def __init__(self, inner: BinaryIO | gzip.GzipFile) -> None:
        self._inner = inner

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._inner.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        return n


def _plain(value: Any) -> Any:
    """A lazily decoded array or object as plain Python values."""
    if type(value) in ARRAYS and type(value) is not list:
        return value.as_list()
    if type(value) in OBJECTS and type(value) is not dict:
        return value.as_dict()
    return value


def _gke(entry: Any) -> bool:
    payload = entry.get("protoPayload")
    method = payload.get("methodName") if type(payload) in OBJECTS else None
    return type(method) is str and method.startswith("io.k8s.")


def _lazy_parse(data: bytes) -> Any:
    """A whole document decoded lazily with simdjson (fields become Python objects only when a rule reads
    them; an event some rule matches is converted whole, see evaluator.py), or None to take the orjson path
    (simdjson missing, or a document it refuses: orjson then names the error)."""
    if simdjson is None:
        return None
    try:
        return simdjson.Parser().parse(data)
    except (ValueError, RuntimeError, MemoryError):
        return None


def _json_lines(head: bytes) -> bool:
    """True when the input is JSON lines: its first line alone is a complete JSON object."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text.startswith(b"{"):
        return False
    end = text.find(b"\n")
    if end < 0:
        return False  # one line, or a first line over the head: read as one document
    try:
        return type(orjson.loads(text[:end])) is dict
    except orjson.JSONDecodeError:
        return False


def _line_of(data: bytes, pos: int | None) -> str | None:
    if pos is None:
        return None
    return f"line {data.count(NEWLINE, 0, pos) + 1}"
