"""A period of the secretariat's accounts (a calendar year, or from one day to another), and the
trajectories of an organisation that ran in it: read with SQL Core, a few statements in all.

A trajectory *ran in* a period when it began on or before the period's last day (its request's
`received_on`, else the day it was started here) and was not closed before the period's first
day (closed: the day it reached a final state of its flow; a trajectory still open runs on).
So a trajectory of the year before that closed in the year is in the year, and so is one that
ran through it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import Connection, Table, and_, func, not_, or_, select

from engine.clock import AMSTERDAM
from engine.errors import InvalidInput, NotFound
from engine.machine import CompiledFlow
from storage.tables import HistoryEntry, Organisation, Trajectory, as_utc

trajectory_table: Table = Trajectory.__table__  # type: ignore[attr-defined]
history_table: Table = HistoryEntry.__table__  # type: ignore[attr-defined]
organisation_table: Table = Organisation.__table__  # type: ignore[attr-defined]

#: The first year a report covers; the last is next year (a planning may look ahead).
FIRST_YEAR = 2000


@dataclass(frozen=True)
class Period:
    first: date
    last: date

    @classmethod
    def year(cls, year: int, today: date) -> Period:
        check_year(year, today)
        return cls(date(year, 1, 1), date(year, 12, 31))

    @classmethod
    def between(cls, first: date, last: date) -> Period:
        if first > last:
            raise InvalidInput(f"De begindatum ({first.isoformat()}) ligt na de einddatum "
                               f"({last.isoformat()}): kies een begin dat eerder is dan het eind.")
        return cls(first, last)

    def holds(self, began: date, closed: date | None) -> bool:
        """Whether something that began on `began` and closed on `closed` ran in the period."""
        return began <= self.last and (closed is None or closed >= self.first)

    def contains(self, day: date) -> bool:
        return self.first <= day <= self.last


def check_year(year: int, today: date) -> None:
    if not FIRST_YEAR <= year <= today.year + 1:
        raise InvalidInput(f"Het jaar moet een jaartal van vier cijfers zijn, van {FIRST_YEAR} "
                           f"tot en met {today.year + 1}.")


@dataclass(frozen=True)
class Span:
    """One trajectory as a report needs it: what it is and when it began and closed."""

    id: int
    flow: str
    title: str
    state: str
    data: dict[str, Any]
    began: date
    closed: date | None


def organisation_row(conn: Connection, slug: str) -> Any:
    found = conn.execute(select(organisation_table).where(organisation_table.c.slug == slug)).first()
    if found is None:
        raise NotFound(f"Organisatie '{slug}' bestaat niet. Kijk of de naam (slug) klopt.")
    return found


def local_day(moment: datetime) -> date:
    return as_utc(moment).astimezone(AMSTERDAM).date()


def spans(conn: Connection, org_id: int, period: Period,
          flows: dict[str, CompiledFlow]) -> list[Span]:
    """The organisation's trajectories that ran in `period`, in id order (two statements)."""
    finals = sorted({name for f in flows.values() for name in f.flow.final_states})
    t = trajectory_table
    period_start = datetime.combine(period.first, time.min, AMSTERDAM).astimezone(UTC)
    # a trajectory that reached a final state and did not change since before the period did
    # not run in it: skipped in the database (the rest is decided below, day by day)
    rows = conn.execute(select(t.c.id, t.c.flow, t.c.title, t.c.state, t.c.data, t.c.created_at)
                        .where(t.c.organisation_id == org_id,
                               not_(and_(t.c.state.in_(finals), t.c.updated_at < period_start)))
                        .order_by(t.c.id)).all()
    closings = _closing_days(conn, org_id, finals)
    found = []
    for row in rows:
        final = row.flow in flows and row.state in flows[row.flow].flow.final_states
        closed = closings.get(row.id) if final else None
        began = began_on(row.data or {}, local_day(row.created_at))
        if period.holds(began, closed):
            found.append(Span(row.id, row.flow, row.title, row.state, dict(row.data or {}), began,
                              closed))
    return found


def began_on(data: dict[str, Any], created: date) -> date:
    """The day the request came in (`received_on`), or else the day it was started here."""
    text = data.get("received_on")
    try:
        return date.fromisoformat(text) if isinstance(text, str) else created
    except ValueError:
        return created


def _closing_days(conn: Connection, org_id: int, finals: Sequence[str]) -> dict[int, date]:
    """The day each closed trajectory entered the final state it is in."""
    t, h = trajectory_table, history_table
    rows = conn.execute(
        select(h.c.trajectory_id, func.max(h.c.at).label("at"))
        .join(t, t.c.id == h.c.trajectory_id)
        .where(t.c.organisation_id == org_id, t.c.state.in_(finals), h.c.to_state == t.c.state,
               or_(h.c.from_state.is_(None), h.c.from_state != h.c.to_state))
        .group_by(h.c.trajectory_id)).all()
    return {row.trajectory_id: local_day(row.at) for row in rows}
