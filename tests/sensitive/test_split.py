"""Byte-range parts: the ranges tile an object line by line, each block holds its own lines with context
around them, a CSV part gets the header, and the overlap outlasts every detector's value and window."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st

from shareguard.sensitive.catalog import load_detectors
from shareguard.sensitive.split import MIN_PART, OVERLAP, LineBase, Part, balance, plan, read_block


def _parts(size: int, count: int, kind: str = "text") -> list[Part]:
    edges = [size * i // count for i in range(count + 1)]
    return [Part("f", "f", size, kind, i, count, edges[i], edges[i + 1]) for i in range(count)]


@settings(max_examples=200, deadline=None)
@given(
    lines=st.lists(st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"")), max_size=60),
    tail=st.booleans(),
    count=st.integers(min_value=1, max_value=12),
    cut=st.integers(min_value=0, max_value=2000),
)
def test_parts_tile_the_object_line_by_line(lines: list[bytes], tail: bool, count: int, cut: int) -> None:
    data = b"\n".join(lines) + (b"\n" if tail else b"")
    limit = max(1, min(len(data), cut)) if cut else len(data)
    owned = b""
    newlines: list[int] = []
    for part in _parts(min(len(data), limit), count):
        block = read_block(io.BytesIO(data), part, limit)
        own = block.data[block.own_start : block.own_end]
        if own:
            start = len(owned)
            assert start == 0 or data[start - 1 : start] == b"\n"  # a part starts at a line start
            assert block.data.count(b"\n", 0, block.own_start) + 1 == block.first_line
        owned += own
        newlines.append(block.newlines)
        assert block.object_size == len(data)
    assert owned == data[:limit]  # every byte owned once, in order
    base = LineBase(newlines)
    assert base.first_line(count - 1) == 1 + sum(newlines[:-1])
    assert sum(newlines) == data[:limit].count(b"\n")


def test_a_block_carries_context_on_both_sides_and_the_csv_header() -> None:
    header = b"id,name,date_of_birth"
    rows = [b"%d,name %d,1980-01-%02d" % (i, i, 1 + i % 28) for i in range(40_000)]
    data = header + b"\n" + b"\n".join(rows) + b"\n"
    parts = _parts(len(data), 4, "csv")
    block = read_block(io.BytesIO(data), parts[2], len(data))
    assert block.data.startswith(header + b"\n")
    before = block.own_start - len(header) - 1
    assert before == OVERLAP  # the context before, from the middle of a line
    assert len(block.data) - block.own_end == OVERLAP
    first = read_block(io.BytesIO(data), parts[0], len(data))
    assert first.own_start == 0 and first.data.startswith(header + b"\n" + rows[0])  # no second header


def test_a_single_line_longer_than_a_part_is_owned_by_the_part_it_starts_in() -> None:
    data = b"head\n" + b"x" * 50_000 + b"\nlast\n"
    blocks = [read_block(io.BytesIO(data), p, len(data)) for p in _parts(len(data), 5)]
    owned = [b.data[b.own_start : b.own_end] for b in blocks]
    assert owned[0] == b"head\n" + b"x" * 50_000 + b"\n"
    assert owned[1:4] == [b"", b"", b""] and owned[4] == b"last\n"


def test_the_overlap_outlasts_every_detector() -> None:
    assert all(d.max_len + d.window + 256 <= OVERLAP // 4 for d in load_detectors())


def test_only_large_line_objects_are_split_and_the_shards_balance() -> None:
    asked: list[str] = []

    def kind_of(key: str, where: str) -> str | None:
        asked.append(key)
        return {"big.log": "text", "big.json": None}.get(key)

    objects = [("big.log", "/x/big.log", 40 * MIN_PART), ("big.json", "/x/big.json", 40 * MIN_PART)]
    objects += [(f"s{i}.txt", f"/x/s{i}.txt", 1000 + i) for i in range(9)]
    parts = plan(objects, kind_of, workers=2, max_bytes=64 * MIN_PART)
    assert sorted(asked) == ["big.json", "big.log"]  # small objects are not even looked at
    split = [p for p in parts if p.key == "big.log"]
    assert len(split) == 4 and {p.count for p in split} == {4}  # parts of total / (2 workers * 4)
    assert [p.start for p in split[1:]] == [p.end for p in split[:-1]] and split[-1].end == 40 * MIN_PART
    assert sum(p.key == "big.json" for p in parts) == 1  # a JSON document stays whole
    capped = plan(objects, kind_of, workers=2, max_bytes=8 * MIN_PART)
    assert max(p.end for p in capped if p.key == "big.log") == 8 * MIN_PART  # only what the budget reads
    shards = balance(parts, 2)
    load = [sum(p.nominal for s, p in shards if s == i) for i in range(2)]
    assert abs(load[0] - load[1]) <= 5 * MIN_PART
    assert [s for s, _ in shards] == sorted(s for s, _ in shards) and shards[0][0] == 0
