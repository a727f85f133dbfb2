"""Binary content in the data scope: a format that cannot carry the data, or an unsupported one.

Read from the bundled `data/binary_formats.yaml` (formats as data, with the reason for each). An object
whose content is binary (and not a container the scanner opens) is looked up here: a `no_text` format
(images, audio, fonts, compiled code, tensor-only weights) is skipped with its reason; anything else (a
PDF, a database, a pickle, an unknown format) is unsupported, and leaves the data duties it is in scope
of incomplete: shareguard could not classify it, as Macie reports such objects as unsupported.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from shareguard.core.errors import CatalogError

SOURCE = "shareguard.sensitive.data/binary_formats.yaml"


@dataclass(frozen=True)
class BinaryFormat:
    name: str
    carries_data: bool
    """False for a `no_text` format: nothing the detectors look for can be in it."""
    reason: str
    suffixes: tuple[str, ...] = ()
    magic: tuple[bytes, ...] = ()


UNKNOWN = BinaryFormat("unknown binary format", True, "")


def parse_formats(text: str, origin: str = SOURCE) -> tuple[BinaryFormat, ...]:
    doc: Any = yaml.safe_load(text)
    if not isinstance(doc, dict):
        raise CatalogError("binary formats: a mapping with no_text and unsupported", path=origin)
    out: list[BinaryFormat] = []
    for section, carries in (("no_text", False), ("unsupported", True)):
        for item in doc.get(section) or ():
            if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                raise CatalogError(f"binary formats: {section} entry without a name: {item!r}", path=origin)
            reason = item.get("reason")
            if not carries and not isinstance(reason, str):
                raise CatalogError(f"binary formats: {item['name']} has no reason", path=origin)
            out.append(
                BinaryFormat(
                    name=item["name"],
                    carries_data=carries,
                    reason=str(reason or ""),
                    suffixes=tuple(str(s).lower() for s in item.get("suffixes") or ()),
                    magic=tuple(str(m).encode("latin-1") for m in item.get("magic") or ()),
                )
            )
    return tuple(out)


@cache
def formats() -> tuple[BinaryFormat, ...]:
    text = resources.files("shareguard.sensitive.data").joinpath("binary_formats.yaml").read_text(encoding="utf-8")
    return parse_formats(text)


def classify(path: str, head: bytes, table: tuple[BinaryFormat, ...] | None = None) -> BinaryFormat:
    """The format of binary content: by its magic prefix, else by the file's suffix, else `UNKNOWN`."""
    table = formats() if table is None else table
    for fmt in table:
        if fmt.magic and head.startswith(fmt.magic):
            return fmt
    name = path.lower().rsplit("/", 1)[-1]
    for fmt in table:
        if fmt.suffixes and name.endswith(fmt.suffixes):
            return fmt
    return UNKNOWN


def unsupported_reason(fmt: BinaryFormat) -> str:
    """The gap's reason for an object of a format that can carry data but is not read."""
    return f"unsupported format ({fmt.name}): not classified for sensitive data"
