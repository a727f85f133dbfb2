"""`--follow DIR`: tail a folder where a log shipper drops files, each processed once, across restarts.

The state file (JSON, written atomically after every file) remembers, per file name, how many bytes were
processed. A JSON-lines file is read up to its last complete line and resumed there when it grows; any
other file (a `{"Records": [...]}` document, a gzip) is processed whole once its size has stayed the same
for one poll (the shipper finished writing it). Restarting reads the state and goes on where it stopped:
no file is read twice, none is missed. Incidents are delivered to the sinks as each file is processed
(through the spool, so a receiver that is down loses nothing).
"""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shareguard.core.errors import ConfigError
from shareguard.logs.detect import Detection, Detector
from shareguard.logs.inputs import LOG_SUFFIXES
from shareguard.logs.ruleset import RuleSet

STATE_VERSION = 1
MAX_CHUNK = 256 * 1024 * 1024
"""Bytes of a growing JSON-lines file read per poll."""


@dataclass
class FileState:
    offset: int = 0
    done: bool = False
    last_size: int = -1


@dataclass
class FollowState:
    files: dict[str, FileState] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> FollowState:
        if not path.exists():
            return cls()
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            if doc.get("version") != STATE_VERSION:
                raise ValueError(f"state version {doc.get('version')}")
            files = {
                str(k): FileState(int(v["offset"]), bool(v["done"]), int(v.get("last_size", -1)))
                for k, v in doc["files"].items()
            }
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ConfigError(f"unreadable follow state ({exc}); move it away to start over", path=str(path)) from None
        return cls(files)

    def save(self, path: Path) -> None:
        doc: dict[str, Any] = {
            "version": STATE_VERSION,
            "files": {
                k: {"offset": v.offset, "done": v.done, "last_size": v.last_size} for k, v in sorted(self.files.items())
            },
        }
        tmp = path.with_name(path.name + f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(doc, indent=1), encoding="utf-8")
        os.replace(tmp, path)


def _json_lines(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith((".jsonl", ".ndjson", ".log"))


class Follower:
    """One poll at a time (`poll`); `run` loops. Each processed file's detection goes to `on_detection`."""

    def __init__(
        self,
        folder: Path,
        state_path: Path,
        rules: RuleSet,
        on_detection: Callable[[str, Detection], None],
        *,
        suppress: float,
        gap: float,
    ) -> None:
        if not folder.is_dir():
            raise ConfigError("--follow needs a folder", path=str(folder))
        self.folder = folder
        self.state_path = state_path
        self.state = FollowState.load(state_path)
        self.rules = rules
        self.on_detection = on_detection
        self.detector = Detector(rules, suppress=suppress, gap=gap)
        """One evaluator for the whole run: correlation windows span files (not restarts)."""

    def poll(self) -> int:
        """Process what is new; returns how many files (or file parts) were processed."""
        processed = 0
        for path in sorted(p for p in self.folder.rglob("*") if p.is_file() and not p.is_symlink()):
            if not path.name.lower().endswith(LOG_SUFFIXES):
                continue
            key = path.relative_to(self.folder).as_posix()
            st = self.state.files.setdefault(key, FileState())
            size = path.stat().st_size
            if _json_lines(path) and not path.name.lower().endswith(".gz"):
                if size > st.offset:
                    processed += self._lines(path, key, st, size)
            elif not st.done:
                if size == st.last_size and size > 0:
                    self._whole(path, key)
                    st.done, st.offset = True, size
                    processed += 1
                else:
                    st.last_size = size
            self.state.save(self.state_path)
        return processed

    def _whole(self, path: Path, key: str) -> None:
        with path.open("rb") as fh:
            self.detector.feed(key, fh)
        self.on_detection(key, self.detector.take())

    def _lines(self, path: Path, key: str, st: FileState, size: int) -> int:
        with path.open("rb") as fh:
            fh.seek(st.offset)
            chunk = fh.read(min(size - st.offset, MAX_CHUNK))
        end = chunk.rfind(b"\n")
        if end < 0:
            return 0  # no complete line yet
        chunk = chunk[: end + 1]
        # Lines are counted from the offset the read started at (the origin says which).
        self.detector.feed(f"{key}@{st.offset}", io.BytesIO(chunk))
        st.offset += len(chunk)
        self.on_detection(key, self.detector.take())
        return 1

    def run(self, interval: float, cycles: int = 0, sleep: Callable[[float], None] = time.sleep) -> None:
        """Poll every `interval` seconds; `cycles` > 0 stops after that many polls (0: until interrupted)."""
        n = 0
        while True:
            self.poll()
            n += 1
            if cycles and n >= cycles:
                return
            sleep(interval)
