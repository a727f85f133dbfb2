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
    doc = json.loads(text)
    if not isinstance(doc, dict) or not isinstance(doc.get("cells"), list):
        raise ValueError("not a Jupyter notebook (no cells list)")
    out: list[Cell] = []
    for i, cell in enumerate(doc["cells"]):
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
