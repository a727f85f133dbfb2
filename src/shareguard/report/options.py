"""How a report is laid out, as chosen on the command line (`--group-by`, `--show-all`, `--list-packages`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

GroupBy = Literal["duty", "resource", "rule"]
GROUP_BY_CHOICES: tuple[str, ...] = get_args(GroupBy)


@dataclass(frozen=True)
class ReportOptions:
    group_by: GroupBy = "duty"
    """How the table and the HTML report group failing findings first."""
    show_all: bool = False
    """The table lists every duty on its own line (passing, not assessed and provider duties too)."""
    list_packages: bool = False
    """The JSON report carries the package inventory (`packages[]`)."""
    output_name: str | None = None
    """The file name the report goes to (`--output`), when a format's encoding follows it (`*.spdx`:
    SPDX tag-value)."""
