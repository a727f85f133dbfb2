"""OpenVEX (v0.2.0, and the v0.0.x shape before it): `not_affected` statements waive findings.

A statement applies to a finding when one of its vulnerability names (`name`, `@id`, `aliases`)
is the finding's advisory id or one of its aliases, and one of its products — or the product's
subcomponents — names the package by purl (a purl without version or qualifiers names every
version). A product that is the image itself (`pkg:oci/…`, `pkg:docker/…`) with no subcomponents
applies to every package of the scanned image. When several statements apply, the latest
(statement timestamp, else the document's) decides; only `not_affected` waives.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shareguard.core.errors import BudgetExceeded, InputError, ShareguardError
from shareguard.core.files import read_regular
from shareguard.core.safe_json import load_json
from shareguard.vuln.purl import same_package

MAX_VEX_BYTES = 32 * 1024 * 1024
MAX_VEX_DEPTH = 64
_STATUSES = frozenset({"not_affected", "affected", "fixed", "under_investigation"})
_IMAGE_TYPES = ("pkg:oci/", "pkg:docker/")


@dataclass(frozen=True)
class Statement:
    vulnerabilities: frozenset[str]
    products: tuple[str, ...]
    """Package purls (products' subcomponents included)."""
    whole_image: bool
    status: str
    justification: str | None
    impact_statement: str | None
    timestamp: str
    order: int


@dataclass(frozen=True)
class VexDocument:
    path: str
    statements: tuple[Statement, ...]

    def decide(self, vuln_ids: set[str], purl: str | None) -> Statement | None:
        """The statement that decides this (vulnerability, package), if any."""
        ids = {v.upper() for v in vuln_ids}
        applicable = [
            s
            for s in self.statements
            if s.vulnerabilities & ids
            and (s.whole_image or (purl is not None and any(same_package(p, purl) for p in s.products)))
        ]
        if not applicable:
            return None
        return max(applicable, key=lambda s: (s.timestamp, s.order))


def _ids(vuln: Any) -> set[str]:
    if isinstance(vuln, str):
        return {vuln.upper()}
    out: set[str] = set()
    if isinstance(vuln, dict):
        for key in ("name", "@id"):
            value = vuln.get(key)
            if isinstance(value, str) and value:
                out.add(value.upper())
                if "/" in value:  # an @id URL such as https://nvd.nist.gov/vuln/detail/CVE-2024-1
                    out.add(value.rstrip("/").rsplit("/", 1)[-1].upper())
        aliases = vuln.get("aliases")
        if isinstance(aliases, list):
            out.update(a.upper() for a in aliases if isinstance(a, str))
    return out


def _product_ids(product: Any) -> list[str]:
    if isinstance(product, str):
        return [product]
    out: list[str] = []
    if isinstance(product, dict):
        if isinstance(product.get("@id"), str):
            out.append(product["@id"])
        idents = product.get("identifiers")
        if isinstance(idents, dict) and isinstance(idents.get("purl"), str):
            out.append(idents["purl"])
    return out


def parse_vex(doc: Any, origin: str) -> VexDocument:
    if not isinstance(doc, dict) or not isinstance(doc.get("statements"), list):
        raise InputError("not an OpenVEX document (no `statements` list)", path=origin)
    context = doc.get("@context")
    if isinstance(context, str) and "openvex" not in context:
        raise InputError(f"unsupported VEX @context {context!r} (expected OpenVEX)", path=origin)
    doc_time = doc.get("timestamp") if isinstance(doc.get("timestamp"), str) else ""
    statements: list[Statement] = []
    for i, st in enumerate(doc["statements"]):
        if not isinstance(st, dict):
            raise InputError(f"statements[{i}] is not an object", path=origin)
        vulns = _ids(st.get("vulnerability"))
        status = st.get("status")
        if not vulns:
            raise InputError(f"statements[{i}] names no vulnerability", path=origin)
        if status not in _STATUSES:
            raise InputError(f"statements[{i}] has unknown status {status!r}", path=origin)
        products: list[str] = []
        whole_image = False
        raw_products = st.get("products") or []
        if not isinstance(raw_products, list):
            raise InputError(f"statements[{i}].products must be a list", path=origin)
        legacy_subs = st.get("subcomponents") if isinstance(st.get("subcomponents"), list) else []
        for prod in raw_products:
            subs: list[str] = []
            if isinstance(prod, dict) and isinstance(prod.get("subcomponents"), list):
                for sub in prod["subcomponents"]:
                    subs.extend(_product_ids(sub))
            for sub in legacy_subs or []:
                subs.extend(_product_ids(sub))
            ids = _product_ids(prod)
            if subs:
                products.extend(subs)
            elif any(p.startswith(_IMAGE_TYPES) for p in ids):
                whole_image = True
            else:
                products.extend(ids)
        justification = st.get("justification") if isinstance(st.get("justification"), str) else None
        impact = st.get("impact_statement") if isinstance(st.get("impact_statement"), str) else None
        if status == "not_affected" and not (justification or impact):
            raise InputError(f"statements[{i}]: not_affected needs a justification or impact_statement", path=origin)
        stamp = str(st["timestamp"]) if isinstance(st.get("timestamp"), str) else str(doc_time)
        statements.append(
            Statement(frozenset(vulns), tuple(products), whole_image, str(status), justification, impact, stamp, i)
        )
    return VexDocument(origin, tuple(statements))


def load_vex(path: Path) -> VexDocument:
    """Read and validate an OpenVEX JSON file; errors are one line naming the file."""
    origin = str(path)
    try:
        data = read_regular(path, MAX_VEX_BYTES)  # regular files only, never more than the budget read
    except BudgetExceeded:
        raise InputError(f"VEX file larger than {MAX_VEX_BYTES} bytes", path=origin) from None
    except ShareguardError as exc:
        raise InputError(f"VEX file: {exc.message}", path=origin) from None
    try:
        doc = load_json(data, origin=origin, max_bytes=MAX_VEX_BYTES, max_depth=MAX_VEX_DEPTH)
    except ShareguardError as exc:  # syntax, nesting, a 5,000-digit number: one line
        raise InputError(f"VEX file is not valid JSON: {exc.message}", path=origin, line=exc.line) from None
    return parse_vex(doc, origin)
