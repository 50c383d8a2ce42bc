"""The lists the secretariat and the liaison look at: trajectories and running deadlines, one
page at a time, filtered, ordered and counted in the database (SQL Core, never every row as an
ORM object), so that a page costs the same with a hundred trajectories or a hundred thousand.

- Trajectories in id order. The page's ids are chosen first (filters, ORDER BY id, LIMIT,
  OFFSET); only for those does the database compute the next running deadline (a correlated
  MIN, from the index (trajectory_id, status, due) alone) and whether a term has passed
  (PostgreSQL would otherwise compute them for every row an offset skips). `overdue` filters
  in the database on the rule of `views.shown_status`: status overdue, or running with its
  day before today.
- Running, suspended and overdue deadlines in (due, id) order. SQLite, without statistics,
  reads `status IN (...)` through the index (status, due) and would sort every running
  deadline for one page; so the page's ids are the merge of one ordered read of that index
  per status, each at most `offset + limit` entries (the first page reads 3 × limit). One
  organisation's the same way, through the index (organisation_id, status, due).
- The total is one COUNT, skipped when the page itself shows where the list ends.

The lists only read: they need the engine, the clock and the flows (`Source`), not the whole
Service with its mailer, so that `advies list` starts without importing what sends mail.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, Select, Table, and_, exists, func, or_, select, union_all
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from app import directory, views
from engine.clock import Clock, local_today
from engine.errors import NotFound
from engine.machine import CompiledFlow
from flows import all_flows, flow_versions
from storage.tables import ACTIVE_DEADLINE, DeadlineRow, Organisation, Trajectory

#: Rows in a page unless asked otherwise, and at most.
DEFAULT_LIMIT = 50
MAX_LIMIT = 1000
#: The largest offset a database takes (a signed 64-bit integer).
MAX_OFFSET = 2**63 - 1

trajectory_table: Table = Trajectory.__table__  # type: ignore[attr-defined]
deadline_table: Table = DeadlineRow.__table__  # type: ignore[attr-defined]
organisation_table: Table = Organisation.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Page:
    """One page of a list: its rows, how many rows the whole list has, and where it starts."""

    rows: list[dict[str, Any]]
    total: int
    limit: int
    offset: int

    @property
    def next_offset(self) -> int | None:
        """The offset of the next page, or None when this page is the last one."""
        following = self.offset + len(self.rows)
        return following if self.rows and following < self.total else None


@dataclass(frozen=True)
class Filters:
    """Which trajectories `advies list` shows; None or False filters nothing."""

    org: str | None = None
    flow: str | None = None
    state: str | None = None
    overdue: bool = False


def passed(today: date) -> ColumnElement[bool]:
    """A deadline whose term has passed: `views.shown_status` says "overdue" (in SQL)."""
    d = deadline_table.c
    return or_(d.status == "overdue", and_(d.status == "running", d.due < today))


class Source(Protocol):
    """What the lists read from: app.service.Service is one, `Reader` the lighter one."""

    @property
    def engine(self) -> Engine: ...

    @property
    def clock(self) -> Clock: ...

    def flow(self, name: str) -> CompiledFlow: ...

    def shown_with(self, row: Any) -> CompiledFlow: ...


@dataclass
class Reader:
    """The engine, the clock and the flows, without the Service's mailer."""

    engine: Engine
    clock: Clock
    flows: dict[str, CompiledFlow] = field(default_factory=all_flows)

    def flow(self, name: str) -> CompiledFlow:
        if name not in self.flows:  # in the words of Service.flow
            raise NotFound(f"Onbekende stroom '{name}'. Bekend: {', '.join(self.flows)}.")
        return self.flows[name]

    def shown_with(self, row: Any) -> CompiledFlow:
        """The trajectory's own flow version, or the current one (as Service.shown_with)."""
        return flow_versions().get((row.flow, row.flow_version)) or self.flow(row.flow)


class Reports:
    """The lists behind `advies list` and `advies deadlines`. `limit` and `offset` are taken
    as given: the command line checks them (1 to MAX_LIMIT; 0 to MAX_OFFSET)."""

    def __init__(self, service: Source) -> None:
        self.service = service

    def trajectories(self, filters: Filters = Filters(), *, limit: int = DEFAULT_LIMIT,
                     offset: int = 0) -> Page:
        """A page of trajectories in id order, as `views.summary` with `next_due` (ISO date of
        the soonest running deadline, or None) and `overdue` (a term has passed)."""
        today = local_today(self.service.clock)
        t, d = trajectory_table.c, deadline_table.c
        with self.service.engine.connect() as conn:
            where = self._trajectory_filters(conn, filters, today)
            next_due = (select(func.min(d.due))
                        .where(d.trajectory_id == t.id, d.status.in_(ACTIVE_DEADLINE))
                        .scalar_subquery())
            overdue = exists().where(d.trajectory_id == t.id, passed(today))
            page = select(t.id).where(*where).order_by(t.id).limit(limit).offset(offset).subquery()
            query = (select(t.id, t.flow, t.flow_version, t.state, t.title, t.version, t.data,
                            next_due.label("next_due"), overdue.label("overdue"))
                     .join(page, page.c.id == t.id).order_by(t.id))
            rows = [self._summary(row, today) for row in conn.execute(query)]
            total = _total(conn, select(func.count()).select_from(trajectory_table).where(*where),
                           rows, limit, offset)
        return Page(rows, total, limit, offset)

    def _trajectory_filters(self, conn: Connection, filters: Filters,
                            today: date) -> list[ColumnElement[bool]]:
        t, d = trajectory_table.c, deadline_table.c
        where: list[ColumnElement[bool]] = []
        if filters.org:
            where.append(t.organisation_id == _org_id(conn, filters.org))
        if filters.flow:
            where.append(t.flow == self.service.flow(filters.flow).name)
        if filters.state:
            where.append(t.state == filters.state)
        if filters.overdue:  # the few passed deadlines, read through the (status, due) index
            where.append(t.id.in_(select(d.trajectory_id).where(passed(today))))
        return where

    def _summary(self, row: Any, today: date) -> dict[str, Any]:
        found = views.summary(row, self.service.shown_with(row), today)
        found["next_due"] = row.next_due.isoformat() if row.next_due else None
        found["overdue"] = bool(row.overdue)
        return found

    def deadlines(self, org: str | None = None, *, limit: int = DEFAULT_LIMIT,
                  offset: int = 0) -> Page:
        """A page of the running, suspended and overdue deadlines, soonest first (then by id),
        as `views.deadline` with the trajectory's title."""
        today = local_today(self.service.clock)
        d = deadline_table.c
        with self.service.engine.connect() as conn:
            org_id = _org_id(conn, org) if org else None
            query = _active_deadlines(limit, offset, org_id)
            rows = [_deadline(row, today) for row in conn.execute(query)]
            counted = (select(func.count()).select_from(deadline_table)
                       .where(d.status.in_(ACTIVE_DEADLINE)))
            if org_id is not None:
                counted = counted.where(d.organisation_id == org_id)
            total = _total(conn, counted, rows, limit, offset)
        return Page(rows, total, limit, offset)


DEADLINE_COLUMNS = tuple(deadline_table.c[name] for name in (
    "id", "trajectory_id", "name", "label", "due", "status", "explanation", "steps_done"))


def _active_deadlines(limit: int, offset: int, org_id: int | None) -> Select[Any]:
    """A page of every organisation's active deadlines, or of one's: the merge of one read per
    status in (due, id) order through the index (status, due), or (organisation_id, status,
    due), each at most `offset + limit` ids long; only the page's rows are read in full."""
    d, t = deadline_table.c, trajectory_table.c
    reach = min(offset + limit, MAX_OFFSET)
    theirs = [] if org_id is None else [d.organisation_id == org_id]
    arms = [select(select(d.id, d.due).where(*theirs, d.status == status).order_by(d.due, d.id)
                   .limit(reach).subquery()) for status in ACTIVE_DEADLINE]
    merged = union_all(*arms).subquery()
    page = select(merged.c.id).order_by(merged.c.due, merged.c.id).limit(limit).offset(offset)
    return (select(*DEADLINE_COLUMNS, t.title).join(trajectory_table, t.id == d.trajectory_id)
            .where(d.id.in_(page)).order_by(d.due, d.id))


def _deadline(row: Any, today: date) -> dict[str, Any]:
    """`views.deadline` of a row read with SQL Core, and the trajectory's title."""
    return {**views.deadline(row, today), "title": row.title}


def _org_id(conn: Connection, slug: str) -> int:
    """The organisation's id, by SQL Core (the ORM's first use costs a command more than the
    page); an unknown slug is refused by `directory.organisation`, in its words."""
    found = conn.execute(select(organisation_table.c.id).where(
        organisation_table.c.slug == slug)).scalar_one_or_none()
    if found is None:
        with Session(bind=conn) as session:
            directory.organisation(session, slug)  # raises NotFound
    assert found is not None
    return int(found)


def _total(conn: Connection, counted: Select[Any], rows: Sequence[object], limit: int,
           offset: int) -> int:
    """How many rows the whole list has. A page that is not full and not past the end shows it
    itself; otherwise one COUNT."""
    if len(rows) < limit and (rows or offset == 0):
        return offset + len(rows)
    return int(conn.execute(counted).scalar_one())
