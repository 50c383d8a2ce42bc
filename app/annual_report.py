"""The annual report (jaarverslag, seeds 002 and 004): every trajectory an organisation worked
on in a year, how each term went, how long the college took to respond, and totals per flow.

Read with SQL Core in a few statements (the organisation, its trajectories, their closing days,
their publications, their deadlines), never one query per trajectory. The figures are as they
stand on the day the report is made (`made_on`): a term still open past its end counts as
missed up to that day.

How a term went (DESIGN.md §3, "a term met after its end is recorded as met late"):
- met: status `met`; met late: status `met_late`, late by the working days after its end up
  to and including the day it was met (`closed_on`);
- missed: status `expired`, a term cancelled after its end had passed (the trajectory stopped
  with the term unmet), or a term still open whose end lies before `made_on`; missed by the
  working days after its end up to the closing, or up to `made_on` when still open;
- running (or suspended) while its end has not passed; cancelled before its end: vervallen.
Working days skip weekends and the feestdagen of the Algemene termijnenwet (engine.atw_calendar).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Table, bindparam, select

from app.period import Period, Span, history_table, local_day, organisation_row, spans
from engine.atw_calendar import AtwCalendar, default_calendar
from engine.dsl import Words
from engine.machine import CompiledFlow
from storage.tables import DeadlineRow

deadline_table: Table = DeadlineRow.__table__  # type: ignore[attr-defined]

ADVICE_TERM, RESPONSE_TERM = "advice_due", "response_due"

OUTCOMES = {
    "met": "gehaald",
    "met_late": "te laat gehaald",
    "missed": "niet gehaald",
    "running": "loopt",
    "suspended": "opgeschort",
    "cancelled": "vervallen",
}


@dataclass(frozen=True)
class TermLine:
    name: str
    label: str
    due: date
    outcome: str  # a key of OUTCOMES
    outcome_label: str
    working_days_late: int | None  # met late or missed: by this many working days
    closed_on: date | None


@dataclass(frozen=True)
class TrajectoryLine:
    id: int
    flow: str
    flow_label: str
    title: str
    state_label: str
    requested_on: date
    advice_sent_on: date | None
    response_received_on: date | None
    closed_on: date | None
    response_working_days: int | None
    response_calendar_days: int | None
    published: bool
    published_on: date | None
    terms: list[TermLine]


@dataclass
class FlowTotals:
    flow: str
    flow_label: str
    count: int = 0
    advice: dict[str, int] = field(default_factory=lambda: {"met": 0, "met_late": 0, "missed": 0})
    response: dict[str, int] = field(default_factory=lambda: {"met": 0, "met_late": 0, "missed": 0})
    response_working_days: list[int] = field(default_factory=list)
    response_calendar_days: list[int] = field(default_factory=list)

    @property
    def average_working_days(self) -> float | None:
        return _average(self.response_working_days)

    @property
    def average_calendar_days(self) -> float | None:
        return _average(self.response_calendar_days)

    @property
    def longest_working_days(self) -> int | None:
        return max(self.response_working_days, default=None)

    @property
    def longest_calendar_days(self) -> int | None:
        return max(self.response_calendar_days, default=None)

    @property
    def responses(self) -> int:
        return len(self.response_working_days)


@dataclass(frozen=True)
class AnnualReport:
    organisation: str
    slug: str
    words: Words
    year: int
    made_on: date
    trajectories: list[TrajectoryLine]
    totals: list[FlowTotals]

    def as_json(self) -> dict[str, Any]:
        return {
            "organisation": self.organisation, "slug": self.slug, "year": self.year,
            "made_on": self.made_on.isoformat(),
            "trajectories": [_jsonable(asdict(t)) for t in self.trajectories],
            "totals": [_totals_json(t) for t in self.totals],
        }


def annual_report(engine: Engine, flows: dict[str, CompiledFlow], slug: str, year: int,
                  today: date) -> AnnualReport:
    """The report of `slug` for `year`, as it stands on `today`."""
    period = Period.year(year, today)
    with engine.connect() as conn:
        org = organisation_row(conn, slug)
        ran = spans(conn, org.id, period, flows)
        ids = [s.id for s in ran]
        published = _publication_days(conn, ids)
        deadlines = _deadlines(conn, ids)
    calendar = default_calendar()
    lines = [_line(s, flows, deadlines.get(s.id, []), published.get(s.id), today, calendar)
             for s in ran]
    return AnnualReport(org.name, org.slug, Words(**(org.words or {})), year, today, lines,
                        _totals(lines))


def _publication_days(conn: Connection, ids: list[int]) -> dict[int, date]:
    if not ids:
        return {}
    h = history_table
    rows = conn.execute(select(h.c.trajectory_id, h.c.at)
                        .where(h.c.trajectory_id.in_(bindparam("ids", expanding=True)),
                               h.c.event == "publish").order_by(h.c.at), {"ids": ids}).all()
    found: dict[int, date] = {}
    for row in rows:
        found.setdefault(row.trajectory_id, local_day(row.at))
    return found


def _deadlines(conn: Connection, ids: list[int]) -> dict[int, list[Any]]:
    if not ids:
        return {}
    d = deadline_table
    rows = conn.execute(select(d.c.trajectory_id, d.c.name, d.c.label, d.c.due, d.c.status,
                               d.c.closed_on)
                        .where(d.c.trajectory_id.in_(bindparam("ids", expanding=True)))
                        .order_by(d.c.trajectory_id, d.c.id), {"ids": ids}).all()
    found: dict[int, list[Any]] = {}
    for row in rows:
        found.setdefault(row.trajectory_id, []).append(row)
    return found


def _line(span: Span, flows: dict[str, CompiledFlow], deadlines: list[Any],
          published_on: date | None, today: date, calendar: AtwCalendar) -> TrajectoryLine:
    compiled = flows.get(span.flow)
    sent = _day(span.data.get("advice_sent_on"))
    answered = _day(span.data.get("response_received_on"))
    working, calendar_days = _response_days(sent, answered, calendar)
    return TrajectoryLine(
        id=span.id, flow=span.flow, flow_label=compiled.flow.title if compiled else span.flow,
        title=span.title, state_label=_state_label(compiled, span.state),
        requested_on=span.began, advice_sent_on=sent, response_received_on=answered,
        closed_on=span.closed,
        response_working_days=working, response_calendar_days=calendar_days,
        published=published_on is not None or bool(span.data.get("published_url")),
        published_on=published_on,
        terms=[term_line(row, today, calendar) for row in deadlines],
    )


def _response_days(sent: date | None, answered: date | None,
                   calendar: AtwCalendar) -> tuple[int | None, int | None]:
    """The college's response time in working days and in calendar days, after the advice."""
    if sent is None or answered is None:
        return None, None
    return working_days_after(sent, answered, calendar), (answered - sent).days


def _state_label(compiled: CompiledFlow | None, state: str) -> str:
    try:
        return compiled.flow.state(state).label if compiled else state
    except KeyError:
        return state


def term_line(row: Any, today: date, calendar: AtwCalendar) -> TermLine:
    """How one deadline went, and by how many working days it was late or missed."""
    outcome, until = _outcome(row.status, row.due, row.closed_on, today)
    late = working_days_after(row.due, until, calendar) if until is not None else None
    return TermLine(row.name, row.label, row.due, outcome, OUTCOMES[outcome], late, row.closed_on)


def _outcome(status: str, due: date, closed_on: date | None, today: date) -> tuple[str, date | None]:
    """The outcome and the day up to which lateness counts (None: not late)."""
    if status == "met":
        return "met", None
    if status == "met_late":
        return "met_late", closed_on or due
    if status == "expired":
        return "missed", closed_on or today
    if status == "cancelled":
        return ("missed", closed_on) if closed_on and closed_on > due else ("cancelled", None)
    if status == "suspended":
        return "suspended", None
    return ("missed", today) if due < today else ("running", None)


def working_days_after(start: date, end: date, calendar: AtwCalendar) -> int:
    """The working days after `start` up to and including `end` (0 when `end` is not later)."""
    count, day = 0, start + timedelta(days=1)
    while day <= end:
        count += calendar.is_working_day(day)
        day += timedelta(days=1)
    return count


def _totals(lines: Iterable[TrajectoryLine]) -> list[FlowTotals]:
    found: dict[str, FlowTotals] = {}
    for line in lines:
        totals = found.setdefault(line.flow, FlowTotals(line.flow, line.flow_label))
        totals.count += 1
        for term in line.terms:
            counted = {ADVICE_TERM: totals.advice, RESPONSE_TERM: totals.response}.get(term.name)
            if counted is not None and term.outcome in counted:
                counted[term.outcome] += 1
        if line.response_working_days is not None and line.response_calendar_days is not None:
            totals.response_working_days.append(line.response_working_days)
            totals.response_calendar_days.append(line.response_calendar_days)
    return sorted(found.values(), key=lambda t: t.flow_label)


def _average(values: list[int]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) and value else None
    except ValueError:
        return None


def _totals_json(totals: FlowTotals) -> dict[str, Any]:
    return {"flow": totals.flow, "flow_label": totals.flow_label, "count": totals.count,
            "advice_terms": totals.advice, "response_terms": totals.response,
            "responses": totals.responses,
            "response_working_days": {"average": totals.average_working_days,
                                      "longest": totals.longest_working_days},
            "response_calendar_days": {"average": totals.average_calendar_days,
                                       "longest": totals.longest_calendar_days}}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value.isoformat() if isinstance(value, date) else value
