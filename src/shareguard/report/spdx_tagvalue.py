"""The SPDX 2.3 document of `report/spdx.py` written as tag-value (`-o sbom.spdx`; `.spdx.json` and stdout
stay JSON), after the SPDX 2.3 specification's tag-value format: `Tag: value` lines, free text between
`<text>` and `</text>`, one package block per package, relationships last.

Package names, paths and comments come from the scanned image (attacker-controlled): a one-line value
has its line breaks and other control characters shown escaped (`core.text.printable`), so no value
can start a tag of its own; a text value cannot contain `</text>` (which would end it early), so that
sequence is written `</ text>`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from shareguard.core.text import printable

_PACKAGE_TAGS = (
    ("name", "PackageName", False),
    ("SPDXID", "SPDXID", False),
    ("versionInfo", "PackageVersion", False),
    ("downloadLocation", "PackageDownloadLocation", False),
    ("filesAnalyzed", "FilesAnalyzed", False),
    ("primaryPackagePurpose", "PrimaryPackagePurpose", False),
    ("licenseConcluded", "PackageLicenseConcluded", False),
    ("licenseDeclared", "PackageLicenseDeclared", False),
    ("licenseComments", "PackageLicenseComments", True),
    ("copyrightText", "PackageCopyrightText", True),
    ("sourceInfo", "PackageSourceInfo", True),
    ("description", "PackageDescription", True),
    ("comment", "PackageComment", True),
)


def _one_line(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return printable(str(value))


def _text(value: object) -> str:
    text = str(value)
    if text in ("NOASSERTION", "NONE"):
        return text
    return "<text>" + text.replace("</text>", "</ text>") + "</text>"


def _lines(doc: dict[str, Any]) -> Iterator[str]:
    yield f"SPDXVersion: {_one_line(doc['spdxVersion'])}"
    yield f"DataLicense: {_one_line(doc['dataLicense'])}"
    yield f"SPDXID: {_one_line(doc['SPDXID'])}"
    yield f"DocumentName: {_one_line(doc['name'])}"
    yield f"DocumentNamespace: {_one_line(doc['documentNamespace'])}"
    info = doc["creationInfo"]
    for creator in info["creators"]:
        yield f"Creator: {_one_line(creator)}"
    yield f"Created: {_one_line(info['created'])}"
    if info.get("comment"):
        yield f"CreatorComment: {_text(info['comment'])}"
    for pkg in doc["packages"]:
        yield ""
        for key, tag, is_text in _PACKAGE_TAGS:
            if key in pkg:
                yield f"{tag}: {_text(pkg[key]) if is_text else _one_line(pkg[key])}"
        for ref in pkg.get("externalRefs", ()):
            parts = (ref["referenceCategory"], ref["referenceType"], ref["referenceLocator"])
            yield "ExternalRef: " + " ".join(_one_line(p).replace(" ", "%20") for p in parts)
    yield ""
    for rel in doc["relationships"]:
        parts = (rel["spdxElementId"], rel["relationshipType"], rel["relatedSpdxElement"])
        yield "Relationship: " + " ".join(_one_line(p) for p in parts)


def tag_value(doc: dict[str, Any]) -> str:
    """The document (as `spdx.build_document` makes it) in SPDX 2.3 tag-value form."""
    return "\n".join(_lines(doc)) + "\n"
