"""Whole numbers read from a form or a query string as browsers and probers send them: ASCII
digits only (`str.isdigit()` also takes "²" and "①", which `int()` refuses), and within what the
database compares a row id as."""

from __future__ import annotations

# The largest id PostgreSQL's integer holds: a larger one in a query is a DataError there.
MAX_ID = 2 ** 31 - 1


def _digits(text: str | None, most: int) -> int | None:
    return int(text) if text and text.isascii() and text.isdigit() and len(text) <= most else None


def record_id(text: str | None) -> int | None:
    """The row id `text` names, or None when it names none (not digits, or past MAX_ID)."""
    number = _digits(text, 12)
    return number if number is not None and number <= MAX_ID else None


def page_number(text: str | None) -> int:
    """A list's page number as the query string gives it; anything else is the first page."""
    number = _digits(text, 6)
    return 1 if number is None else number
