"""Dates in the release-catalog tables: one parser and one month arithmetic for every table format."""

from __future__ import annotations

from datetime import date
from typing import Any

from shareguard.core.errors import CatalogError


def parse_date(value: Any, where: str, key: str = "") -> date:
    """A `YYYY-MM-DD` value; anything else is a CatalogError naming the file/entry (and the field, if given)."""
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        prefix = f"{key}: " if key else ""
        raise CatalogError(f"{prefix}{value!r} is not a date (YYYY-MM-DD)", path=where) from None


def months_after(d: date, months: int) -> date:
    """`d` plus whole months, clamped to day 28 so every month has the day (support windows are monthly)."""
    m = d.month - 1 + months
    return date(d.year + m // 12, m % 12 + 1, min(d.day, 28))
