"""Jupyter notebooks: the code cells of the JSON document (never executed), with IPython magics
and shell escapes blanked so that line numbers inside a cell stay right."""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class Cell:
    index: int
    source: str


def code_cells(text: str) -> list[Cell]:
    """Raises ValueError for a document that is not a notebook."""
    return read_notebook(text)[1]


def read_notebook(text: str) -> tuple[str, list[Cell]]:
    """The kernel's language (lower case; `python` when the notebook does not say) and the code cells.
    Raises ValueError for a document that is not a notebook."""
    doc = json.loads(text)
    if not isinstance(doc, dict) or not isinstance(doc.get("cells"), list):
        raise ValueError("not a Jupyter notebook (no cells list)")
    return _language(doc.get("metadata")), _cells(doc["cells"])


def _language(meta: object) -> str:
    if isinstance(meta, dict):
        for key, field in (("kernelspec", "language"), ("language_info", "name")):
            part = meta.get(key)
            value = part.get(field) if isinstance(part, dict) else None
            if isinstance(value, str) and value.strip():
                return value.strip().lower()
    return "python"


def _cells(cells: list[object]) -> list[Cell]:
    out: list[Cell] = []
    for i, cell in enumerate(cells):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        src = cell.get("source", "")
        if isinstance(src, list):
            src = "".join(s for s in src if isinstance(s, str))
        if not isinstance(src, str):
            continue
        out.append(Cell(i, _strip_magics(src)))
    return out


def _strip_magics(src: str) -> str:
    lines = src.split("\n")
    if lines and lines[0].lstrip().startswith("%%"):
        return "\n" * (len(lines) - 1)  # a cell magic: the cell is not Python
    return "\n".join("" if ln.lstrip().startswith(("%", "!", "?")) else ln for ln in lines)
