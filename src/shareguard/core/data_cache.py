"""Bundled YAML data parsed once: a document's parse kept as JSON in the cache directory.

Rule metadata, attribute tables and the duty catalog are YAML shipped with shareguard, parsed on every
command line that uses them; YAML construction is ~40x slower than reading the same document back as
JSON, and was ~5 % of a warm `image` rescan. `cached_parse(text, kind, parse)` returns `parse(text)`,
from `<cache>/data/<key>.json` when that holds it, where the key is the SHA-256 of the text, `kind` (the
loader: a different loader may parse the same text differently) and shareguard's version.

- Only a parse that JSON keeps exactly is written (dicts with string keys, lists, strings, finite floats,
  integers, booleans, None); anything else is parsed every time. A parse error is raised as `parse`
  raises it, and nothing is written.
- A damaged entry (not JSON, not this key's, larger than its budget, nested too deep) is a miss with a
  warning on the `shareguard` logger: the text is parsed again and the entry rewritten. Never a crash.
- Writes are atomic (a temporary file renamed over the entry); a cache directory that cannot be written
  only costs the parse. The cache holds bundled data only, never scanned content or secrets.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from shareguard import __version__
from shareguard.core.settings import Settings

FORMAT = 1
"""Bumped when the entry layout changes: older entries then miss (their key differs)."""
SUBDIR = "data"
MAX_ENTRY_BYTES_PER_TEXT_BYTE = 8
"""An entry is at most this many times its text's size (+ `MIN_ENTRY_BUDGET`): JSON of a YAML parse is
about the size of the text (aliases are refused or absent in bundled data); anything larger is damaged."""
MIN_ENTRY_BUDGET = 1 << 20


def entry_key(text: str, kind: str) -> str:
    h = hashlib.sha256(f"shareguard {__version__}\0data-cache {FORMAT}\0{kind}\0".encode())
    h.update(text.encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def cached_parse(text: str, kind: str, parse: Callable[[str], Any], *, cache_dir: Path | None = None) -> Any:
    """`parse(text)`, read back from the cache when an earlier run kept it (see the module doc)."""
    key = entry_key(text, kind)
    directory = (cache_dir if cache_dir is not None else Settings.from_env().cache_dir) / SUBDIR
    path = directory / f"{key}.json"
    found, doc = _read(path, key, MIN_ENTRY_BUDGET + MAX_ENTRY_BYTES_PER_TEXT_BYTE * len(text))
    if found:
        return doc
    doc = parse(text)
    if json_exact(doc):
        _write(directory, path, key, doc)
    return doc


def safe_yaml(text: str) -> Any:
    """One YAML document with the safe loader (libyaml's where installed): for bundled, trusted data."""
    import yaml  # only on a miss: a run served from the cache does not need it for this

    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def load_bundled_yaml(text: str) -> Any:
    """A bundled YAML document (safe loader), through the cache; raises what `yaml.load` raises."""
    return cached_parse(text, "yaml.safe", safe_yaml)


def _read(path: Path, key: str, budget: int) -> tuple[bool, Any]:
    try:
        with open(path, "rb") as fh:
            raw = fh.read(budget + 1)
    except OSError:
        return False, None  # no entry yet (or unreadable): parse
    try:
        if len(raw) > budget:
            raise ValueError(f"larger than its budget ({budget} bytes)")
        entry = json.loads(raw)
        if (
            not isinstance(entry, dict)
            or entry.get("format") != FORMAT
            or entry.get("key") != key
            or "doc" not in entry
        ):
            raise ValueError("not an entry for this data")
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        import logging  # only for this warning: most runs never log

        logging.getLogger("shareguard").warning(
            "warning: damaged data cache entry %s ignored (%s); parsed again", path, _first_line(exc)
        )
        return False, None
    return True, entry["doc"]


def _write(directory: Path, path: Path, key: str, doc: Any) -> None:
    tmp = directory / f".{key}.{os.getpid()}.{threading.get_ident()}.tmp"
    try:
        data = json.dumps({"format": FORMAT, "key": key, "doc": doc}, allow_nan=False, separators=(",", ":"))
        directory.mkdir(parents=True, exist_ok=True)
        with open(tmp, "x", encoding="ascii") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except (OSError, ValueError, RecursionError):
        # A read-only or full cache directory only costs the parse next time.
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def _first_line(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:200]


_SCALARS = (str, int, bool, type(None))


def json_exact(doc: Any) -> bool:
    """True when JSON gives `doc` back equal and of the same types: dicts with string keys, lists, strings,
    integers, booleans, None and finite floats (a tuple, a date, a set or a non-string key would not)."""
    stack = [doc]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is dict:
            for k, v in item.items():
                if type(k) is not str:
                    return False
                stack.append(v)
        elif kind is list:
            stack.extend(item)
        elif kind is float:
            if item != item or item in (float("inf"), float("-inf")):
                return False
        elif kind not in _SCALARS:
            return False
    return True
