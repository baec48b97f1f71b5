"""The programme's statistics at ``/admin/statistics``: figures "now" and per month, each
plugin contributing its own (hook ``register_statistics``); core counts only its members.

A month is a month of the programme's calendar (``DEFAULT_TIMEZONE``): a member who registers
at 23:30 on 31 January in Berlin registered in January, though it is February in UTC. So
months are not cut with a database's date functions (SQLite has no time zones, PostgreSQL's
differ): :class:`Months` turns them into UTC instants, and one ``CASE`` over the timestamp
numbers the month of each row, which ``GROUP BY`` counts alike on both databases.
"""

from __future__ import annotations

import csv
import io
import statistics
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from babel import dates
from flask import current_app
from flask_babel import get_locale
from sqlalchemy import ColumnElement, and_, case, func, literal, select

from core.contributions import Statistic
from core.db import db, utcnow
from core.models import User

MONTH_CHOICES = (6, 12, 24)
DEFAULT_MONTHS = 12


@dataclass(frozen=True)
class Months:
    """Consecutive months of the programme's calendar: ``firsts`` their first days, and
    ``bounds`` the UTC instants they start at, with the end of the last (one more)."""

    firsts: tuple[date, ...]
    bounds: tuple[datetime, ...]

    @property
    def start(self) -> datetime:
        return self.bounds[0]

    @property
    def end(self) -> datetime:
        return self.bounds[-1]

    def __len__(self) -> int:
        return len(self.firsts)

    def within(self, column: Any) -> ColumnElement[bool]:
        """``column`` (a UTC timestamp) falls in one of the months."""
        return and_(column >= self.start, column < self.end)

    def number(self, column: Any) -> ColumnElement[int]:
        """The index of the month ``column`` falls in (0: the first), as SQL, for rows
        :meth:`within` the months: group by it."""
        if len(self.firsts) == 1:
            return literal(0)
        return case(
            *((column < bound, index) for index, bound in enumerate(self.bounds[1:-1])),
            else_=len(self.firsts) - 1,
        )

    def index_of(self, moment: datetime) -> int | None:
        """The index of the month ``moment`` falls in, or None outside them."""
        index = bisect_right(self.bounds, moment) - 1
        return index if 0 <= index < len(self.firsts) else None


def programme_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["DEFAULT_TIMEZONE"])


def months_until(last: date, count: int, zone: ZoneInfo) -> Months:
    """The ``count`` months ending with the month of ``last``, in ``zone``."""
    this = date(last.year, last.month, 1)
    firsts = [_month_after(this, -back) for back in range(count - 1, -1, -1)]
    following = _month_after(this, 1)
    bounds = [
        datetime.combine(first, time.min, tzinfo=zone).astimezone(UTC)
        for first in (*firsts, following)
    ]
    return Months(tuple(firsts), tuple(bounds))


def _month_after(first: date, months: int) -> date:
    """The first day of the month ``months`` after (or before) the month of ``first``."""
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def recent_months(count: int = DEFAULT_MONTHS) -> Months:
    """The last ``count`` months of the programme's calendar, this one included."""
    zone = programme_zone()
    return months_until(utcnow().astimezone(zone).date(), count, zone)


def count_per_month(months: Months, column: Any, *where: Any) -> list[int]:
    """How many rows have the timestamp ``column`` in each month (and meet ``where``): one
    ``GROUP BY`` query."""
    number = months.number(column).label("month")
    rows = db.session.execute(
        select(number, func.count()).where(months.within(column), *where).group_by(number)
    )
    counts = [0] * len(months)
    for index, count in rows:
        counts[index] = count
    return counts


def median_days_per_month(months: Months, start: Any, end: Any, *where: Any) -> list[float | None]:
    """Per month of ``end``, the median of the days from ``start`` to ``end`` (None: no row).
    Reads two timestamps per row of the months only."""
    spans: list[list[float]] = [[] for _ in months.firsts]
    rows = db.session.execute(
        select(start, end).where(months.within(end), start.is_not(None), *where)
    )
    for began, ended in rows:
        index = months.index_of(ended)
        if index is not None:
            spans[index].append((ended - began).total_seconds() / 86400)
    return [round(statistics.median(days), 1) if days else None for days in spans]


# ---- core's own figures ------------------------------------------------------------------


def _count_members() -> int:
    """Current members: confirmed accounts, neither suspended nor deactivated (which leaves
    out those awaiting deletion and the erased ones too)."""
    return db.session.execute(
        select(func.count())
        .select_from(User)
        .where(User.email_confirmed_at.is_not(None), User.is_listed)
    ).scalar_one()


def _registrations(months: Months) -> list[int]:
    return count_per_month(months, User.created_at)


def core_statistics() -> list[Statistic]:
    from flask_babel import lazy_gettext as _l

    return [
        Statistic("members", _l("Current members"), now=_count_members, order=10),
        Statistic("registrations", _l("Registrations"), per_month=_registrations, order=10),
    ]


# ---- the page and its CSV ----------------------------------------------------------------


@dataclass(frozen=True)
class Series:
    statistic: Statistic
    values: list[float | None]

    @property
    def peak(self) -> float:
        return max((value for value in self.values if value is not None), default=0)


@dataclass(frozen=True)
class Report:
    now: list[tuple[Statistic, int]]
    months: Months
    series: list[Series]
    # the months' short names ("Jan"), each named once for every chart (Babel is not quick)
    short_names: list[str]

    def month_labels(self) -> list[str]:
        """The table's column heads: "Jan 2026" for the first month and each January, "Feb"
        for the others (twelve months fit a desktop's width)."""
        return [
            f"{name} {first.year}" if index == 0 or first.month == 1 else name
            for index, (first, name) in enumerate(
                zip(self.months.firsts, self.short_names, strict=True)
            )
        ]


def report(contributed: Sequence[Statistic], months: Months) -> Report:
    """Every figure, computed now: the counts, and the series over ``months``."""
    ordered = sorted(contributed, key=lambda statistic: statistic.order)
    return Report(
        now=[(stat, stat.now()) for stat in ordered if stat.now is not None],
        months=months,
        series=[
            Series(stat, list(stat.per_month(months)))
            for stat in ordered
            if stat.per_month is not None
        ],
        short_names=[month_name(first, "LLL") for first in months.firsts],
    )


def report_csv(shown: Report) -> str:
    """The per-month table: a row per month (``2026-01``), a column per series, by name."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["month", *(series.statistic.name for series in shown.series)])
    for index, first in enumerate(shown.months.firsts):
        cells = [_cell(series.values[index]) for series in shown.series]
        writer.writerow([f"{first:%Y-%m}", *cells])
    return out.getvalue()


def month_name(first: date, pattern: str) -> str:
    """A month as the reader's language names it (``pattern``: Babel's, "LLL" for "Jan")."""
    locale = get_locale() or current_app.config["LANGUAGES"][0]
    return dates.format_date(first, pattern, locale=locale)


def _cell(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


# ---- charts, drawn on the server as SVG (no script: the CSP allows none inline) ----------

CHART_WIDTH, CHART_HEIGHT = 360, 150
CHART_TOP, CHART_BOTTOM = 16, 20  # room for the values above, the months below


@dataclass(frozen=True)
class ChartBox:
    """What a template needs to draw the charts: the box, and each series' bars."""

    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT
    bottom: int = CHART_BOTTOM

    @staticmethod
    def bars(series: Series, names: Sequence[str]) -> list[Bar]:
        return chart_bars(series, names)


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: str
    month: str


def chart_bars(series: Series, names: Sequence[str]) -> list[Bar]:
    """The bars of ``series``' chart, in a box of CHART_WIDTH by CHART_HEIGHT, under the
    months' ``names``: the tallest bar as tall as the box allows, a month without a value as
    no bar."""
    slot = CHART_WIDTH / len(names)
    room = CHART_HEIGHT - CHART_TOP - CHART_BOTTOM
    peak = series.peak or 1
    bars = []
    for index, (name, value) in enumerate(zip(names, series.values, strict=True)):
        height = 0.0 if value is None else round(room * float(value) / peak, 1)
        bars.append(
            Bar(
                x=round(index * slot + slot * 0.15, 1),
                y=round(CHART_TOP + room - height, 1),
                width=round(slot * 0.7, 1),
                height=height,
                value="" if value is None else _cell(value),
                month=name,
            )
        )
    return bars
