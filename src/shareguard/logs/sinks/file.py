"""A JSON-lines file: one incident per line, appended (what a log shipper tails)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from shareguard.logs.sinks.base import Message, SinkError


class FileSink:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = f"file:{path}"

    def send(self, message: Message) -> None:
        line = json.dumps({"incident": message.body, "text": message.text}, sort_keys=True) + "\n"
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
            try:
                os.write(fd, line.encode())
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise SinkError(f"{self.name}: {exc}") from None
