"""The reports' charts as geometry for inline SVG: per-day bars of work and breaks,
and a calendar heat map of worked time. No script draws them; the page's style
sheet colours them by class (the Content-Security-Policy allows no inline style).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

from b24local.scopes.timeman.tally import Totals

#: The bar chart's drawing box, in SVG units (it scales to the page's width).
WIDTH, HEIGHT = 720, 220
LEFT, BOTTOM, TOP = 40, 22, 8
#: A heat map cell and the gap between cells.
CELL, GAP = 30, 4
#: A heat map day's shade: the hours each person who worked that day worked, on
#: average, below these (one person's day, or a team's, reads the same way).
LEVELS = (4, 6, 8)


@dataclass(frozen=True, slots=True)
class Bar:
    day: date
    x: float
    width: float
    work_y: float
    work_height: float
    break_y: float
    break_height: float
    worked: timedelta
    breaks: timedelta
    weekend: bool


@dataclass(frozen=True, slots=True)
class Tick:
    y: float
    hours: int


@dataclass(frozen=True, slots=True)
class Bars:
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    #: Print every n-th day's number under the bars (a month's are too many).
    label_every: int
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    base: int = HEIGHT - BOTTOM


def _hours(span: timedelta) -> float:
    return span.total_seconds() / 3600


def bars(by_date: dict[date, Totals]) -> Bars:
    dates = sorted(by_date)
    tallest = max((_hours(t.worked + t.breaks) for t in by_date.values()), default=0.0)
    top = max(8, math.ceil(tallest))
    step = 2 if top <= 12 else math.ceil(top / 6)
    top = math.ceil(top / step) * step
    plot = HEIGHT - BOTTOM - TOP
    base = HEIGHT - BOTTOM

    def y(hours: float) -> float:
        return round(base - hours / top * plot, 2)

    slot = (WIDTH - LEFT) / max(len(dates), 1)
    width = round(slot * 0.72, 2)
    drawn = []
    for i, day in enumerate(dates):
        totals = by_date[day]
        worked, breaks = _hours(totals.worked), _hours(totals.breaks)
        work_y = y(worked)
        break_y = y(worked + breaks)
        drawn.append(
            Bar(
                day,
                round(LEFT + i * slot + (slot - width) / 2, 2),
                width,
                work_y,
                round(base - work_y, 2),
                break_y,
                round(work_y - break_y, 2),
                totals.worked,
                totals.breaks,
                day.weekday() >= 5,
            )
        )
    ticks = tuple(Tick(y(h), h) for h in range(0, top + 1, step))
    return Bars(tuple(drawn), ticks, 1 if len(dates) <= 16 else 2 if len(dates) <= 31 else 7)


@dataclass(frozen=True, slots=True)
class Cell:
    day: date
    x: int
    y: int
    #: 0 for no work, 1 to 4 for more (see :data:`LEVELS`).
    level: int
    worked: timedelta
    people: int


@dataclass(frozen=True, slots=True)
class HeatMap:
    cells: tuple[Cell, ...]
    width: int
    height: int
    #: The weekday heads' x positions (Monday first).
    heads: tuple[int, ...]
    cell: int = CELL


def heat_map(by_date: dict[date, Totals]) -> HeatMap:
    """A calendar: a row per week, Monday first; each day shaded by the hours its
    people worked."""
    dates = sorted(by_date)
    if not dates:
        return HeatMap((), 0, 0, ())
    monday = dates[0] - timedelta(days=dates[0].weekday())
    top = 16  # room for the weekday heads
    cells = []
    for day in dates:
        week, weekday = divmod((day - monday).days, 7)
        totals = by_date[day]
        x, y = weekday * (CELL + GAP), top + week * (CELL + GAP)
        cells.append(Cell(day, x, y, _level(totals), totals.worked, len(totals.people)))
    weeks = (dates[-1] - monday).days // 7 + 1
    heads = tuple(i * (CELL + GAP) + CELL // 2 for i in range(7))
    return HeatMap(tuple(cells), 7 * (CELL + GAP) - GAP, top + weeks * (CELL + GAP) - GAP, heads)


def _level(totals: Totals) -> int:
    if not totals.people or totals.worked <= timedelta(0):
        return 0
    each = _hours(totals.worked) / len(totals.people)
    return 1 + sum(each >= bound for bound in LEVELS)
