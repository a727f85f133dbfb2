"""The matching engine: one multi-pattern prefilter over large byte blocks, then exact patterns, validators
and context only around the candidates it reports.

- Hyperscan (the `hyperscan` package) compiles every detector's value pattern, and the keywords of the
  detectors that need context, into block-mode databases (the main one, and one per `database` name the
  detector data gives), once per process and detector set. A block is scanned in C; Python sees only the
  candidates (pattern id and end offset).
- Around each candidate the detector's exact pattern runs with RE2 (linear time) on a bounded region, its
  validator on each match, and the context keywords on a window around it.
- Where Hyperscan is not installed, RE2 finds the candidates instead (each pattern over the block, still
  linear time; slower).

Offsets are byte offsets into the scanned block; values are decoded UTF-8 (unmasked: whoever makes a
finding of a `Hit` masks it).
"""

from __future__ import annotations

import bisect
import hashlib
import importlib
import os
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import re2

from shareguard.core.settings import Settings
from shareguard.sensitive.catalog import Confidence, Detector, load_detectors
from shareguard.sensitive.groups import value_is_whole_match
from shareguard.sensitive.validators import VALIDATORS
from shareguard.sensitive.width import Width, width

_hs: Any
try:  # Hyperscan is a declared dependency; where its wheel cannot install, RE2 finds the candidates
    _hs = importlib.import_module("hyperscan")
except ImportError:  # pragma: no cover
    _hs = None

KEYWORD_ID = 1 << 16
"""Pattern ids from here on are a required-context detector's keywords (id - KEYWORD_ID = its index)."""
SPLIT_FROM = 2048
"""Blocks from this size on are scanned by the databases of each `database` name in turn; shorter ones (a
tag, a small file) by one database of every pattern: each scan costs ~0.6 µs before its first byte, which
below ~2 KB outweighs what the split saves per byte (benchmarks/sensitive.md)."""
_EDGE_SLACK = 256


class Hit(NamedTuple):
    """One validated match (a named tuple: made once per match, at a third of a frozen dataclass's cost)."""

    detector: Detector
    start: int
    end: int
    value: str
    """The matched value, unmasked: mask it before it leaves the process."""
    confidence: Confidence
    context: bool
    """A context keyword was found near it (or in its column / field name)."""


ContextFn = Callable[[int], str]
"""offset → the name of the field (CSV column, JSON path, Parquet column) the offset lies in, or ''."""


def _re2_options(pattern: str) -> Any:
    opts = re2.Options()
    opts.max_mem = 64 << 20
    return opts


@dataclass
class _Compiled:
    detector: Detector
    validator: Callable[[str], bool] | None
    keyword_bytes: tuple[bytes, ...]
    field_keywords: tuple[str, ...]
    """The keywords as a field name may hold them (`field_keywords`)."""
    near: SpanFn | None = None
    """The keywords as one RE2 pattern matched byte by byte, ASCII letters either case (`_keyword_matcher`)."""
    _regex: Any = None
    _width: Width | None = None
    _match: SpanFn | None = None
    _value_group: int | None = None

    @property
    def regex(self) -> Any:
        """The exact pattern (RE2, bytes), compiled on first use: most scans need a few detectors only."""
        if self._regex is None:
            self._regex = re2.compile(self.detector.pattern.encode("utf-8"), _re2_options(self.detector.pattern))
        return self._regex

    @property
    def value_group(self) -> int:
        """The group `match` reports the value in: 0 where the value is the whole match (`groups.py`)."""
        if self._value_group is None:
            whole = value_is_whole_match(self.detector.pattern, self.detector.group)
            self._value_group = 0 if whole else self.detector.group
        return self._value_group

    @property
    def match(self) -> SpanFn:
        """The exact pattern's matcher; where the value is the whole match, of a copy that captures nothing."""
        if self._match is None:
            if self.value_group == 0 and self.detector.group != 0:
                opts = _re2_options(self.detector.pattern)
                opts.never_capture = True
                self._match = span_matcher(re2.compile(self.detector.pattern.encode("utf-8"), opts))
            else:
                self._match = span_matcher(self.regex)
        return self._match

    @property
    def longest_keyword(self) -> int:
        return max((len(k) for k in self.keyword_bytes), default=0)

    @property
    def width(self) -> Width:
        if self._width is None:
            self._width = width(self.detector.pattern)
        return self._width

    def reach(self, ascii_only: bool) -> int:
        """How far back from a match's end its start can lie, in bytes: the pattern's longest match (over
        ASCII-only data, or any UTF-8), at most `max_len` plus the edge slack."""
        longest = self.width.ascii if ascii_only else self.width.utf8
        cap = self.detector.max_len + _EDGE_SLACK
        return cap if longest is None else min(longest, cap)


class Engine:
    """A compiled detector set. Build with `engine()` (cached per process over bundled data)."""

    def __init__(self, detectors: Sequence[Detector], *, hyperscan: bool = True) -> None:
        """`hyperscan=False` uses the RE2 fallback even where Hyperscan is installed (tests compare both)."""
        self.detectors = tuple(detectors)
        self._compiled = [
            _Compiled(
                detector=d,
                validator=VALIDATORS[d.validator] if d.validator else None,
                keyword_bytes=tuple(k.encode("utf-8") for k in d.keywords),
                field_keywords=field_keywords(d.keywords),
                near=_keyword_matcher(d.keywords) if d.keywords else None,
            )
            for d in self.detectors
        ]
        use_hs = hyperscan and _hs is not None
        self.backend = "hyperscan" if use_hs else "re2"
        self._dbs: list[Any] = []
        self._whole: list[Any] = []
        self._keyword_re: list[Any] = [
            re2.compile(("(?i)" + "|".join(re2.escape(k) for k in d.keywords)).encode("utf-8")) if d.required else None
            for d in self.detectors
        ]
        if use_hs:
            self._whole, self._dbs = self._hyperscan_dbs()

    # ---- candidates ------------------------------------------------------------------------------

    def _hyperscan_dbs(self) -> tuple[list[Any], list[Any]]:
        """One block-mode database of every pattern, and one per `database` name of the detectors ('' the
        main one, which also holds every required-context detector's keywords). A pattern with no literal to
        anchor on (led by a digit, hex or letter class) keeps Hyperscan's literal acceleration from the whole
        main database, and with its kind in one large automaton it outgrows the CPU's caches: in databases of
        their own by kind, the pass over a mixed corpus took ~20-25 % less CPU time (benchmarks/sensitive.md)."""
        assert _hs is not None
        groups: dict[str, tuple[list[bytes], list[int], list[int]]] = {}
        for i, d in enumerate(self.detectors):
            exprs, ids, flags = groups.setdefault("" if d.required else d.database, ([], [], []))
            if d.required:
                for kw in d.keywords:
                    exprs.append(_hs_literal(kw))
                    ids.append(KEYWORD_ID + i)
                    flags.append(_hs.HS_FLAG_CASELESS)
            else:
                exprs.append((d.prefilter or _widened(d.pattern)).encode("utf-8"))
                ids.append(i)
                flags.append(0)
        names = sorted(groups)
        parts = [self._hyperscan_db(*groups[name]) for name in names]
        if len(parts) == 1:
            return parts, parts
        whole = self._hyperscan_db(
            [e for name in names for e in groups[name][0]],
            [i for name in names for i in groups[name][1]],
            [f for name in names for f in groups[name][2]],
        )
        return [whole], parts

    def _hyperscan_db(self, exprs: list[bytes], ids: list[int], flags: list[int]) -> Any:
        assert _hs is not None
        key = hashlib.sha256(
            repr((exprs, ids, flags, getattr(_hs, "__version__", ""), _hs_version())).encode()
        ).hexdigest()[:32]
        cached = _load_cached(key)
        if cached is not None:
            return cached
        db = self._compile(exprs, ids, flags)
        _store_cached(key, db)
        return db

    def _compile(self, exprs: list[bytes], ids: list[int], flags: list[int]) -> Any:
        assert _hs is not None
        db = _hs.Database(mode=_hs.HS_MODE_BLOCK)
        try:
            db.compile(expressions=exprs, ids=ids, flags=flags)
        except _hs.error:
            # Some construct or bound Hyperscan cannot compile exactly: prefilter mode reports a superset of
            # the matches (at every true end offset), and the exact pattern decides.
            flags = [f | (_hs.HS_FLAG_PREFILTER if i < KEYWORD_ID else 0) for f, i in zip(flags, ids, strict=True)]
            db = _hs.Database(mode=_hs.HS_MODE_BLOCK)
            db.compile(expressions=exprs, ids=ids, flags=flags)
        return db

    def _candidates(self, data: bytes) -> dict[int, list[int]]:
        """detector index → end offsets of candidate matches (values) or keyword occurrences."""
        if self._dbs:
            by_id: defaultdict[int, list[int]] = defaultdict(list)

            def on_match(pid: int, frm: int, to: int, flags: int, ctx: object) -> None:
                by_id[pid].append(to)  # as little as can be: this runs once per candidate

            # A detector's ids are all in one database: its ends stay in order.
            for db in self._dbs if len(data) >= SPLIT_FROM else self._whole:
                db.scan(data, match_event_handler=on_match)
            # A detector has either its value pattern's id or its keywords' (required context), never both.
            return {(pid - KEYWORD_ID if pid >= KEYWORD_ID else pid): ends for pid, ends in by_id.items()}
        found = {}
        for i, c in enumerate(self._compiled):
            if c.detector.required:
                spans = [m.end() for m in self._keyword_re[i].finditer(data)]
            else:
                spans = [me for _, me, _, _ in _matches(c.regex, data, c.detector.group)]
            if spans:
                found[i] = spans
        return found

    # ---- exact matches ---------------------------------------------------------------------------

    def scan(
        self,
        data: bytes,
        *,
        field_of: ContextFn | None = None,
        forced: Iterable[Detector] = (),
        detectors: frozenset[str] | None = None,
    ) -> list[Hit]:
        """Every validated hit in `data`.

        `field_of(offset)` names the field an offset lies in (its name counts as context); `forced` are
        required-context detectors whose context holds for the whole block (a Parquet column named
        `date_of_birth`): they run over all of it. `detectors` limits the ids reported."""
        cands = self._candidates(data)
        forced_ids = {d.id for d in forced}
        if not cands and not forced_ids:
            return []  # most short values and most blocks of a clean object: nothing to verify
        hits: list[Hit] = []
        wanted = sorted(cands)
        if forced_ids:
            wanted = sorted(set(wanted) | {i for i, c in enumerate(self._compiled) if c.detector.id in forced_ids})
        n = len(data)
        ascii_only: bool | None = None
        for i in wanted:
            c = self._compiled[i]
            d = c.detector
            if detectors is not None and d.id not in detectors:
                continue
            if d.id in forced_ids:
                hits.extend(self._verify(c, data, [(0, n, n)], field_of, forced=True))
                continue
            spans = cands.get(i)
            if not spans:
                continue
            if d.required:
                # Hyperscan reports where a keyword ends (no start of match): the region reaches back over
                # the longest keyword and the window, and its edges move out to the nearest separator.
                back = d.window + c.longest_keyword
                regions = _merge([(max(0, t - back), min(n, t + d.window)) for t in spans])
                chunks = [(*_widen(data, a, b), n) for a, b in regions]
                hits.extend(self._verify(c, data, chunks, field_of, forced=False, sliced=True))
                continue
            # A candidate's end offset is where a match of the (widened) pattern ends, so the exact match that
            # ends there starts at most the pattern's longest match before it; a cheaper `prefilter` only ends
            # somewhere inside the value, which then reaches as far forward too. RE2 matches inside the region
            # with the whole block as context (`^`, `$` and `\b` see the bytes around it), so a region may
            # start or end mid-token without making a bogus match.
            if ascii_only is None:
                ascii_only = data.isascii()
            back = c.reach(ascii_only)
            # Hyperscan reads bytes: a trailing `[^0-9]` ends its match after the first byte of `é`, where RE2
            # (UTF-8) needs the whole character, so the region runs on over a character's continuation bytes.
            ahead = back if d.prefilter else (0 if ascii_only else 3)
            hits.extend(self._verify(c, data, _regions(spans, back, ahead, n), field_of, forced=False))
        return resolve(hits)

    def _verify(
        self,
        c: _Compiled,
        data: bytes,
        regions: list[tuple[int, int, int]],
        field_of: ContextFn | None,
        *,
        forced: bool,
        sliced: bool = False,
    ) -> list[Hit]:
        """The validated hits of `c` in `regions` (start, end, last candidate end) of `data`: matched with
        `data` as context, or (`sliced`) each region on its own, its edges read as the start and end of a
        text. One loop, no generator per region: this runs once per candidate.

        Every match of the pattern contains a candidate end (`t` in `(match start, match end]`: Hyperscan
        reports each end of the widened pattern, or a `prefilter` match ends inside it), and a search from
        `pos` finds only matches starting at `pos` or later: once `pos` reaches a region's last candidate end,
        no match is left in it (the search after each value, ~1-3 µs, is not made)."""
        d = c.detector
        group, shortest, validator, exclude = c.value_group, c.width.shortest, c.validator, d.exclude
        required, window, near, field_kws = d.required, d.window, c.near, c.field_keywords
        confidence = d.confidence
        raised = Confidence(confidence + 1) if confidence < Confidence.VERY_LIKELY else confidence
        match, unanchored = c.match, _UNANCHORED
        out: list[Hit] = []
        seen: set[int] = set()
        text, base = data, 0
        for a, b, last in regions:
            if sliced:
                text, base, pos, n, last = data[a:b], a, 0, b - a, b - a
            else:
                pos, n = a, b
            while pos <= n - shortest and pos < last:
                spans = match(unanchored, text, pos, n)
                ms, me = spans[0]
                if ms < 0:
                    break
                gs, ge = spans[group]
                if gs < 0 or ge <= gs:
                    pos = me if me > ms else ms + 1
                    continue
                pos = ge if ge > ms else ms + 1
                start, end = base + gs, base + ge
                if start in seen:
                    continue
                seen.add(start)
                value = data[start:end].decode("utf-8", "replace")
                if value in exclude or (validator is not None and not validator(value)):
                    continue
                context = forced or (required and not field_of)
                if not context:
                    context = _near(data, start, end, window, near) or _field_has(field_of, start, field_kws)
                if required and not context:
                    continue
                conf = raised if context and not required else confidence
                out.append(Hit(d, start, end, value, conf, bool(context)))
        return out


def _regions(ends: list[int], back: int, ahead: int, n: int) -> list[tuple[int, int, int]]:
    """The merged regions `[end - back, end + ahead)` around candidate end offsets, each with its last
    candidate end (one pass: Hyperscan reports ends in order, so the sort is a check)."""
    ends.sort()
    out: list[tuple[int, int, int]] = []
    lo = hi = last = -1
    for t in ends:
        a = t - back if t > back else 0
        if a <= hi:
            hi, last = t + ahead, t
            continue
        if hi >= 0:
            out.append((lo, hi if hi < n else n, last))
        lo, hi, last = a, t + ahead, t
    if hi >= 0:
        out.append((lo, hi if hi < n else n, last))
    return out


_BOUNDED = re.compile(r"\{(\d+),(\d+)\}")


def _widened(pattern: str) -> str:
    """The pattern with its long bounded repeats (`{m,n}`, n ≥ 12) made open (`{m,}`) for the prefilter: a
    superset whose end offsets include every true match's, at a fraction of Hyperscan's compile time and
    state. The exact pattern runs on the candidates."""
    return _BOUNDED.sub(lambda m: "{" + m.group(1) + ",}" if int(m.group(2)) >= 12 else m.group(0), pattern)


def _hs_version() -> str:
    try:
        return str(_hs.hs_version()) if _hs is not None and hasattr(_hs, "hs_version") else ""
    except Exception:  # pragma: no cover - informative only
        return ""


def _cache_file(key: str) -> Path:
    return Settings.from_env().cache_dir / "sensitive" / f"hyperscan-{key}.db"


def _load_cached(key: str) -> Any:
    """The compiled database of this detector set from the cache directory (compiling takes ~1 s): a file
    whose SHA-256 header does not match its body, or that Hyperscan refuses, is a miss."""
    assert _hs is not None
    try:
        raw = _cache_file(key).read_bytes()
    except OSError:
        return None
    digest, body = raw[:32], raw[32:]
    if hashlib.sha256(body).digest() != digest:
        return None
    try:
        db = _hs.loadb(body, _hs.HS_MODE_BLOCK)
        db.scratch = _hs.Scratch(db)  # a deserialised database comes without scratch space
        db.scan(b"probe", match_event_handler=lambda *_a: None)
    except Exception:
        return None
    return db


def _store_cached(key: str, db: Any) -> None:
    assert _hs is not None
    path = _cache_file(key)
    try:
        body = _hs.dumpb(db)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(hashlib.sha256(body).digest() + body)
        os.replace(tmp, path)
    except Exception:  # a read-only or full cache only costs the next run a compile
        return


SpanFn = Callable[[Any, bytes, int, int], Sequence[tuple[int, int]]]
"""(anchor, text, pos, endpos) → the (start, end) of the match and of each group, (-1, -1) where none."""


def span_matcher(regex: Any) -> SpanFn:
    """RE2's matcher for spans only: the binding's `_regexp.Match` (no match object per search: ~1.1 µs a
    call against ~3 µs for the public `search`, most of the cost of verifying a candidate), or, where a
    binding lacks it, the same spans from the public API. tests/sensitive/test_engine.py pins the binding's
    shape, so a google-re2 release that changes it fails there, not silently here."""
    raw = getattr(getattr(regex, "_regexp", None), "Match", None)
    if raw is not None and _UNANCHORED is not None:
        return raw  # type: ignore[no-any-return]
    return public_spans(regex)


def public_spans(regex: Any) -> SpanFn:
    """`span_matcher`'s fallback on the public API (unanchored search only, as the engine uses it)."""
    groups = range(regex.groups + 1)

    def spans(anchor: Any, text: bytes, pos: int, endpos: int) -> Sequence[tuple[int, int]]:
        m = regex.search(text, pos, endpos)
        return [(-1, -1)] if m is None else [m.span(g) for g in groups]

    return spans


def _matches(
    regex: Any, text: bytes, group: int, pos: int = 0, endpos: int | None = None
) -> Iterator[tuple[int, int, int, int]]:
    """(match start, match end, value start, value end) of each match in `text[pos:endpos]` (the rest of
    `text` is context for `^`, `$` and `\\b`), like `finditer`, but the next search starts where the value
    ended, not where the match did: a pattern's leading and trailing context (`(?:^|[^0-9])…(?:$|[^0-9])`)
    may share one separator between two values (RE2 has no look-around). `Engine._verify` runs the same
    loop inline."""
    match = span_matcher(regex)
    n = len(text) if endpos is None else endpos
    while pos <= n:
        spans = match(_UNANCHORED, text, pos, n)
        ms, me = spans[0]
        if ms < 0:
            return
        gs, ge = spans[group]
        if gs >= 0 and ge > gs:
            yield ms, me, gs, ge
            pos = max(ge, ms + 1)
        else:
            pos = max(me, ms + 1)


_UNANCHORED: Any = getattr(getattr(re2, "_Anchor", None), "UNANCHORED", None)


def _hs_literal(keyword: str) -> bytes:
    out = bytearray()
    for byte in keyword.encode("utf-8"):
        ch = bytes([byte])
        out += ch if ch.isalnum() else b"\\x%02x" % byte
    return bytes(out)


def _merge(regions: list[tuple[int, int]]) -> list[tuple[int, int]]:
    regions.sort()
    out: list[tuple[int, int]] = []
    for a, b in regions:
        if out and a <= out[-1][1]:
            if b > out[-1][1]:
                out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


_SEPARATOR = re.compile(rb'[ \n,\t;"]')
_LAST_SEPARATOR = re.compile(rb'.*[ \n,\t;"]', re.DOTALL)
"""Matched from a region's back slack: its end is just past the last separator (one pass, no backtracking
past the slack)."""


def _widen(data: bytes, a: int, b: int) -> tuple[int, int]:
    """Move a region's edges out to the nearest separator, so a pattern never starts or ends mid-token
    (a `^` or `\\b` at a cut inside a long digit run would make a bogus match)."""
    if a > 0:
        lo = max(0, a - _EDGE_SLACK)
        last = _LAST_SEPARATOR.match(data, lo, a)
        a = last.end() if last is not None else lo
    if b < len(data):
        hi = min(len(data), b + _EDGE_SLACK)
        m = _SEPARATOR.search(data, b, hi)
        b = m.start() if m is not None else hi
    return a, b


def _keyword_matcher(keywords: Sequence[str]) -> SpanFn:
    """Context keywords as one RE2 pattern over bytes (Latin-1 mode: one byte a character), each ASCII letter
    as `[xX]` and every other byte literal: exactly a lowercase keyword found in the lowered bytes, as
    `bytes.lower()` folds ASCII only. RE2's matcher (~1 µs a window) instead of Python's `re` (~3.5 µs)."""
    alternatives = []
    for k in keywords:
        alternatives.append(
            "".join(
                f"[{chr(b).lower()}{chr(b).upper()}]" if chr(b).isascii() and chr(b).isalpha() else f"\\x{b:02x}"
                for b in k.lower().encode("utf-8")
            )
        )
    opts = re2.Options()
    opts.encoding = re2.Options.Encoding.LATIN1
    opts.max_mem = 8 << 20
    return span_matcher(re2.compile("|".join(alternatives).encode("ascii"), opts))


def _near(data: bytes, start: int, end: int, window: int, keywords: SpanFn | None) -> bool:
    """A keyword within `window` bytes before or after the match (ASCII case-insensitive). One search over
    the whole neighbourhood first: where it finds nothing (most values) or a keyword clear of the value, that
    is the answer; only a keyword overlapping the value needs the two sides searched apart."""
    if keywords is None:
        return False
    lo = start - window if start > window else 0
    hi = end + window
    ks, ke = keywords(_UNANCHORED, data, lo, hi if hi < len(data) else len(data))[0]
    if ks < 0:
        return False
    if ke <= start or ks >= end:
        return True
    if keywords(_UNANCHORED, data, lo, start)[0][0] >= 0:
        return True
    return keywords(_UNANCHORED, data, end, hi if hi < len(data) else len(data))[0][0] >= 0


def _field_has(field_of: ContextFn | None, offset: int, keywords: tuple[str, ...]) -> bool:
    """The field name at `offset` holds a keyword (`keywords`: each as written and with `_` for its spaces,
    `field_keywords`)."""
    if field_of is None or not keywords:
        return False
    name = field_of(offset)
    if not name:
        return False
    name = name.lower()
    return any(k in name for k in keywords)


def field_keywords(keywords: Iterable[str]) -> tuple[str, ...]:
    """Keywords as a field name may hold them: as written and with `_` for spaces (`social_security`)."""
    return tuple(dict.fromkeys(v for k in keywords for v in (k, k.replace(" ", "_"))))


_GENERIC = frozenset({"password_assignment", "generic_secret"})


def resolve(hits: list[Hit]) -> list[Hit]:
    """One hit per stretch of bytes: specific detectors before generic ones, longer spans before shorter
    (an e-mail inside a URL's credentials is the URL's; an AWS key in `api_key=…` is the AWS key)."""
    if len(hits) < 2:
        return sorted(hits, key=lambda h: h.start)
    order = sorted(hits, key=lambda h: (h.detector.id in _GENERIC, -(h.end - h.start), h.start))
    starts: list[int] = []
    kept: list[Hit] = []
    for h in order:
        i = bisect.bisect_right(starts, h.start)
        if (i > 0 and kept[i - 1].end > h.start) or (i < len(kept) and kept[i].start < h.end):
            continue  # overlaps a kept hit (kept hits never overlap: the neighbours decide)
        starts.insert(i, h.start)
        kept.insert(i, h)
    return kept


@cache
def _engine(source: str | None) -> Engine:
    return Engine(load_detectors(source))


def engine(source: str | None = None) -> Engine:
    """The compiled bundled detector set (or `source`'s), built once per process."""
    return _engine(source)


def backend() -> str:
    return "hyperscan" if _hs is not None else "re2"
