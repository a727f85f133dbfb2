"""Security bulletins: vendors' feeds in their published formats, kept in a local database, matched to what runs.

Formats read (`shareguard bulletins update --from PATH|URL`):
- Atom 1.0 (Google Cloud's security-bulletin feeds, shareguard's provider mode) and RSS 2.0 (AWS security
  bulletins): an entry's id, title, dates and link; CVE ids from its title, categories and text; affected
  images from `<category term="…">` values and the image names, tags and families the text names in the vendors'
  schemes (`2.6.0-gpu-py312-cu126-ubuntu22.04-sagemaker`, `pytorch-cu121.2-2.py310`,
  `pytorch-2-4-cu124-ubuntu-2204-py310`); fixed versions from `fixed: NAME` categories.
- JSON: OSV records (`id`, `aliases`, `summary`, `published`, `modified`, `affected[].package.name`,
  `affected[].versions`, `affected[].ranges[].events[].fixed`, `references`), one, a list, or `{"bulletins": [...]}`.

XML is parsed by the standard library's expat (which refuses entity-expansion bombs since expat 2.4.1); every
feed has a size budget, and a malformed feed, an impossible date, an unknown OSV field or a duplicate id is an
error naming the file and entry. Nothing is written unless the whole feed parses.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shareguard.core.errors import CatalogError
from shareguard.core.output import write_atomically
from shareguard.core.settings import Settings

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

MAX_FEED_BYTES = 32 * 1024 * 1024
MAX_ENTRIES = 50_000
ATOM = "{http://www.w3.org/2005/Atom}"
_CVE = re.compile(r"\bCVE-\d{4}-\d{4,7}\b")
_NAMES = re.compile(
    r"\b(?:\d+\.\d+(?:\.\d+)?-(?:gpu|cpu|neuronx)-py3\d+(?:-[a-z0-9.]+)*"  # AWS DLC tags
    r"|[a-z][a-z0-9]*-(?:cu\d+|cpu)\.\d+-\d+(?:\.py3\d+)?"  # Google DLC names
    r"|[a-z][a-z0-9]*-\d+-\d+-(?:cu\d+|cpu)(?:-[a-z0-9]+)*)\b"  # DLVM / Workbench families
)
_OSV_FIELDS = frozenset(
    {
        "schema_version",
        "id",
        "modified",
        "published",
        "withdrawn",
        "aliases",
        "related",
        "upstream",
        "summary",
        "details",
        "severity",
        "affected",
        "references",
        "credits",
        "database_specific",
    }
)


@dataclass(frozen=True)
class Affected:
    product: str
    """An image name or repository, an image tag or family, as the bulletin names it."""
    versions: tuple[str, ...] = ()
    fixed: str = ""


@dataclass(frozen=True)
class Bulletin:
    id: str
    title: str
    published: str
    """ISO date."""
    url: str = ""
    cves: tuple[str, ...] = ()
    affected: tuple[Affected, ...] = ()
    source: str = ""

    def names(self) -> set[str]:
        out: set[str] = set()
        for a in self.affected:
            out.add(a.product)
            out.update(f"{a.product}:{v}" for v in a.versions)
            out.update(a.versions)
        return out


def _iso(value: str | None, where: str) -> str:
    if not value:
        raise CatalogError("entry without a date", path=where)
    text = value.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text).isoformat()
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        return parsedate_to_datetime(text).date().isoformat()
    except (TypeError, ValueError, IndexError):
        raise CatalogError(f"impossible date {text!r}", path=where) from None


def _text(el: Element | None) -> str:
    return "".join(el.itertext()) if el is not None else ""


def _affected_from_text(categories: list[str], text: str) -> tuple[Affected, ...]:
    fixed = [c.split(":", 1)[1].strip() for c in categories if c.lower().startswith("fixed:")]
    names = [c for c in categories if not c.lower().startswith(("fixed:", "cve-"))]
    names += [n for n in _NAMES.findall(text) if n not in names]
    out = []
    for n in dict.fromkeys(names):
        product, _, version = n.rpartition(":") if ":" in n else (n, "", "")
        out.append(
            Affected(product=product or n, versions=(version,) if version else (), fixed=fixed[0] if fixed else "")
        )
    return tuple(out)


def parse_xml(data: bytes, origin: str) -> list[Bulletin]:
    import xml.etree.ElementTree as ET  # only `bulletins update` parses feeds; scans read the database

    if b"<!ENTITY" in data[:65536]:
        raise CatalogError("feed declares XML entities (refused)", path=origin)
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise CatalogError(f"malformed XML: {exc}", path=origin) from None
    out: list[Bulletin] = []
    if root.tag == f"{ATOM}feed":
        for i, e in enumerate(root.iter(f"{ATOM}entry")):
            where = f"{origin}: entry {i + 1}"
            ident = _text(e.find(f"{ATOM}id")).strip()
            if not ident:
                raise CatalogError("entry without an id", path=where)
            title = _text(e.find(f"{ATOM}title")).strip()
            link = e.find(f"{ATOM}link")
            cats = [c.get("term", "") for c in e.findall(f"{ATOM}category") if c.get("term")]
            body = " ".join([title, _text(e.find(f"{ATOM}summary")), _text(e.find(f"{ATOM}content"))])
            out.append(
                Bulletin(
                    id=ident,
                    title=title,
                    published=_iso(_text(e.find(f"{ATOM}published")) or _text(e.find(f"{ATOM}updated")), where),
                    url=link.get("href", "") if link is not None else "",
                    cves=tuple(dict.fromkeys(_CVE.findall(body + " " + " ".join(cats)))),
                    affected=_affected_from_text(cats, body),
                    source=origin,
                )
            )
    elif root.tag == "rss":
        for i, item in enumerate(root.iter("item")):
            where = f"{origin}: item {i + 1}"
            ident = (_text(item.find("guid")) or _text(item.find("link"))).strip()
            if not ident:
                raise CatalogError("item without a guid or link", path=where)
            title = _text(item.find("title")).strip()
            cats = [_text(c).strip() for c in item.findall("category")]
            body = " ".join([title, _text(item.find("description"))])
            out.append(
                Bulletin(
                    id=ident,
                    title=title,
                    published=_iso(_text(item.find("pubDate")), where),
                    url=_text(item.find("link")).strip(),
                    cves=tuple(dict.fromkeys(_CVE.findall(body + " " + " ".join(cats)))),
                    affected=_affected_from_text(cats, body),
                    source=origin,
                )
            )
    else:
        raise CatalogError(f"not an Atom or RSS feed (root element {root.tag})", path=origin)
    return out


def _osv(doc: Any, where: str, origin: str) -> Bulletin:
    if not isinstance(doc, dict) or not isinstance(doc.get("id"), str):
        raise CatalogError("expected an OSV record with an id", path=where)
    unknown = sorted(set(doc) - _OSV_FIELDS)
    if unknown:
        raise CatalogError(f"unknown field(s) {', '.join(unknown)}", path=f"{where} ({doc['id']})")
    affected = []
    for a in doc.get("affected") or []:
        pkg = a.get("package") if isinstance(a, dict) else None
        if not isinstance(pkg, dict) or not isinstance(pkg.get("name"), str):
            raise CatalogError("affected entry without package.name", path=f"{where} ({doc['id']})")
        versions = tuple(str(v) for v in a.get("versions") or [])
        fixed = [
            str(ev["fixed"])
            for r in a.get("ranges") or []
            if isinstance(r, dict)
            for ev in r.get("events") or []
            if isinstance(ev, dict) and "fixed" in ev
        ]
        affected.append(Affected(product=pkg["name"], versions=versions, fixed=fixed[0] if fixed else ""))
    refs = [r.get("url", "") for r in doc.get("references") or [] if isinstance(r, dict)]
    aliases = [str(x) for x in doc.get("aliases") or []]
    return Bulletin(
        id=doc["id"],
        title=str(doc.get("summary") or doc["id"]),
        published=_iso(doc.get("published") or doc.get("modified"), f"{where} ({doc['id']})"),
        url=refs[0] if refs else "",
        cves=tuple(a for a in aliases if a.startswith("CVE-")) or tuple(_CVE.findall(str(doc.get("details", "")))),
        affected=tuple(affected),
        source=origin,
    )


def parse_json(data: bytes, origin: str) -> list[Bulletin]:
    try:
        doc = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise CatalogError(f"invalid JSON: {exc}", path=origin) from None
    items = doc.get("bulletins") if isinstance(doc, dict) and "bulletins" in doc else doc
    items = items if isinstance(items, list) else [items]
    return [_osv(x, f"{origin}: [{i}]", origin) for i, x in enumerate(items)]


def parse_feed(data: bytes, origin: str) -> list[Bulletin]:
    if len(data) > MAX_FEED_BYTES:
        raise CatalogError(f"feed over the {MAX_FEED_BYTES}-byte budget", path=origin)
    head = data.lstrip()[:1]
    out = parse_json(data, origin) if head in (b"{", b"[") else parse_xml(data, origin)
    if len(out) > MAX_ENTRIES:
        raise CatalogError(f"more than {MAX_ENTRIES} entries", path=origin)
    seen: set[str] = set()
    for b in out:
        if b.id in seen:
            raise CatalogError(f"duplicate entry {b.id}", path=origin)
        seen.add(b.id)
    return out


# -- the local database ----------------------------------------------------------------------------------


def db_path(settings: Settings) -> Path:
    return settings.cache_dir / "freshness" / "bulletins.json"


def load(settings: Settings) -> list[Bulletin]:
    path = db_path(settings)
    if not path.is_file():
        return []
    if path.stat().st_size > MAX_FEED_BYTES * 4:
        raise CatalogError("bulletin database over its budget", path=str(path))
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        return [
            Bulletin(
                **{
                    **b,
                    "cves": tuple(b.get("cves", ())),
                    "affected": tuple(
                        Affected(product=a["product"], versions=tuple(a.get("versions", ())), fixed=a.get("fixed", ""))
                        for a in b.get("affected", ())
                    ),
                }
            )
            for b in doc["bulletins"]
        ]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise CatalogError(
            f"damaged bulletin database ({type(exc).__name__}: {exc}); run `shareguard bulletins update`",
            path=str(path),
        ) from None


def save(settings: Settings, bulletins: list[Bulletin]) -> None:
    path = db_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, json.dumps({"bulletins": [asdict(b) for b in bulletins]}, indent=1) + "\n")


def merge(old: list[Bulletin], new: list[Bulletin]) -> list[Bulletin]:
    """New entries replace old ones of the same id (a feed's update)."""
    by_id = {b.id: b for b in old}
    by_id.update({b.id: b for b in new})
    return sorted(by_id.values(), key=lambda b: (b.published, b.id))


def affecting(bulletins: list[Bulletin], names: set[str]) -> list[tuple[Bulletin, Affected]]:
    """The bulletins naming any of `names` (an image's repository, `repository:tag`, tag, family): an affected
    product without versions matches by name, one with versions only where a listed version is in use."""
    out = []
    for b in bulletins:
        for a in b.affected:
            if a.product not in names:
                continue
            if not a.versions or any(v in names or f"{a.product}:{v}" in names for v in a.versions):
                out.append((b, a))
                break
    return out
