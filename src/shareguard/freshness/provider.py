"""Provider mode: a platform team publishes its own images to internal users (the vendor's half of the model, done
with the same engine). `shareguard catalog publish CATALOG.yaml` scans each listed image against the vulnerability
database and emits bulletins (Markdown, OSV JSON, Atom) for the vulnerabilities that affect each; given consumers'
audit reports it lists the consumers that must update.

CATALOG.yaml:

    publisher: acme-ml-platform          # names the bulletins (ACME-ML-PLATFORM-…)
    url: https://ml-images.acme.example  # links in the feed
    images:
      - name: acme/pytorch-train
        tag: "2.6-2026.10"
        digest: sha256:…                 # optional
        released: "2026-10-01"
        end_of_patch: "2027-10-01"       # optional
        input: images/pytorch-train.tar  # docker/oci archive or OCI layout, relative to the catalog; or
        # reference: registry.acme.example/acme/pytorch-train:2.6-2026.10
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from shareguard.core.errors import CatalogError
from shareguard.core.finding import Finding, Status
from shareguard.core.settings import Budgets
from shareguard.freshness.bulletins import Affected, Bulletin
from shareguard.freshness.dates import parse_date
from shareguard.freshness.model import Release
from shareguard.posture.parsers.yaml_safe import load_one

MAX_BYTES = 4 * 1024 * 1024
_TOP = frozenset({"publisher", "url", "images"})
_IMAGE = frozenset({"name", "tag", "digest", "released", "end_of_patch", "input", "reference"})


@dataclass(frozen=True)
class InternalImage:
    name: str
    tag: str
    released: date
    digest: str = ""
    end_of_patch: date | None = None
    input: Path | None = None
    reference: str = ""

    @property
    def ref(self) -> str:
        return f"{self.name}:{self.tag}"


@dataclass(frozen=True)
class ProviderCatalog:
    publisher: str
    url: str
    images: tuple[InternalImage, ...]


@dataclass
class ImageScan:
    image: InternalImage
    vulns: dict[str, Finding] = field(default_factory=dict)
    """Vulnerability id → one finding of it (package, fixed version)."""


def load_catalog(path: Path) -> ProviderCatalog:
    if not path.is_file():
        raise CatalogError("no such file", path=str(path))
    if path.stat().st_size > MAX_BYTES:
        raise CatalogError(f"over the {MAX_BYTES}-byte budget", path=str(path))
    return parse_catalog(path.read_text(encoding="utf-8", errors="replace"), path)


def is_provider_catalog(text: str) -> bool:
    return bool(re.search(r"(?m)^publisher:", text)) and bool(re.search(r"(?m)^images:", text))


def parse_catalog(text: str, path: Path) -> ProviderCatalog:
    """A provider catalog; `input` paths are relative to `path`'s folder."""
    if len(text) > MAX_BYTES:
        raise CatalogError(f"over the {MAX_BYTES}-byte budget", path=str(path))
    doc = load_one(text, str(path), Budgets()).value
    if not isinstance(doc, dict) or not isinstance(doc.get("images"), list):
        raise CatalogError("expected a mapping with an images list", path=str(path))
    unknown = sorted(str(k) for k in doc if k not in _TOP)
    if unknown:
        raise CatalogError(f"unknown field(s) {', '.join(unknown)}", path=str(path))
    images: list[InternalImage] = []
    seen: set[str] = set()
    for i, item in enumerate(doc["images"]):
        where = f"{path}: images[{i}]"
        if not isinstance(item, dict):
            raise CatalogError("expected a mapping", path=where)
        unknown = sorted(str(k) for k in item if k not in _IMAGE)
        if unknown:
            raise CatalogError(f"unknown field(s) {', '.join(unknown)}", path=where)
        name, tag = str(item.get("name") or ""), str(item.get("tag") or "")
        if not name or not tag:
            raise CatalogError("name and tag are required", path=where)
        if f"{name}:{tag}" in seen:
            raise CatalogError(f"duplicate entry {name}:{tag}", path=where)
        seen.add(f"{name}:{tag}")
        released = parse_date(item.get("released"), where)
        eop = parse_date(item["end_of_patch"], where) if item.get("end_of_patch") else None
        if eop is not None and eop <= released:
            raise CatalogError(f"impossible dates: end of patch {eop} is not after release {released}", path=where)
        source = item.get("input")
        if bool(source) == bool(item.get("reference")):
            raise CatalogError("give exactly one of input (a local archive/layout) or reference", path=where)
        images.append(
            InternalImage(
                name=name,
                tag=tag,
                released=released,
                digest=str(item.get("digest") or ""),
                end_of_patch=eop,
                input=(path.parent / str(source)) if source else None,
                reference=str(item.get("reference") or ""),
            )
        )
    return ProviderCatalog(str(doc.get("publisher") or "internal"), str(doc.get("url") or ""), tuple(images))


def internal_releases(catalog: ProviderCatalog, origin: str) -> list[Release]:
    """The published images as release-catalog records: consumers who import the provider's catalog
    (`shareguard catalog update --from CATALOG.yaml`) get end-of-patch and newer-release judgements on them."""
    return [
        Release(
            provider=catalog.publisher,
            product="internal",
            repository=img.name,
            framework=img.name.lower(),
            version=img.tag,
            ga=img.released,
            eop=img.end_of_patch,
            tags=(img.tag, img.digest) if img.digest else (img.tag,),
            origin=f"{origin}: {img.ref}",
        )
        for img in catalog.images
    ]


def vulnerabilities(findings: Iterable[Finding]) -> dict[str, Finding]:
    out: dict[str, Finding] = {}
    for f in findings:
        vid = f.properties.get("vulnerability_id")
        if isinstance(vid, str) and f.status is Status.FAIL:
            out.setdefault(vid, f)
    return out


def make_bulletins(catalog: ProviderCatalog, scans: list[ImageScan], today: date) -> list[tuple[Bulletin, str]]:
    """One bulletin per image release with known vulnerabilities, naming the newer release of the same image
    that fixes them ("moving to TAG fixes N of M"). Returns (bulletin, Markdown details)."""
    out: list[tuple[Bulletin, str]] = []
    prefix = "".join(c if c.isalnum() else "-" for c in catalog.publisher.upper())
    for scan in scans:
        if not scan.vulns:
            continue
        img = scan.image
        mine = set(scan.vulns)
        newer = sorted(
            (s for s in scans if s.image.name == img.name and s.image.released > img.released),
            key=lambda s: s.image.released,
            reverse=True,
        )
        fix_line = ""
        fixed = ""
        if newer:
            best = newer[0]
            fixes = len(mine - set(best.vulns))
            fix_line = f"Moving to {best.image.ref} fixes {fixes} of the {len(mine)} known vulnerabilities."
            fixed = best.image.tag if fixes == len(mine) else ""
        digest = hashlib.sha256("|".join(sorted(mine)).encode()).hexdigest()[:8]
        cves = sorted(
            {a for f in scan.vulns.values() for a in f.properties.get("aliases", []) if str(a).startswith("CVE-")}
        )
        bid = f"{prefix}-{today.isoformat()}-{img.name.rsplit('/', 1)[-1]}-{img.tag}-{digest}"
        title = f"{img.ref}: {len(mine)} known vulnerabilit{'y' if len(mine) == 1 else 'ies'}"
        lines = [f"## {bid}", "", f"**{title}** (released {img.released}"]
        lines[-1] += f", end of patch {img.end_of_patch})" if img.end_of_patch else ")"
        if img.digest:
            lines.append(f"Digest: `{img.digest}`")
        lines.append("")
        lines.append("| vulnerability | package | installed | fixed in |")
        lines.append("|---|---|---|---|")
        for vid, f in sorted(scan.vulns.items()):
            p = f.properties
            lines.append(
                f"| {vid} | {p.get('package', '')} | {p.get('installed_version', '')} | {p.get('fixed_version') or '—'} |"
            )
        lines.append("")
        lines.append(fix_line or "No newer release of this image is published yet.")
        out.append(
            (
                Bulletin(
                    id=bid,
                    title=title,
                    published=today.isoformat(),
                    url=f"{catalog.url.rstrip('/')}/bulletins#{bid}" if catalog.url else "",
                    cves=tuple(cves),
                    affected=(Affected(product=img.name, versions=(img.tag,), fixed=fixed),),
                ),
                "\n".join(lines),
            )
        )
    return out


def render_markdown(catalog: ProviderCatalog, bulletins: list[tuple[Bulletin, str]]) -> str:
    head = [f"# Security bulletins: {catalog.publisher}", ""]
    if not bulletins:
        head.append("No published image has a known vulnerability.")
    return "\n".join(head + [b for _, b in bulletins]) + "\n"


def render_osv(bulletins: list[tuple[Bulletin, str]]) -> str:
    docs = []
    for b, details in bulletins:
        a = b.affected[0]
        affected: dict[str, Any] = {"package": {"name": a.product, "ecosystem": "OCI"}, "versions": list(a.versions)}
        if a.fixed:
            affected["ranges"] = [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": a.fixed}]}]
        docs.append(
            {
                "schema_version": "1.6.0",
                "id": b.id,
                "published": f"{b.published}T00:00:00Z",
                "modified": f"{b.published}T00:00:00Z",
                "aliases": list(b.cves),
                "summary": b.title,
                "details": details,
                "affected": [affected],
                "references": [{"type": "ADVISORY", "url": b.url}] if b.url else [],
            }
        )
    return json.dumps({"bulletins": docs}, indent=2) + "\n"


def render_atom(catalog: ProviderCatalog, bulletins: list[tuple[Bulletin, str]], today: date) -> str:
    feed_id = catalog.url or f"urn:shareguard:{catalog.publisher}"
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom">',
        f"  <title>{xml_escape(catalog.publisher)} security bulletins</title>",
        f"  <id>{xml_escape(feed_id)}</id>",
        f"  <updated>{today.isoformat()}T00:00:00Z</updated>",
    ]
    for b, details in bulletins:
        a = b.affected[0]
        parts += [
            "  <entry>",
            f"    <id>{xml_escape(b.id)}</id>",
            f"    <title>{xml_escape(b.title)}</title>",
            f"    <published>{b.published}T00:00:00Z</published>",
            f"    <updated>{b.published}T00:00:00Z</updated>",
        ]
        if b.url:
            parts.append(f'    <link href="{xml_escape(b.url, {chr(34): "&quot;"})}"/>')
        parts.append(f'    <category term="{xml_escape(a.product + ":" + a.versions[0], {chr(34): "&quot;"})}"/>')
        if a.fixed:
            parts.append(f'    <category term="{xml_escape("fixed: " + a.fixed, {chr(34): "&quot;"})}"/>')
        parts += [f'    <category term="{c}"/>' for c in b.cves]
        parts += [f'    <content type="text">{xml_escape(details)}</content>', "  </entry>"]
    parts.append("</feed>")
    return "\n".join(parts) + "\n"


def consumers_to_update(
    bulletins: list[Bulletin], images: dict[str, InternalImage], reports: list[Path]
) -> list[tuple[str, str, str]]:
    """(consumer report, image, bulletin) for each consumer whose audit report names an affected image release
    (by `name:tag` or digest anywhere in its findings, facts or freshness metadata)."""
    out: list[tuple[str, str, str]] = []
    for report in reports:
        if not report.is_file() or report.stat().st_size > 256 * 1024 * 1024:
            raise CatalogError("not a readable audit report", path=str(report))
        text = report.read_text(encoding="utf-8", errors="replace")
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            raise CatalogError(f"not a JSON audit report: {exc}", path=str(report)) from None
        for b in bulletins:
            for a in b.affected:
                for v in a.versions:
                    img = images.get(f"{a.product}:{v}")
                    keys = [f"{a.product}:{v}"] + ([img.digest] if img and img.digest else [])
                    if any(re.search(rf"(?<![\w.:-]){re.escape(k)}(?![\w.-])", text) for k in keys):
                        out.append((str(report), f"{a.product}:{v}", b.id))
    return out
