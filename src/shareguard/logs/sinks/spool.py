"""Delivery with retries and a disk spool: no alert is lost across a crash, a restart or a receiver that is down.

Each message is written to the spool (`<spool>/<sink key>/<incident>.json`, atomically) before the first
attempt and removed only once the sink took it. A failed attempt is retried with exponential backoff
(`attempts`, `backoff` seconds doubling); what still fails stays in the spool and `flush` (run at the start
of every later run) delivers it first.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from shareguard.logs.sinks.base import Message, Sink, SinkError

ATTEMPTS = 4
BACKOFF = 0.5
MAX_SPOOLED = 100_000


@dataclass
class Delivery:
    delivered: list[tuple[str, str]] = field(default_factory=list)
    """(sink, message id) delivered."""
    failed: list[tuple[str, str, str]] = field(default_factory=list)
    """(sink, message id, last error) left in the spool."""


class Deliverer:
    def __init__(
        self,
        sinks: list[Sink],
        spool: Path,
        *,
        attempts: int = ATTEMPTS,
        backoff: float = BACKOFF,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.sinks = sinks
        self.spool = spool
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.sleep = sleep

    def _dir(self, sink: Sink) -> Path:
        return self.spool / hashlib.sha256(sink.name.encode()).hexdigest()[:16]

    def deliver(self, messages: list[Message]) -> Delivery:
        """Spool every message for every sink, then try them all (older spooled ones first)."""
        for sink in self.sinks:
            folder = self._dir(sink)
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            for m in messages:
                _write_atomically(folder / f"{_safe(m.id)}.json", _encode(m))
        return self.flush()

    def flush(self) -> Delivery:
        """Try every spooled message of every sink."""
        out = Delivery()
        for sink in self.sinks:
            folder = self._dir(sink)
            if not folder.is_dir():
                continue
            pending = sorted(folder.glob("*.json"), key=lambda p: (p.stat().st_mtime_ns, p.name))[:MAX_SPOOLED]
            for path in pending:
                try:
                    message = _decode(path.read_bytes())
                except (OSError, ValueError, KeyError, TypeError):
                    path.rename(path.with_suffix(".corrupt"))
                    continue
                error = self._try(sink, message)
                if error is None:
                    path.unlink(missing_ok=True)
                    out.delivered.append((sink.name, message.id))
                else:
                    out.failed.append((sink.name, message.id, error))
        return out

    def _try(self, sink: Sink, message: Message) -> str | None:
        delay = self.backoff
        error = "not attempted"
        for attempt in range(self.attempts):
            try:
                sink.send(message)
                return None
            except SinkError as exc:
                error = str(exc)
            except Exception as exc:  # a sink bug must not lose the message: it stays spooled
                error = f"{type(exc).__name__}: {exc}"
            if attempt + 1 < self.attempts:
                self.sleep(delay)
                delay *= 2
        return error


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:120]


def _encode(m: Message) -> bytes:
    return json.dumps({"id": m.id, "severity": m.severity, "title": m.title, "body": m.body, "text": m.text}).encode()


def _decode(raw: bytes) -> Message:
    d = json.loads(raw)
    return Message(d["id"], d["severity"], d["title"], d["body"], d["text"])


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
