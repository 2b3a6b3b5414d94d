"""Small counts, hidden the same way everywhere aggregate figures are shown: the needs page, the
coordinators' dashboard, their CSVs and the API.

A count from 1 to `minimum` - 1 could point at a person ("the one report from that township this
month"), so it is shown as "<minimum" (DASHBOARD_MIN_CELL, 3 by default); zero is shown as it is.
A figure that would let such a count be worked out by subtraction is hidden too, shown as
"hidden". Which figure that is depends on what else is shown beside it:

* One table on its own (the needs page): a total that adds up a small count is hidden
  (`total`), so every number shown is a count of at least `minimum`, a zero, or a sum of
  shown numbers.
* Several breakdowns of the same referrals (the dashboard): each adds up to the same total, so
  hiding that total in one breakdown is useless when any other breakdown has no small count and
  gives it away as the sum of its bars. There the total is shown, and a breakdown with a small
  count also hides its largest count (`protect_line`): subtracting what is shown from the total
  then gives a small count plus the largest one, never a small count alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, Sequence, TypeVar

HIDDEN = "hidden"
K = TypeVar("K")


def small(count: int, minimum: int) -> bool:
    """A count that could point at a person: more than none, fewer than `minimum`."""
    return 0 < count < minimum


def shown(count: int, minimum: int) -> str:
    """A count as it may be shown: "<minimum" when it is small."""
    return f"<{minimum}" if small(count, minimum) else str(count)


def total(counts: Sequence[int], minimum: int) -> str:
    """The sum of `counts` as one table may show it: hidden when it adds up a small count."""
    return HIDDEN if any(small(count, minimum) for count in counts) else str(sum(counts))


@dataclass(frozen=True)
class Cell(Generic[K]):
    """One figure as it may be shown: `count` is None when it is hidden, and `shown` says how
    ("12", "0", "<3" or "hidden")."""

    key: K
    count: int | None
    shown: str

    @property
    def hidden(self) -> bool:
        return self.count is None


def total_cell(count: int, minimum: int) -> Cell[None]:
    """The total of a selection: shown unless it is small itself."""
    return Cell(None, None if small(count, minimum) else count, shown(count, minimum))


def protect_line(counts: Sequence[tuple[K, int]], minimum: int) -> list[Cell[K]]:
    """The cells of one breakdown whose total is shown (elsewhere on the page or beside it).

    Small counts become "<minimum". When there is one, the largest count of at least `minimum`
    is hidden as well (the first of equal ones, in the breakdown's own order), so that the total
    minus the shown counts is never a small count on its own. The choice depends only on the
    counts that are not small, so which count is hidden says nothing about the small ones."""
    largest = None
    if any(small(count, minimum) for _key, count in counts):
        candidates = [index for index, (_key, count) in enumerate(counts) if count >= minimum]
        largest = max(candidates, key=lambda index: (counts[index][1], -index), default=None)
    cells = []
    for index, (key, count) in enumerate(counts):
        if small(count, minimum):
            cells.append(Cell(key, None, shown(count, minimum)))
        elif index == largest:
            cells.append(Cell(key, None, HIDDEN))
        else:
            cells.append(Cell(key, count, str(count)))
    return cells
