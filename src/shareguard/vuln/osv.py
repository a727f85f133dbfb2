"""OSV records: parse one advisory document (JSON or YAML) into what the store keeps.

Parsing is strict about shape (a clear error names what is wrong) and lenient about what OSV
leaves optional. Withdrawn advisories are recognised so that an update removes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from shareguard.core.errors import BudgetExceeded, ParseError
from shareguard.core.safe_json import load_json
from shareguard.vuln import ecosystems
from shareguard.vuln.severity import Rating, advisory_rating

MAX_NODES = 2_000_000
"""Node budget of one advisory document: YAML aliases cannot make a walk explode past it."""
_MAX_DEPTH = 64

_EVENT_KINDS = ("introduced", "fixed", "last_affected", "limit")

try:  # the C loader is ~10x faster; BaseLoader keeps every scalar a string ("3.10" stays "3.10")
    _YamlLoader: Any = yaml.CBaseLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _YamlLoader = yaml.BaseLoader


@dataclass(frozen=True)
class Range:
    type: str
    events: tuple[tuple[str, str], ...]
    """(kind, version) in document order; kind is one of introduced/fixed/last_affected/limit."""


@dataclass(frozen=True)
class Affected:
    ecosystem: str
    """Base ecosystem (`Debian`)."""
    release: str
    """Release suffix (`12`, `22.04:LTS`, `v3.19`), empty when the advisory is not release-scoped."""
    name: str
    name_norm: str
    purl: str | None
    ranges: tuple[Range, ...]
    versions: tuple[str, ...]
    specific: tuple[dict[str, Any], ...] = ()
    """ecosystem_specific / database_specific objects (Debian's urgency lives here)."""


@dataclass(frozen=True)
class Advisory:
    id: str
    modified: str
    published: str
    withdrawn: str | None
    summary: str
    aliases: tuple[str, ...]
    references: tuple[str, ...]
    affected: tuple[Affected, ...]
    rating: Rating


def load_document(data: bytes, origin: str) -> Any:
    """Bytes of a `.json` / `.yaml` file → Python data (not yet validated)."""
    text = data.decode("utf-8", errors="strict") if isinstance(data, bytes) else data
    lower = origin.lower()
    if not lower.endswith((".yaml", ".yml")):
        # The shared JSON loader: deep nesting and 5,000-digit numbers are this file's error, never a traceback
        # that ends the whole import. (Its message names no path: the importer names the file.)
        try:
            doc = load_json(text, origin=origin, max_depth=_MAX_DEPTH, max_bytes=len(text), max_nodes=MAX_NODES)
        except ParseError as exc:
            raise type(exc)(exc.message.replace("invalid JSON", "not valid JSON", 1)) from None
        return doc
    try:
        # BaseLoader builds no objects: every scalar stays a string
        doc = yaml.load(text, Loader=_YamlLoader)
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ParseError(f"not valid YAML: {first}") from None
    _check_budget(doc)
    return doc


def _check_budget(doc: Any) -> None:
    count = 0
    stack = [(doc, 0)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise BudgetExceeded(f"document has more than {MAX_NODES} nodes (YAML alias bomb?)")
        if depth > _MAX_DEPTH:
            raise BudgetExceeded(f"document nested deeper than {_MAX_DEPTH} levels")
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)


def iter_documents(doc: Any) -> list[Any]:
    """One file may hold one advisory, a list of them, or an osv.dev query answer (`{"vulns": [...]}`)."""
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict) and "id" not in doc and isinstance(doc.get("vulns"), list):
        return list(doc["vulns"])
    return [doc]


def _str(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ParseError(f"{what} must be a non-empty string")
    return value.strip()


def _opt_str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _list(value: Any, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ParseError(f"{what} must be a list")
    return value


def _parse_range(obj: Any, where: str) -> Range:
    if not isinstance(obj, dict):
        raise ParseError(f"{where} must be an object")
    rtype = _str(obj.get("type"), f"{where}.type")
    events: list[tuple[str, str]] = []
    for i, ev in enumerate(_list(obj.get("events"), f"{where}.events")):
        if not isinstance(ev, dict) or len(ev) != 1:
            raise ParseError(f"{where}.events[{i}] must hold exactly one of {', '.join(_EVENT_KINDS)}")
        ((kind, version),) = ev.items()
        if kind not in _EVENT_KINDS:
            raise ParseError(f"{where}.events[{i}]: unknown event {kind!r}")
        events.append((kind, _str(version, f"{where}.events[{i}].{kind}")))
    if rtype != "GIT" and not any(k == "introduced" for k, _ in events):
        raise ParseError(f"{where} has no 'introduced' event")
    return Range(rtype, tuple(events))


def _parse_affected(obj: Any, where: str) -> Affected | None:
    if not isinstance(obj, dict):
        raise ParseError(f"{where} must be an object")
    pkg = obj.get("package")
    if pkg is None:
        return None  # a GIT-only entry (no package): nothing an inventory can match
    if not isinstance(pkg, dict):
        raise ParseError(f"{where}.package must be an object")
    eco_full = _str(pkg.get("ecosystem"), f"{where}.package.ecosystem")
    name = _str(pkg.get("name"), f"{where}.package.name")
    base, release = ecosystems.split(eco_full)
    ranges = tuple(_parse_range(r, f"{where}.ranges[{i}]") for i, r in enumerate(_list(obj.get("ranges"), where)))
    versions = tuple(str(v) for v in _list(obj.get("versions"), f"{where}.versions") if isinstance(v, str | int))
    specific = tuple(o for o in (obj.get("ecosystem_specific"), obj.get("database_specific")) if isinstance(o, dict))
    purl = pkg.get("purl") if isinstance(pkg.get("purl"), str) else None
    return Affected(
        ecosystem=base,
        release=release,
        name=name,
        name_norm=ecosystems.normalise_name(base, name),
        purl=purl,
        ranges=ranges,
        versions=versions,
        specific=tuple(_small_specific(o) for o in specific),
    )


def _small_specific(obj: dict[str, Any]) -> dict[str, Any]:
    """Keep only the fields the matcher reads (ratings), not e.g. Go's symbol lists."""
    return {k: obj[k] for k in ("urgency", "severity") if isinstance(obj.get(k), str)}


def parse_advisory(doc: Any) -> Advisory:
    """Validate one OSV document; raises ParseError naming the first problem."""
    if not isinstance(doc, dict):
        raise ParseError("an OSV advisory must be a JSON/YAML object")
    adv_id = _str(doc.get("id"), "id")
    affected: list[Affected] = []
    for i, obj in enumerate(_list(doc.get("affected"), "affected")):
        a = _parse_affected(obj, f"affected[{i}]")
        if a is not None:
            affected.append(a)
    aliases = tuple(a for a in _list(doc.get("aliases"), "aliases") if isinstance(a, str))
    refs = tuple(
        r["url"]
        for r in _list(doc.get("references"), "references")
        if isinstance(r, dict) and isinstance(r.get("url"), str)
    )
    # No summary: the first paragraph of `details`, whole (a title is never cut; displays shorten it themselves).
    summary = _opt_str(doc.get("summary")) or _opt_str(doc.get("details")).strip().split("\n\n", 1)[0]
    raw = {k: doc[k] for k in ("severity", "database_specific") if k in doc}
    return Advisory(
        id=adv_id,
        modified=_opt_str(doc.get("modified")),
        published=_opt_str(doc.get("published")),
        withdrawn=_opt_str(doc.get("withdrawn")) or None,
        summary=" ".join(summary.split()),
        aliases=aliases,
        references=refs[:20],
        affected=tuple(affected),
        rating=advisory_rating(raw),
    )
