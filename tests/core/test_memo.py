"""Per-scan memos (`core/memo.py`), and no process-wide cache keeping a scanned secret after a scan returns."""

from __future__ import annotations

import gc
import secrets
import string
import threading
from pathlib import Path

from shareguard.core import memo
from shareguard.core.memo import per_scan, scan_memos
from shareguard.scan import run_path_scan
from shareguard.sensitive.text import detect


def test_memoised_only_inside_a_scan_and_dropped_after() -> None:
    calls: list[str] = []

    @per_scan(maxsize=2)
    def upper(text: str, *, twice: bool = False) -> str:
        calls.append(text)
        return text.upper() * (2 if twice else 1)

    assert upper("a") == "A" and upper("a") == "A" and calls == ["a", "a"]  # no scan: nothing kept
    with scan_memos() as memos:
        assert memo.current() is memos
        assert upper("b") == "B" and upper("b") == "B" and calls[2:] == ["b"]
        assert upper("b", twice=True) == "BB" and calls[3:] == ["b"]  # keywords are part of the key
        assert len(memos) == 2
        upper("c")  # a full table starts over: bounded
        assert len(memos) == 1
        with scan_memos() as inner:
            assert inner is memos  # a nested scan shares the outer scan's memos
    assert memo.current() is None and len(memos) == 0 and memos.tables == {}


def test_concurrent_scans_do_not_share_memos() -> None:
    seen: dict[str, memo.ScanMemos | None] = {}

    def other() -> None:
        seen["thread, no scan"] = memo.current()
        with scan_memos() as theirs:
            seen["thread"] = theirs

    with scan_memos() as mine:
        t = threading.Thread(target=other)
        t.start()
        t.join()
    assert seen["thread, no scan"] is None and seen["thread"] is not mine


def _fake_aws_key() -> tuple[str, str]:
    """A fresh AKIA key, returned as two halves: the test itself never holds the whole string."""
    tail = "".join(secrets.choice(string.ascii_uppercase + "234567") for _ in range(16))
    return "AKIA", tail


def _holders(head: str, tail: str) -> list[str]:
    """Descriptions of the objects that still reference a string containing `head + tail`."""
    found = []

    def holds(value: object) -> bool:
        return isinstance(value, str) and tail in value and head + tail in value

    for obj in gc.get_objects():
        for ref in gc.get_referents(obj):
            # One level more: dicts and tuples of atomic values are not tracked by the collector.
            inner = gc.get_referents(ref) if isinstance(ref, dict | tuple | list | frozenset) else ()
            if holds(ref) or any(holds(r) for r in inner):
                found.append(f"{type(obj).__module__}.{type(obj).__qualname__}: {str(obj)[:120]!r}")
                break
    return found


def test_no_cache_keeps_a_scanned_secret_after_the_scan(tmp_path: Path) -> None:
    head, tail = _fake_aws_key()
    (tmp_path / "Dockerfile").write_text(
        "FROM python:3.12-slim\n"
        f"ENV AWS_ACCESS_KEY_ID={head}{tail} MODE=train\n"
        f"RUN curl -fsSL -H 'X-Key: {head}{tail}' https://example.com/t.tgz -o /tmp/t.tgz\n"
        "USER 1000\n"
    )
    (tmp_path / "job.yaml").write_text(
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: train\n"
        f"  labels:\n    owner: {head}{tail}\n"
        "spec:\n  template:\n    spec:\n      containers:\n        - name: t\n          image: python:3.12\n"
        f"          env:\n            - name: KEY\n              value: {head}{tail}\n"
    )
    (tmp_path / "main.tf").write_text(
        f'resource "aws_s3_bucket" "b" {{\n  bucket = "data"\n  tags = {{ owner = "{head}{tail}" }}\n}}\n'
    )
    (tmp_path / "train.py").write_text(f'import os\nKEY = "{head}{tail}"\nos.system("curl -H " + KEY)\n')
    (tmp_path / "config.json").write_text(f'{{"Version": "2012-10-17", "Statement": [], "Id": "{head}{tail}"}}\n')
    result = run_path_scan(tmp_path, command="audit")  # every capability's analyzers
    rules = {f.rule_id for f in result.findings}
    assert "TEXT-002" in rules  # the detectors did see the key (and their memo held it during the scan)
    assert all(tail not in (f.evidence or "") for f in result.findings)  # findings hold it masked
    assert memo.current() is None
    del result
    gc.collect()
    assert _holders(head, tail) == []


def test_detector_memo_is_empty_after_a_scan() -> None:
    head, tail = _fake_aws_key()
    with scan_memos() as memos:
        assert detect(f"key {head}{tail}", kind="tag")
        assert len(memos) == 1
    assert len(memos) == 0
    assert detect(f"key {head}{tail}", kind="tag") and memo.current() is None  # outside a scan: kept nowhere
