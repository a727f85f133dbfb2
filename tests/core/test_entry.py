"""FileEntry: lazy content, budgets, and the sniffed head reused as the whole content of small files."""

from __future__ import annotations

from pathlib import Path

import pytest

from shareguard.core.entry import SNIFF_BYTES, FileEntry
from shareguard.core.errors import BudgetExceeded


def _entry(path: Path) -> FileEntry:
    return FileEntry(rel_path=path.name, size=path.stat().st_size, abs_path=path)


@pytest.mark.parametrize("size", [0, 10, SNIFF_BYTES - 1, SNIFF_BYTES, SNIFF_BYTES + 1, 3 * SNIFF_BYTES])
def test_read_after_head_gives_the_whole_file(tmp_path: Path, size: int) -> None:
    path = tmp_path / "f.yaml"
    content = bytes(65 + (i * 7) % 26 for i in range(size))
    path.write_bytes(content)
    entry = _entry(path)
    assert entry.head(16) == content[:16]
    assert entry.read(10 * SNIFF_BYTES) == content
    assert entry.read_text(10 * SNIFF_BYTES) == content.decode("utf-8", errors="replace")


def test_budget_still_applies_after_head(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_bytes(b"a: 1\n" * 20)
    entry = _entry(path)
    entry.head()
    with pytest.raises(BudgetExceeded):
        entry.read(10)
