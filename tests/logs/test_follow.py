"""`--follow`: each arriving file processed once; the position survives a restart (no re-alert, no miss)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from tests.logs.helpers import cloudtrail

from shareguard.logs.detect import Detection, builtin_rules
from shareguard.logs.follow import Follower


def _follower(folder: Path, state: Path, seen: list[str]) -> Follower:
    def on(key: str, detection: Detection) -> None:
        seen.extend(f"{key}:{a.rule.id}" for i in detection.incidents for a in i.alerts)

    return Follower(folder, state, builtin_rules(), on, suppress=3600, gap=3600)


def _doc(*events: dict[str, object]) -> bytes:
    return gzip.compress(json.dumps({"Records": list(events)}).encode())


def test_files_are_processed_once_across_a_restart(tmp_path: Path) -> None:
    drop, state = tmp_path / "drop", tmp_path / "state.json"
    drop.mkdir()
    (drop / "a.json.gz").write_bytes(_doc(cloudtrail("StopLogging", "cloudtrail.amazonaws.com")))
    seen: list[str] = []
    f = _follower(drop, state, seen)
    f.poll()  # first sight: the file may still be written
    assert seen == []
    f.poll()  # size unchanged: complete
    assert seen == ["a.json.gz:LOGS-AWS-001"]
    f.poll()
    assert seen == ["a.json.gz:LOGS-AWS-001"]

    # the process stops; a file arrives meanwhile; a new process starts from the state
    (drop / "b.json.gz").write_bytes(_doc(cloudtrail("DeleteTrail", "cloudtrail.amazonaws.com")))
    seen2: list[str] = []
    g = _follower(drop, state, seen2)
    g.poll()
    g.poll()
    assert seen2 == ["b.json.gz:LOGS-AWS-002"]  # a.json.gz not re-alerted, b.json.gz not missed


def test_growing_json_lines_are_resumed_at_the_last_complete_line(tmp_path: Path) -> None:
    drop, state = tmp_path / "drop", tmp_path / "state.json"
    drop.mkdir()
    log = drop / "audit.jsonl"
    first = json.dumps(cloudtrail("StopLogging", "cloudtrail.amazonaws.com")) + "\n"
    second = json.dumps(cloudtrail("DeleteTrail", "cloudtrail.amazonaws.com", time="2025-03-04T09:01:00Z"))
    log.write_text(first + second[:40])  # the second line is still being written
    seen: list[str] = []
    _follower(drop, state, seen).poll()
    assert seen == ["audit.jsonl:LOGS-AWS-001"]
    with log.open("a") as fh:
        fh.write(second[40:] + "\n")
    seen2: list[str] = []
    _follower(drop, state, seen2).poll()  # restarted
    assert seen2 == ["audit.jsonl:LOGS-AWS-002"]
    assert json.loads(state.read_text())["files"]["audit.jsonl"]["offset"] == len((first + second + "\n").encode())
