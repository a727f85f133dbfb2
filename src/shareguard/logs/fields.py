"""Field access and field mapping: Sigma field names → dotted paths → values in an event.

Semantics (those of Elasticsearch and Splunk on JSON events, see docs/logs.md):
- a dotted name walks nested objects (`requestParameters.bucketName`); a key that itself holds dots
  (`"k8s.io/name"`) is tried whole first;
- a list met on the way is walked element by element: the field has every value found (any may match);
- an object or list value is matched, by the string modifiers, as its compact JSON text: CloudTrail Lake
  and Athena keep `requestParameters` as a JSON string and SigmaHQ's rules are written for that.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import orjson
import yaml

from shareguard.logs.events import LogKind


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
"""What a getter returns for a field the event does not have (distinct from a JSON null)."""

Getter = Callable[[dict[str, Any]], Any]

try:  # lazily decoded documents (see ingest.py): read like dicts and lists, materialised only on a match
    import simdjson

    LAZY_OBJECT: type = simdjson.Object
    LAZY_ARRAY: type = simdjson.Array
except ImportError:  # pragma: no cover - simdjson is a dependency

    class LAZY_OBJECT:  # type: ignore[no-redef]
        pass

    class LAZY_ARRAY:  # type: ignore[no-redef]
        pass


OBJECTS: tuple[type, ...] = (dict, LAZY_OBJECT)
ARRAYS: tuple[type, ...] = (list, LAZY_ARRAY)


def materialise(data: Any) -> dict[str, Any]:
    """A plain dict of an event (a lazily decoded one is converted once, when a rule matched it)."""
    if type(data) is dict:
        return data
    converted: dict[str, Any] = data.as_dict()
    return converted


def getter(path: str) -> Getter:
    """A function returning the value at `path` in an event (`MISSING` if absent; a list if a list was met)."""
    keys = tuple(path.split("."))
    if len(keys) == 1:
        key = keys[0]
        return lambda ev: ev.get(key, MISSING)
    if len(keys) == 2:
        k0, k1 = keys

        def get2(ev: dict[str, Any]) -> Any:
            cur = ev.get(k0, MISSING)
            t = type(cur)
            if t in OBJECTS:
                return cur.get(k1, MISSING)
            if cur is MISSING:
                return ev.get(path, MISSING)
            if t in ARRAYS:
                return _walk_list(cur, keys[1:])
            return MISSING

        return get2

    def get(ev: dict[str, Any]) -> Any:
        cur: Any = ev
        for i, key in enumerate(keys):
            t = type(cur)
            if t in OBJECTS:
                nxt = cur.get(key, MISSING)
                if nxt is MISSING:
                    whole = cur.get(".".join(keys[i:]), MISSING)
                    return whole
                cur = nxt
            elif t in ARRAYS:
                return _walk_list(cur, keys[i:])
            else:
                return MISSING
        return cur

    return get


def _walk_list(items: Any, keys: tuple[str, ...]) -> Any:
    found: list[Any] = []
    for item in items:
        cur: Any = item
        for i, key in enumerate(keys):
            if type(cur) in OBJECTS:
                cur = cur.get(key, MISSING)
            elif type(cur) in ARRAYS:
                cur = _walk_list(cur, keys[i:])
                break
            else:
                cur = MISSING
                break
        if cur is MISSING:
            continue
        if type(cur) in ARRAYS:
            found.extend(cur)
        else:
            found.append(cur)
    return found if found else MISSING


def text(value: Any) -> str | None:
    """A value as the string modifiers see it (None for a missing field or a JSON null)."""
    t = type(value)
    if t is str:
        return value  # type: ignore[no-any-return]
    if value is None or value is MISSING:
        return None
    if t is bool:
        return "true" if value else "false"
    if t is int or t is float:
        return str(value)
    if t is LAZY_OBJECT or t is LAZY_ARRAY:
        return bytes(value.mini).decode()
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


@dataclass(frozen=True)
class FieldMap:
    """How one log source names its fields, and where incidents read time, actor, address and object."""

    kind: LogKind
    title: str
    logsources: tuple[dict[str, str], ...]
    index: tuple[str, ...]
    """Fields whose values pick the rules an event can meet, most selective first."""
    time: str
    actor: tuple[str, ...]
    source_ip: str
    resource: tuple[str, ...]
    account: str
    action: str
    fields: dict[str, str] = field(default_factory=dict)
    prefixes: dict[str, str] = field(default_factory=dict)
    camel_case_after: tuple[str, ...] = ()

    def path(self, sigma_field: str) -> str:
        mapped = self.fields.get(sigma_field)
        if mapped is not None:
            return mapped
        for prefix, replacement in self.prefixes.items():
            if sigma_field.startswith(prefix):
                rest = sigma_field[len(prefix) :]
                if prefix in self.camel_case_after:
                    rest = ".".join(_camel(part) for part in rest.split("."))
                return replacement + rest
        return sigma_field

    def selects(self, product: str | None, service: str | None, category: str | None) -> bool:
        """True when a rule's `logsource` selects these events (a key the rule leaves out matches any)."""
        given = {"product": product, "service": service, "category": category}
        if all(v is None for v in given.values()):
            return False
        return any(all(v is None or source.get(k) == v for k, v in given.items()) for source in self.logsources)


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


@cache
def field_maps() -> dict[LogKind, FieldMap]:
    """The bundled field mapping (fieldmap.yaml): one entry per log source."""
    doc = yaml.safe_load(resources.files("shareguard.logs").joinpath("fieldmap.yaml").read_text(encoding="utf-8"))
    out: dict[LogKind, FieldMap] = {}
    for name, spec in doc.items():
        kind = LogKind(name)
        out[kind] = FieldMap(
            kind=kind,
            title=spec["title"],
            logsources=tuple(dict(s) for s in spec["logsource"]),
            index=tuple(spec["index"]) if isinstance(spec["index"], list) else (spec["index"],),
            time=spec["time"],
            actor=tuple(spec["actor"]),
            source_ip=spec["source_ip"],
            resource=tuple(spec["resource"]),
            account=spec["account"],
            action=spec["action"],
            fields=dict(spec.get("fields") or {}),
            prefixes=dict(spec.get("prefixes") or {}),
            camel_case_after=tuple(spec.get("camel_case_after") or ()),
        )
    return out
