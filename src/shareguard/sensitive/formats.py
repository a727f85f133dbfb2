"""Inputs: turn one object's bytes into blocks the engine scans, each with the map from a byte offset to a
location (line and column, CSV row and column, JSON field path, Parquet row and column, archive member).

Formats: plain text (anything not binary), CSV/TSV (column-aware), JSON/JSONL/notebooks (field paths),
Parquet (pyarrow, column-aware), gzip/bz2/xz/zstd (streamed, bounded), zip/tar (members, nesting and size
limits). Every reader has a budget; what it could not read is a `Skip` with the reason.
"""

from __future__ import annotations

import bisect
import bz2
import csv
import gzip
import io
import json
import lzma
import re
import tarfile
import zipfile
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from shareguard.core.resource import Location
from shareguard.sensitive.binary import classify, unsupported_reason
from shareguard.sensitive.catalog import Detector
from shareguard.sensitive.engine import ContextFn, Engine, Hit, field_keywords, resolve

COMPRESSED = (".gz", ".bz2", ".xz", ".zst", ".zstd")
ARCHIVES = (".zip", ".tar", ".tgz", ".tar.gz", ".tar.bz2", ".tar.xz", ".whl", ".jar")
TABULAR = (".csv", ".tsv", ".tab", ".psv")
JSONISH = (".json", ".jsonl", ".ndjson", ".ipynb", ".geojson")
DATA_SUFFIXES = (*TABULAR, *JSONISH, ".parquet", ".txt", ".log", ".dat", ".xml", ".sql", ".eml", ".msg", ".tfrecord")
"""Files that hold data at rest: scanning them evaluates the discover-sensitive-data duty."""
BINARY_SUFFIXES = frozenset(
    [
        ".so",
        ".a",
        ".o",
        ".dll",
        ".dylib",
        ".exe",
        ".bin",
        ".pyc",
        ".pyo",
        ".class",
        ".png",
        ".jpg",
        ".jpeg",
        ".gif",
        ".webp",
        ".ico",
        ".bmp",
        ".tif",
        ".tiff",
        ".mp3",
        ".mp4",
        ".wav",
        ".avi",
        ".mov",
        ".pdf",
        ".woff",
        ".woff2",
        ".ttf",
        ".otf",
        ".eot",
        ".pt",
        ".pth",
        ".ckpt",
        ".safetensors",
        ".onnx",
        ".h5",
        ".hdf5",
        ".pb",
        ".tflite",
        ".gguf",
        ".npy",
        ".npz",
        ".pkl",
        ".pickle",
        ".joblib",
        ".mo",
        ".db",
        ".sqlite",
        ".deb",
        ".rpm",
        ".apk",
        ".iso",
        ".img",
        ".qcow2",
    ]
)
_JSON_PATH_BYTES = 16 * 1024 * 1024
_MAX_STRINGS = 200_000


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 64 * 1024 * 1024
    """Bytes read from one object (decompressed); past that the rest is not scanned (a `Skip` says so)."""
    max_depth: int = 3
    """Archives inside archives."""
    max_members: int = 10_000
    max_ratio: int = 200
    """Decompressed/compressed ratio past which a stream is a decompression bomb (once over 1 MiB)."""


class Located(NamedTuple):
    """A hit and where it is (a named tuple, as `Hit`: one per hit)."""

    hit: Hit
    location: Location


@dataclass
class Outcome:
    hits: list[Located] = field(default_factory=list)
    skips: list[tuple[str, str]] = field(default_factory=list)
    """(where, why) parts not scanned: truncated, bomb, unreadable member, binary."""
    scanned_bytes: int = 0


def truncation_skip(name: str, scanned: int) -> tuple[str, str]:
    """The skip of an object read only up to `--max-bytes-per-object`."""
    return (name, f"only the first {scanned} bytes were scanned (--max-bytes-per-object)")


def suffixes(name: str) -> str:
    return name.lower()


def is_binary(head: bytes) -> bool:
    return b"\x00" in head[:8192]


def sniff_kind(name: str, head: bytes) -> str:
    """`parquet`, `gzip`, `bz2`, `xz`, `zstd`, `zip`, `tar`, `csv`, `json`, `jsonl`, `text` or `binary`."""
    low = name.lower()
    if head.startswith(b"PAR1") or low.endswith(".parquet"):
        return "parquet"
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"BZh") and low.endswith((".bz2", ".tbz2")):
        return "bz2"
    if head.startswith(b"\xfd7zXZ\x00"):
        return "xz"
    if head.startswith(b"\x28\xb5\x2f\xfd"):
        return "zstd"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "zip"
    if len(head) > 262 and head[257:262] == b"ustar":
        return "tar"
    if low.endswith(TABULAR):
        return "csv"
    if low.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if low.endswith((".json", ".ipynb", ".geojson")):
        return "json"
    if is_binary(head):
        return "binary"
    return "text"


def inner_name(name: str) -> str:
    low = name.lower()
    for suf in (".tgz",):
        if low.endswith(suf):
            return name[: -len(suf)] + ".tar"
    for suf in COMPRESSED:
        if low.endswith(suf):
            return name[: -len(suf)]
    return name


class Scanner:
    """Scans one object's bytes with `engine`, recursing into compressed streams and archives."""

    def __init__(self, engine: Engine, limits: Limits) -> None:
        self.engine = engine
        self.limits = limits
        self._required = [d for d in engine.detectors if d.required]

    def scan(self, name: str, data: bytes, *, truncated: bool = False) -> Outcome:
        out = Outcome()
        if truncated:
            out.skips.append(truncation_skip(name, len(data)))
        self._scan(name, data, None, 0, out)
        return out

    def scan_lines(self, kind: str, name: str, data: bytes) -> Outcome:
        """Scan a block of whole lines of an object as `kind` (`text`, `csv` with its header line first, or
        `jsonl`), without sniffing the block: a byte range of a larger object (`split.py`)."""
        out = Outcome(scanned_bytes=len(data))
        if kind == "csv":
            self._csv(name, data, None, out)
        elif kind == "jsonl":
            self._json(data, None, out, lines=True)
        else:
            self._text(data, None, out)
        return out

    # ---- dispatch --------------------------------------------------------------------------------

    def _scan(self, name: str, data: bytes, member: str | None, depth: int, out: Outcome) -> None:
        kind = sniff_kind(name, data[:8192])
        where = member or name
        if kind in ("gzip", "bz2", "xz", "zstd"):
            inner = self._decompress(kind, data, where, out)
            if inner is not None:
                self._scan(inner_name(name), inner, member, depth, out)
            return
        if kind in ("zip", "tar"):
            if depth >= self.limits.max_depth:
                out.skips.append((where, f"archive nested deeper than {self.limits.max_depth} levels: not opened"))
                return
            self._archive(kind, data, member, depth, out)
            return
        if kind == "binary":
            fmt = classify(name, data[:64])
            if fmt.carries_data:  # an image or a font in an archive has nothing to classify
                out.skips.append((where, unsupported_reason(fmt)))
            return
        out.scanned_bytes += len(data)
        if kind == "parquet":
            self._parquet(data, member, out)
        elif kind == "csv":
            self._csv(name, data, member, out)
        elif kind in ("json", "jsonl"):
            self._json(data, member, out, lines=kind == "jsonl")
        else:
            self._text(data, member, out)

    # ---- containers ------------------------------------------------------------------------------

    def _decompress(self, kind: str, data: bytes, where: str, out: Outcome) -> bytes | None:
        limit = self.limits.max_bytes
        try:
            stream: Any
            if kind == "gzip":
                stream = gzip.GzipFile(fileobj=io.BytesIO(data))
            elif kind == "bz2":
                stream = bz2.BZ2File(io.BytesIO(data))
            elif kind == "xz":
                stream = lzma.LZMAFile(io.BytesIO(data))  # noqa: SIM115 - closed with the BytesIO it reads
            else:
                import zstandard

                stream = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data))
            chunks: list[bytes] = []
            total = 0
            while total <= limit:
                chunk = stream.read(min(1 << 20, limit + 1 - total))
                if not chunk:
                    break
                chunks.append(chunk)
                total += len(chunk)
                if total > (1 << 20) and total > self.limits.max_ratio * max(1, len(data)):
                    out.skips.append((where, f"decompression bomb: over {self.limits.max_ratio}x its compressed size"))
                    return None
        except (OSError, EOFError, lzma.LZMAError, ValueError) as exc:
            out.skips.append((where, f"cannot decompress ({type(exc).__name__})"))
            return None
        except Exception as exc:  # zstandard.ZstdError
            out.skips.append((where, f"cannot decompress ({type(exc).__name__})"))
            return None
        inner = b"".join(chunks)
        if len(inner) > limit:
            out.skips.append((where, f"decompressed past {limit} bytes: only the first {limit} scanned"))
            inner = inner[:limit]
        return inner

    def _archive(self, kind: str, data: bytes, member: str | None, depth: int, out: Outcome) -> None:
        prefix = f"{member}!" if member else ""
        budget = self.limits.max_bytes
        count = 0
        try:
            if kind == "zip":
                with zipfile.ZipFile(io.BytesIO(data)) as zf:
                    for info in zf.infolist():
                        if info.is_dir():
                            continue
                        count += 1
                        if count > self.limits.max_members:
                            out.skips.append((prefix + info.filename, "too many archive members: rest not scanned"))
                            return
                        if info.file_size > budget:
                            out.skips.append((prefix + info.filename, "member over the byte budget: not scanned"))
                            continue
                        with zf.open(info) as fh:
                            body = fh.read(budget + 1)
                        if len(body) > budget:
                            out.skips.append((prefix + info.filename, "member over the byte budget: not scanned"))
                            continue
                        budget -= len(body)
                        self._scan(info.filename, body, prefix + info.filename, depth + 1, out)
            else:
                with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tf:
                    for ti in tf:
                        if not ti.isfile():
                            continue
                        count += 1
                        if count > self.limits.max_members:
                            out.skips.append((prefix + ti.name, "too many archive members: rest not scanned"))
                            return
                        if ti.size > budget:
                            out.skips.append((prefix + ti.name, "member over the byte budget: not scanned"))
                            continue
                        member_fh = tf.extractfile(ti)
                        if member_fh is None:
                            continue
                        body = member_fh.read(budget + 1)
                        budget -= len(body)
                        self._scan(ti.name, body, prefix + ti.name, depth + 1, out)
        except (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError, RuntimeError, NotImplementedError) as exc:
            out.skips.append((member or "archive", f"unreadable archive ({type(exc).__name__})"))

    # ---- text --------------------------------------------------------------------------------------

    def _text(self, data: bytes, member: str | None, out: Outcome, field_of: ContextFn | None = None) -> None:
        hits = self.engine.scan(data, field_of=field_of)
        out.hits.extend(Located(h, Location(line=ln, column=col, member=member)) for h, ln, col in _lines(data, hits))

    def _json(self, data: bytes, member: str | None, out: Outcome, *, lines: bool) -> None:
        hits = self.engine.scan(data)
        located = _lines(data, hits)
        if not located:
            return
        if lines:
            parsed: dict[int, Any] = {}
            for h, ln, col in located:
                if ln not in parsed:
                    a = data.rfind(b"\n", 0, h.start) + 1
                    b = data.find(b"\n", a)
                    raw = data[a : b if b >= 0 else len(data)]
                    parsed[ln] = _loads(raw) if len(raw) <= (1 << 20) else None
                path = _path_of(parsed[ln], h.value)
                loc = (
                    Location(line=ln, column=col, member=member, field_path=path, record=str(ln))
                    if path
                    else Location(line=ln, column=col, member=member)
                )
                out.hits.append(Located(h, loc))
            return
        doc = _loads(data) if len(data) <= _JSON_PATH_BYTES else None
        for h, ln, col in located:
            path = _path_of(doc, h.value)
            loc = (
                Location(line=ln, column=col, member=member, field_path=path)
                if path
                else Location(line=ln, column=col, member=member)
            )
            out.hits.append(Located(h, loc))

    def _csv(self, name: str, data: bytes, member: str | None, out: Outcome) -> None:
        nl = data.find(b"\n")
        header_raw = data[: nl if nl >= 0 else len(data)].rstrip(b"\r")
        header_text = header_raw.decode("utf-8", "replace")
        delim = "\t" if name.lower().endswith((".tsv", ".tab")) else _sniff_delimiter(header_text)
        columns = [c.strip().lower() for c in next(csv.reader([header_text], delimiter=delim), [])]
        dbyte = delim.encode()

        def column_at(offset: int) -> int:
            seg = data[data.rfind(b"\n", 0, offset) + 1 : offset]
            if b'"' not in seg:
                return seg.count(dbyte)
            n, quoted = 0, False
            for ch in seg:
                if ch == 34:
                    quoted = not quoted
                elif ch == dbyte[0] and not quoted:
                    n += 1
            return n

        def field_of(offset: int) -> str:
            col = column_at(offset)
            return columns[col] if col < len(columns) else ""

        hits = self.engine.scan(data, field_of=field_of)  # resolved: only column hits added below need it again
        scanned = len(hits)
        seen = {(h.detector.id, h.start) for h in hits}
        # Detectors that need context get it from a column's name: they run over that column's cells.
        starts: list[int] | None = None
        for det in self._required:
            cols = [i for i, c in enumerate(columns) if _column_matches(c, det)]
            if cols and starts is None:
                starts = _line_starts(data)
            for col in cols:
                assert starts is not None
                blob, offsets, file_offsets = _column_blob(data, starts, col, dbyte)
                if not blob:
                    continue
                for h in self.engine.scan(blob, forced=(det,), detectors=frozenset({det.id})):
                    i = bisect.bisect_right(offsets, h.start) - 1
                    file_start = file_offsets[i] + (h.start - offsets[i])
                    if (det.id, file_start) in seen:
                        continue
                    seen.add((det.id, file_start))
                    hits.append(
                        Hit(h.detector, file_start, file_start + (h.end - h.start), h.value, h.confidence, True)
                    )
        for h, ln, col in _lines(data, resolve(hits) if len(hits) > scanned else hits):
            cell = column_at(h.start)
            loc = Location(
                line=ln,
                column=col,
                member=member,
                field_path=columns[cell] if cell < len(columns) else f"column {cell + 1}",
                record=str(ln - 1),
            )
            out.hits.append(Located(h, loc))

    def _parquet(self, data: bytes, member: str | None, out: Outcome) -> None:
        try:
            import pyarrow as pa
            import pyarrow.compute as pc
            import pyarrow.parquet as pq
        except ImportError:  # pragma: no cover - pyarrow is a declared dependency
            out.skips.append((member or "parquet", "pyarrow is not installed: Parquet not scanned"))
            return
        try:
            pf = pq.ParquetFile(io.BytesIO(data))
            row_base = 0
            for rg in range(pf.num_row_groups):
                table = pf.read_row_group(rg)
                for name in table.column_names:
                    column = table.column(name)
                    forced = tuple(d for d in self._required if _column_matches(name.lower(), d))
                    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
                        if not forced:
                            continue
                        try:
                            column = pc.cast(column, pa.string())
                        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                            continue
                    values = [v if v is not None else "" for v in column.to_pylist()]
                    blob, offsets = _join(values)
                    low = name.lower()
                    for h in self.engine.scan(blob, field_of=_named(low), forced=forced):
                        row = bisect.bisect_right(offsets, h.start) - 1
                        loc = Location(member=member, field_path=name, record=str(row_base + row))
                        out.hits.append(Located(h, loc))
                row_base += table.num_rows
        except (pa.ArrowException, OSError, ValueError) as exc:
            out.skips.append((member or "parquet", f"unreadable Parquet ({type(exc).__name__})"))


# ---- helpers ---------------------------------------------------------------------------------------


def _named(name: str) -> ContextFn:
    """A field map for a block that is all one field (a Parquet column)."""

    def field_of(_offset: int) -> str:
        return name

    return field_of


def _line_starts(data: bytes) -> list[int]:
    starts = [0]
    starts.extend(m.end() for m in _NEWLINE.finditer(data))
    return starts


_NEWLINE = re.compile(rb"\n")


_VECTORISED_FROM = 1 << 20
"""Blocks whose last hit lies this far in count their newlines with numpy (imported then: ~0.1 s of start-up
that an audit of small files need not pay)."""


def _lines(data: bytes, hits: list[Hit], vectorised_from: int = _VECTORISED_FROM) -> list[tuple[Hit, int, int]]:
    """Each hit with its line and column (1-based), in order; each format then builds the hit's location once.
    In a large block the newlines before each hit are counted with numpy (`count_nonzero` of the newline mask
    up to the last hit: ~5x `bytes.count`, which took a tenth of a whole scan); in a small one, `bytes.count`."""
    if not hits:
        return []
    ordered = sorted(hits, key=lambda h: h.start)
    out: list[tuple[Hit, int, int]] = []
    line, pos = 1, 0
    if ordered[-1].start < vectorised_from:
        for h in ordered:
            start = h.start
            line += data.count(b"\n", pos, start)
            pos = start
            out.append((h, line, start - data.rfind(b"\n", 0, start)))
        return out
    import numpy as np

    newline = np.frombuffer(data, np.uint8, count=ordered[-1].start) == 10
    count = np.count_nonzero
    for h in ordered:
        start = h.start
        line += int(count(newline[pos:start]))
        pos = start
        out.append((h, line, start - data.rfind(b"\n", 0, start)))
    return out


def _loads(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return None


def _path_of(doc: Any, value: str) -> str | None:
    """The field path of the first string in `doc` that holds `value` (bounded walk)."""
    if doc is None:
        return None
    stack: list[tuple[str, Any]] = [("", doc)]
    seen = 0
    while stack and seen < _MAX_STRINGS:
        path, node = stack.pop()
        seen += 1
        if isinstance(node, str):
            if value in node:
                return path or "$"
        elif isinstance(node, dict):
            for k, v in reversed(list(node.items())):
                stack.append((f"{path}.{k}" if path else str(k), v))
        elif isinstance(node, list):
            for i in range(len(node) - 1, -1, -1):
                stack.append((f"{path}[{i}]", node[i]))
        elif isinstance(node, int | float) and not isinstance(node, bool) and str(node) == value:
            return path or "$"
    return None


def _sniff_delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _column_matches(column: str, det: Detector) -> bool:
    return bool(column) and any(k in column for k in field_keywords(det.keywords))


_CELL = {d: re.compile(rb'"(?:[^"]|"")*"|[^' + re.escape(d) + rb"\r\n]*") for d in (b",", b";", b"\t", b"|")}


def _cells(line: bytes, dbyte: bytes) -> list[tuple[int, int]]:
    """(start, end) of each cell of one CSV line (quotes honoured; a quoted cell spanning lines is cut)."""
    pattern = _CELL.get(dbyte) or re.compile(rb'"(?:[^"]|"")*"|[^' + re.escape(dbyte) + rb"\r\n]*")
    out: list[tuple[int, int]] = []
    pos = 0
    while pos <= len(line):
        m = pattern.match(line, pos)
        end = m.end() if m else pos
        out.append((pos, end))
        if end >= len(line) or line[end : end + 1] != dbyte:
            break
        pos = end + 1
    return out


def _column_blob(data: bytes, starts: list[int], col: int, dbyte: bytes) -> tuple[bytes, list[int], list[int]]:
    """The cells of column `col` (data rows) joined by newlines, each cell's offset in that blob and in `data`."""
    parts: list[bytes] = []
    offsets: list[int] = []
    file_offsets: list[int] = []
    pos = 0
    for ln in range(1, len(starts)):
        a = starts[ln]
        b = starts[ln + 1] - 1 if ln + 1 < len(starts) else len(data)
        if a >= b:
            continue
        line = data[a:b]
        cells = _cells(line, dbyte)
        if col >= len(cells):
            continue
        cs, ce = cells[col]
        cell = line[cs:ce]
        offsets.append(pos)
        file_offsets.append(a + cs)
        parts.append(cell)
        pos += len(cell) + 1
    return b"\n".join(parts), offsets, file_offsets


def _join(values: list[Any]) -> tuple[bytes, list[int]]:
    parts: list[bytes] = []
    offsets: list[int] = []
    pos = 0
    for v in values:
        b = v.encode("utf-8", "surrogatepass") if isinstance(v, str) else bytes(v)
        offsets.append(pos)
        parts.append(b)
        pos += len(b) + 1
    return b"\n".join(parts), offsets
