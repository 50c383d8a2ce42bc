"""The secretariat's overview of one organisation: trajectories per state, what is due this week,
what is overdue, filtered and paginated in the database (never every row in memory).

SQL Core throughout (as app/reports.py), a fixed number of statements a page, each read through
the organisation's trajectories (the index on organisation_id), so that a page costs what the
organisation holds, not what the country holds:

- the page's trajectories (filters, ORDER BY id DESC, LIMIT, OFFSET), then the running
  deadlines of those 25 in one statement (the index (trajectory_id, status, due)), of which
  each row shows the soonest;
- the deadlines of this week and the overdue ones (running or overdue, their day passed):
  one read per status in (due, id) order through the index (organisation_id, status, due),
  each deadline naming its organisation (migration 0008), each at most MAX_DEADLINES long, then
  merged. Read through the organisation's trajectories instead, PostgreSQL took the whole
  country's deadlines of the week and kept the organisation's; with one read for all statuses,
  it sorted all of the organisation's, often in a parallel plan whose start cost more than
  the read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, Select, Table, and_, func, select, union_all
from sqlalchemy.sql.elements import ColumnElement

from app import views
from app.service import Service
from engine.clock import local_today
from storage.tables import ACTIVE_DEADLINE, DeadlineRow, Trajectory

PAGE_SIZE = 25
MAX_SEARCH = 200
#: Deadlines shown at most in "this week" and in "overdue".
MAX_DEADLINES = 50
#: A deadline in these states whose day has passed is shown as overdue (views.shown_status).
OVERDUE = ("running", "overdue")

trajectory_table: Table = Trajectory.__table__  # type: ignore[attr-defined]
deadline_table: Table = DeadlineRow.__table__  # type: ignore[attr-defined]
DEADLINE_COLUMNS = tuple(deadline_table.c[name] for name in (
    "id", "trajectory_id", "name", "label", "due", "status", "explanation", "steps_done"))


@dataclass(frozen=True)
class Filters:
    flow: str | None = None
    state: str | None = None
    search: str | None = None
    page: int = 1


@dataclass
class Overview:
    rows: list[dict[str, Any]]
    total: int
    page: int
    pages: int
    per_state: list[dict[str, Any]] = field(default_factory=list)
    this_week: list[dict[str, Any]] = field(default_factory=list)
    overdue: list[dict[str, Any]] = field(default_factory=list)


def overview(service: Service, org_id: int, filters: Filters) -> Overview:
    today = local_today(service.clock)
    with service.engine.connect() as conn:
        where = _filtered(org_id, filters)
        total = int(conn.execute(select(func.count()).select_from(trajectory_table)
                                 .where(*where)).scalar_one())
        pages = max(1, -(-total // PAGE_SIZE))
        page = min(max(1, filters.page), pages)
        rows = _page(service, conn, where, page, today)
        return Overview(rows, total, page, pages, _per_state(service, conn, org_id),
                        _deadlines(conn, org_id, _this_week(today), today),
                        _deadlines(conn, org_id, _overdue(today), today))


def _filtered(org_id: int, filters: Filters) -> list[ColumnElement[bool]]:
    t = trajectory_table.c
    where = [t.organisation_id == org_id]
    if filters.flow:
        where.append(t.flow == filters.flow)
    if filters.state:
        where.append(t.state == filters.state)
    if filters.search:
        where.append(func.lower(t.title).contains(filters.search.strip()[:MAX_SEARCH].lower(),
                                                  autoescape=True))
    return where


def _page(service: Service, conn: Connection, where: list[ColumnElement[bool]], page: int,
          today: date) -> list[dict[str, Any]]:
    """The page's trajectories, newest first, each with its soonest running deadline."""
    t = trajectory_table.c
    found: Sequence[Any] = conn.execute(
        select(t.id, t.flow, t.flow_version, t.state, t.title, t.version, t.data).where(*where)
        .order_by(t.id.desc()).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
    soonest = _soonest_deadlines(conn, [row.id for row in found])
    rows = []
    for row in found:
        summary = views.summary(row, service.shown_with(row), today)
        due = soonest.get(row.id)
        summary["next_due"] = views.deadline(due, today) if due is not None else None
        rows.append(summary)
    return rows


def _soonest_deadlines(conn: Connection, trajectory_ids: list[int]) -> dict[int, Any]:
    """Per trajectory, its running deadline that ends first (then the oldest)."""
    d = deadline_table.c
    found: dict[int, Any] = {}
    if not trajectory_ids:
        return found
    for row in conn.execute(select(*DEADLINE_COLUMNS)
                            .where(d.trajectory_id.in_(trajectory_ids), d.status.in_(ACTIVE_DEADLINE))
                            .order_by(d.trajectory_id, d.due, d.id)):
        found.setdefault(row.trajectory_id, row)
    return found


def _per_state(service: Service, conn: Connection, org_id: int) -> list[dict[str, Any]]:
    t = trajectory_table.c
    counted = conn.execute(select(t.flow, t.state, func.count()).where(t.organisation_id == org_id)
                           .group_by(t.flow, t.state).order_by(t.flow, t.state)).all()
    return [{"flow": flow, "flow_title": service.flow(flow).flow.title, "state": state,
             "state_label": service.flow(flow).flow.state(state).label, "count": count}
            for flow, state, count in counted]


#: Which deadlines a list shows: their statuses, and the condition on their day.
Which = tuple[tuple[str, ...], ColumnElement[bool]]


def _this_week(today: date) -> Which:
    d = deadline_table.c
    return ACTIVE_DEADLINE, and_(d.due >= today, d.due <= today + timedelta(days=6))


def _overdue(today: date) -> Which:
    """What views.shown_status calls overdue, of which the day has passed."""
    return OVERDUE, deadline_table.c.due < today


def _deadlines(conn: Connection, org_id: int, which: Which, today: date) -> list[dict[str, Any]]:
    """The organisation's first MAX_DEADLINES deadlines of `which`, soonest first."""
    found: Sequence[Any] = conn.execute(_deadlines_of(org_id, which)).all()
    return [{**views.deadline(row, today), "title": row.title} for row in found]


def _deadlines_of(org_id: int, which: Which) -> Select[Any]:
    """The merge of one read per status in (due, id) order through the index (organisation_id,
    status, due), each at most MAX_DEADLINES ids long; only the first MAX_DEADLINES are read in
    full (as app.reports reads every organisation's)."""
    d, t = deadline_table.c, trajectory_table.c
    statuses, day = which
    arms = [select(select(d.id, d.due).where(d.organisation_id == org_id, d.status == status, day)
                   .order_by(d.due, d.id).limit(MAX_DEADLINES).subquery()) for status in statuses]
    merged = union_all(*arms).subquery()
    first = select(merged.c.id).order_by(merged.c.due, merged.c.id).limit(MAX_DEADLINES)
    return (select(*DEADLINE_COLUMNS, t.title).join(trajectory_table, t.id == d.trajectory_id)
            .where(d.id.in_(first)).order_by(d.due, d.id))
