"""The deadlines calendar of one organisation: the running, suspended and overdue deadlines of
one month, grouped per week (Monday to Sunday) and per day. Only that month's rows are read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import func
from sqlmodel import Session, col, select

from app import views
from app.service import Service
from engine.clock import local_today
from engine.errors import InvalidInput
from engine.terms import FUTURE_YEARS
from notifications.formatting import MONTHS
from storage.tables import ACTIVE_DEADLINE, DeadlineRow, Trajectory

MONTH = re.compile(r"^(\d{4})-(\d{2})$", re.ASCII)
#: How far back a month may be asked for.
PAST_YEARS = 20
#: A month shows at most this many deadlines (and says so when there are more).
MAX_ROWS = 500
BAD_MONTH = "Kies een maand zoals 2026-04 (jaar, streepje, maand)."


@dataclass(frozen=True)
class Month:
    first: date

    @property
    def key(self) -> str:
        return f"{self.first.year:04d}-{self.first.month:02d}"

    @property
    def label(self) -> str:
        """'april 2026'."""
        return f"{MONTHS[self.first.month - 1]} {self.first.year}"

    @property
    def last(self) -> date:
        return self.first + relativedelta(months=1) - timedelta(days=1)

    @property
    def previous(self) -> Month:
        return Month(self.first - relativedelta(months=1))

    @property
    def next(self) -> Month:
        return Month(self.first + relativedelta(months=1))


def earliest(today: date) -> date:
    return date(max(today.year - PAST_YEARS, 1), 1, 1)


def latest(today: date) -> date:
    return date(min(today.year + FUTURE_YEARS, 9999), 12, 1)


def parse_month(value: str | None, today: date) -> Month:
    """'2026-04' (or nothing: this month); anything else, or a month too far away, is refused."""
    if not value:
        return Month(today.replace(day=1))
    found = MONTH.match(value.strip())
    if not found or not 1 <= int(found.group(2)) <= 12 or int(found.group(1)) < 1:
        raise InvalidInput(BAD_MONTH)
    first = date(int(found.group(1)), int(found.group(2)), 1)
    if not earliest(today) <= first <= latest(today):
        raise InvalidInput(f"Kies een maand tussen {earliest(today).year} en "
                           f"{latest(today).year}.")
    return Month(first)


@dataclass
class Day:
    day: date
    deadlines: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Week:
    number: int
    monday: date
    sunday: date
    days: list[Day] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(len(d.deadlines) for d in self.days)


@dataclass
class MonthCalendar:
    month: Month
    weeks: list[Week]
    count: int
    more: bool  # more than MAX_ROWS: not all are shown
    has_previous: bool
    has_next: bool
    overdue_before: int  # overdue deadlines of earlier months (shown on this month's page)
    today: date


def month_calendar(service: Service, org_id: int, month: Month) -> MonthCalendar:
    today = local_today(service.clock)
    with Session(service.engine) as session:
        found = session.exec(_active(org_id).where(DeadlineRow.due >= month.first,
                                                   DeadlineRow.due <= month.last)
                             .order_by(col(DeadlineRow.due), col(DeadlineRow.id))
                             .limit(MAX_ROWS + 1)).all()
        before = session.exec(select(func.count()).select_from(
            _active(org_id).where(DeadlineRow.due < min(month.first, today),
                                  col(DeadlineRow.status).in_(("running", "overdue")))
            .subquery())).one()
    rows = [{**views.deadline(row, today), "title": title} for row, title in found[:MAX_ROWS]]
    return MonthCalendar(month, _weeks(rows), len(rows), len(found) > MAX_ROWS,
                         month.previous.first >= earliest(today), month.next.first <= latest(today),
                         before, today)


def _active(org_id: int) -> Any:
    return (select(DeadlineRow, Trajectory.title)
            .where(DeadlineRow.trajectory_id == Trajectory.id,
                   DeadlineRow.organisation_id == org_id,
                   col(DeadlineRow.status).in_(ACTIVE_DEADLINE)))


def _weeks(rows: list[dict[str, Any]]) -> list[Week]:
    weeks: dict[date, Week] = {}
    for row in rows:
        due = date.fromisoformat(row["due"])
        monday = due - timedelta(days=due.weekday())
        week = weeks.setdefault(monday, Week(due.isocalendar().week, monday,
                                             monday + timedelta(days=6)))
        if not week.days or week.days[-1].day != due:
            week.days.append(Day(due))
        week.days[-1].deadlines.append(row)
    return list(weeks.values())
