"""Bar charts drawn on the server: the geometry of each bar, worked out here, drawn as inline SVG by
the macros in `portal/dashboard_charts.html` (presentation attributes and classes only: the CSP
allows no inline style). A hidden figure ("<3", "hidden") gets no bar, only a marker and its
words, so a chart never shows more than its table. Each chart's table is its text equivalent."""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil

from storage.small_cells import Cell

# Horizontal bars: a row per figure, the label left of the bar, the figure right of it.
ROW_HEIGHT = 22
BAR_HEIGHT = 14
LABEL_WIDTH = 190
BAR_SPACE = 300
FIGURE_SPACE = 60
HIDDEN_MARK = 10  # the width (height, for columns) of a hidden figure's marker
# Columns (months): at most this wide in all; labels (YYYY-MM) at least LABEL_GAP apart, and
# figures above the columns only when a column is wide enough for them.
COLUMN_SPACE = 540
COLUMN_HEIGHT = 120
MAX_COLUMN_WIDTH = 40
LABEL_GAP = 52
FIGURES_FROM_WIDTH = 18
MARGIN = 26  # either side, for the first and last labels


@dataclass(frozen=True)
class Bar:
    label: str
    shown: str
    hidden: bool
    x: float  # where the bar starts (columns) or the row's top (bars: y)
    y: float
    width: float
    height: float
    figure_x: float  # where the figure's words go
    figure_y: float
    labelled: bool = True


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    columns: bool


def _scale(cells: list[Cell]) -> int:
    return max((cell.count for cell in cells if cell.count is not None), default=0) or 1


def bar_chart(rows: list[tuple[str, Cell]]) -> Chart:
    """One horizontal bar per (label, figure)."""
    scale = _scale([cell for _label, cell in rows])
    bars = []
    for index, (label, cell) in enumerate(rows):
        top = index * ROW_HEIGHT + (ROW_HEIGHT - BAR_HEIGHT) / 2
        width = HIDDEN_MARK if cell.hidden else round(BAR_SPACE * cell.count / scale, 1)
        bars.append(Bar(label=label, shown=cell.shown, hidden=cell.hidden, x=LABEL_WIDTH, y=top, width=width,
                        height=BAR_HEIGHT, figure_x=LABEL_WIDTH + width + 6, figure_y=top + BAR_HEIGHT - 3))
    return Chart(width=LABEL_WIDTH + BAR_SPACE + FIGURE_SPACE, height=max(1, len(rows)) * ROW_HEIGHT, bars=bars,
                 columns=False)


def column_chart(rows: list[tuple[str, Cell]]) -> Chart:
    """One column per (label, figure), oldest month left; labels under every few columns so that
    they do not overlap, figures above the columns while there is room for them."""
    scale = _scale([cell for _label, cell in rows])
    count = max(1, len(rows))
    slot = min(MAX_COLUMN_WIDTH, COLUMN_SPACE / count)
    step = ceil(LABEL_GAP / slot)
    top = 16  # room for the figures above the tallest column
    bars = []
    for index, (label, cell) in enumerate(rows):
        height = HIDDEN_MARK if cell.hidden else round(COLUMN_HEIGHT * cell.count / scale, 1)
        x = round(MARGIN + index * slot + slot * 0.15, 1)
        bars.append(Bar(label=label, shown=cell.shown if slot >= FIGURES_FROM_WIDTH else "", hidden=cell.hidden,
                        x=x, y=top + COLUMN_HEIGHT - height, width=round(slot * 0.7, 1), height=height,
                        figure_x=round(x + slot * 0.35, 1), figure_y=top + COLUMN_HEIGHT - height - 4,
                        labelled=index % step == 0))
    return Chart(width=ceil(count * slot) + 2 * MARGIN, height=top + COLUMN_HEIGHT + 18, bars=bars, columns=True)
