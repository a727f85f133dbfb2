"""SPDX 2.3 JSON, written directly from the SPDX 2.3 specification's JSON shape (no runtime
dependency): one package per inventory package with its purl as an external reference, the image
(or root filesystem) as the described package, the OS as an OPERATING-SYSTEM package, and
CONTAINS relationships from the target to everything in it."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC
from functools import lru_cache
from typing import Any

from shareguard import __version__
from shareguard.catalog.model import Catalog
from shareguard.core.result import ScanResult
from shareguard.report.ml_stack import COMPONENTS, build_facts, summary
from shareguard.report.options import ReportOptions
from shareguard.report.sbom_inventory import Inventory, SbomPackage, collect, display_target

_ID_CHARS = re.compile(r"[^A-Za-z0-9.-]")
_EXPRESSION_CHARS = re.compile(r"[A-Za-z0-9.+:() -]{1,200}")
NOASSERTION = "NOASSERTION"


def _spdx_id(text: str) -> str:
    return "SPDXRef-" + _ID_CHARS.sub("-", text)


@lru_cache(maxsize=4096)
def _license_expression(declared: tuple[str, ...]) -> str:
    """Declared licenses as one valid SPDX expression, or NOASSERTION when any is not an SPDX id
    (free-text classifiers such as "BSD" would make the document invalid)."""
    if not declared:
        return NOASSERTION
    try:
        from license_expression import get_spdx_licensing
    except ImportError:  # optional: without it only NOASSERTION is written
        return NOASSERTION
    licensing = get_spdx_licensing()
    parts: list[str] = []
    for text in declared:
        if not _EXPRESSION_CHARS.fullmatch(text):
            return NOASSERTION
        try:
            info = licensing.validate(text)
        except Exception:  # license-expression 30.x itself raises AttributeError on some keys ('MIT/X11')
            return NOASSERTION
        if info.errors or not info.normalized_expression:
            return NOASSERTION
        parts.append(
            f"({info.normalized_expression})" if " " in info.normalized_expression else info.normalized_expression
        )
    return " AND ".join(dict.fromkeys(parts))


def _purpose(sp: SbomPackage) -> str:
    pkg = sp.package
    if pkg.origin == "ml-stack" and pkg.name not in COMPONENTS:
        return "FRAMEWORK"
    if pkg.ecosystem.split(":")[0] in ("PyPI", "npm", "conda"):
        return "LIBRARY"
    return "LIBRARY" if pkg.name.startswith("lib") else "APPLICATION"


def _package(sp: SbomPackage) -> dict[str, Any]:
    pkg = sp.package
    where = f"found at {pkg.path}" + (f" in layer {pkg.layer}" if pkg.layer else "")
    out: dict[str, Any] = {
        "SPDXID": _spdx_id(sp.ref),
        "name": pkg.name,
        "downloadLocation": NOASSERTION,
        "filesAnalyzed": False,
        "licenseConcluded": NOASSERTION,
        "licenseDeclared": _license_expression(tuple(pkg.licenses)),
        "copyrightText": NOASSERTION,
        "primaryPackagePurpose": _purpose(sp),
        "sourceInfo": where,
        "comment": f"ecosystem {pkg.ecosystem}; origin {pkg.origin}"
        + (f"; source package {pkg.source_name} {pkg.source_version or ''}".rstrip() if pkg.source_name else ""),
    }
    build = build_facts(pkg) if pkg.origin == "ml-stack" or pkg.ecosystem == "PyPI" else {}
    if build:
        out["comment"] += "; build: " + ", ".join(f"{k} {v}" for k, v in build.items())
    if pkg.version:
        out["versionInfo"] = pkg.version
    if pkg.licenses and out["licenseDeclared"] == NOASSERTION:
        out["licenseComments"] = "declared: " + "; ".join(pkg.licenses)
    if sp.purl:
        out["externalRefs"] = [
            {"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": sp.purl}
        ]
    return out


def build_document(inv: Inventory, created: str) -> dict[str, Any]:
    if inv.image is not None:
        target: dict[str, Any] = {
            "SPDXID": "SPDXRef-Target",
            "name": inv.image.reference,
            "downloadLocation": NOASSERTION,
            "filesAnalyzed": False,
            "primaryPackagePurpose": "CONTAINER",
        }
        if inv.image.digest:
            target["versionInfo"] = inv.image.digest
    else:
        target = {
            "SPDXID": "SPDXRef-Target",
            "name": display_target(inv.target),
            "downloadLocation": NOASSERTION,
            "filesAnalyzed": False,
            "primaryPackagePurpose": "OPERATING-SYSTEM" if inv.command == "rootfs" else "OTHER",
            "comment": f"root filesystem scanned by `shareguard {inv.command}`",
        }
    packages = [target]
    relationships = [
        {"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": "SPDXRef-Target"}
    ]
    if inv.os is not None:
        os_pkg: dict[str, Any] = {
            "SPDXID": "SPDXRef-OperatingSystem",
            "name": inv.os.id,
            "downloadLocation": NOASSERTION,
            "filesAnalyzed": False,
            "primaryPackagePurpose": "OPERATING-SYSTEM",
        }
        if inv.os.version_id:
            os_pkg["versionInfo"] = inv.os.version_id
        if inv.os.pretty_name:
            os_pkg["description"] = inv.os.pretty_name
        packages.append(os_pkg)
        relationships.append(
            {
                "spdxElementId": "SPDXRef-Target",
                "relationshipType": "CONTAINS",
                "relatedSpdxElement": "SPDXRef-OperatingSystem",
            }
        )
    for sp in inv.packages:
        packages.append(_package(sp))
        relationships.append(
            {"spdxElementId": "SPDXRef-Target", "relationshipType": "CONTAINS", "relatedSpdxElement": _spdx_id(sp.ref)}
        )
    # The namespace must be unique per document: derive it from the content so the same scan gives the same id.
    digest = uuid.uuid5(uuid.NAMESPACE_URL, json.dumps([inv.target, [p["SPDXID"] for p in packages], created]))
    return {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": f"shareguard-{inv.command}-{display_target(inv.target)}",
        "documentNamespace": f"https://spdx.org/spdxdocs/shareguard-{inv.command}-{digest}",
        "creationInfo": {"created": created, "creators": [f"Tool: shareguard-{__version__}"]} | _stack_comment(inv),
        "packages": packages,
        "relationships": relationships,
    }


def _stack_comment(inv: Inventory) -> dict[str, str]:
    """`creationInfo.comment` naming the ML stack (accelerators, CUDA/cuDNN/NCCL versions), when there is one."""
    stack = summary(sp.package for sp in inv.packages)
    if stack is None:
        return {}
    parts = [f"accelerators {', '.join(stack['accelerators']) or 'none found'}"]
    for name in COMPONENTS:
        versions = [str(e["version"]) for e in stack[name]]
        if versions:
            parts.append(f"{name} {', '.join(versions)}")
    return {"comment": "ML stack: " + "; ".join(parts)}


class SpdxReporter:
    """SPDX 2.3 JSON; tag-value when written to a file named `*.spdx` (`-o sbom.spdx`, as `-o sbom.spdx.json`
    gives JSON)."""

    name = "spdx"
    commands: frozenset[str] | None = frozenset({"image", "rootfs"})

    def __init__(self, options: ReportOptions | None = None) -> None:
        self.options = options or ReportOptions()

    def with_options(self, options: ReportOptions) -> SpdxReporter:
        return SpdxReporter(options)

    def render(self, result: ScanResult, catalog: Catalog) -> str:
        created = result.finished.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        doc = build_document(collect(result), created)
        name = (self.options.output_name or "").lower()
        if name.endswith(".spdx"):
            from shareguard.report.spdx_tagvalue import tag_value

            return tag_value(doc)
        return json.dumps(doc, indent=2) + "\n"
