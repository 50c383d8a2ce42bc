"""The SQL of the sweep: what it claims, and the statements that claim it.

A claim is one statement, `UPDATE ... WHERE id = (SELECT ... LIMIT 1) AND status = ...
RETURNING ...`, with `FOR UPDATE SKIP LOCKED` in the sub-select on PostgreSQL (SQLite has a
single writer). `id = (...)`, not `id IN (...)`: PostgreSQL may run an `IN` sub-select again
for every row it updates, and then claims more than one row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, Table, and_, bindparam, exists, or_, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from storage.tables import ACTIVE_DEADLINE, DeadlineRow, DeadlineStep, Organisation, Trajectory

RUNNING, OVERDUE, EXPIRED = "running", "overdue", "expired"
SWEPT = (RUNNING, OVERDUE)  # a suspended deadline sends nothing
PENDING, DONE, DROPPED = "pending", "done", "dropped"
STEP_KEY = ("deadline_id", "step", "for_due")

steps_table: Table = DeadlineStep.__table__  # type: ignore[attr-defined]
deadlines_table: Table = DeadlineRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class ClaimedStep:
    id: int
    deadline_id: int
    step: str


@dataclass(frozen=True)
class ClaimedExpiry:
    deadline_id: int
    trajectory_id: int
    event: str
    label: str
    due: date


def insert_ignoring(session: Session, table: Table, rows: list[dict[str, Any]],
                    keys: Sequence[str]) -> None:
    """INSERT ... ON CONFLICT (keys) DO NOTHING, on SQLite and PostgreSQL."""
    if not rows:
        return
    maker = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(maker(table).on_conflict_do_nothing(index_elements=list(keys)), rows)


class Statements:
    """The sweep's statements, built once per dialect; `today`, `now` and `skip` are parameters."""

    def __init__(self, postgres: bool) -> None:
        self.postgres = postgres
        self.mark_overdue = self._mark_overdue()
        self.drop_stale = self._drop_stale()
        self.plannable = self._plannable()
        self.planned = self._planned()
        self.claim_step = self._claim_step()
        self.claim_expiry = self._claim_expiry()

    def _locked(self, query: Select[Any], *of: Table) -> Select[Any]:
        """FOR NO KEY UPDATE SKIP LOCKED on PostgreSQL; SQLite has one writer and no row locks.

        NO KEY UPDATE, not UPDATE: it keeps other workers off the row just as well, but does not
        block the KEY SHARE lock PostgreSQL takes on a deadline when a step row that refers to it
        is inserted. With FOR UPDATE, two workers planning steps at the same moment each waited
        for a deadline the other had marked overdue: a deadlock.

        A claim compares with `id = (SELECT ... LIMIT 1)`, a scalar sub-select PostgreSQL runs
        once; `id IN (SELECT ... LIMIT 1)` may be re-run for every row of the outer scan and
        then claims more than one row.
        """
        if not self.postgres:
            return query
        return query.with_for_update(of=list(of) or None, skip_locked=True, key_share=True)

    def _drop_stale(self) -> Any:
        s, d = steps_table, deadlines_table
        gone = exists().where(d.c.id == s.c.deadline_id,
                              or_(d.c.status.not_in(ACTIVE_DEADLINE), d.c.due != s.c.for_due))
        stale = self._locked(sa_select(s.c.id).where(s.c.status == PENDING, gone))
        return (update(s).where(s.c.id.in_(stale), s.c.status == PENDING)
                .values(status=DROPPED).returning(s.c.id))

    def _mark_overdue(self) -> Any:
        d = deadlines_table
        candidates = self._locked(sa_select(d.c.id).where(
            d.c.status == RUNNING, d.c.on_expiry.is_(None), d.c.due < bindparam("today")))
        return (update(d).where(d.c.id.in_(candidates), d.c.status == RUNNING)
                .values(status=OVERDUE).returning(d.c.id))

    @staticmethod
    def _plannable() -> Any:
        d = deadlines_table
        return (sa_select(d.c.id, d.c.name, d.c.due, d.c.started_on, d.c.on_expiry,
                          col(Trajectory.flow), col(Organisation.id).label("org_id"),
                          col(Organisation.reminders))
                .join(Trajectory, col(Trajectory.id) == d.c.trajectory_id)
                .join(Organisation, col(Organisation.id) == Trajectory.organisation_id)
                .where(d.c.status.in_(SWEPT), d.c.due <= bindparam("horizon")))

    @staticmethod
    def _planned() -> Any:
        s, d = steps_table, deadlines_table
        return (sa_select(s.c.deadline_id, s.c.step, s.c.for_due).join(d, d.c.id == s.c.deadline_id)
                .where(d.c.status.in_(SWEPT), s.c.for_due == d.c.due))

    def _claim_step(self) -> Any:
        """The first due step of a running or overdue deadline, earliest first; a deadline's
        later step waits until its earlier ones are done."""
        s, d = steps_table, deadlines_table
        earlier = steps_table.alias("earlier")
        waits = exists().where(
            earlier.c.deadline_id == s.c.deadline_id, earlier.c.for_due == s.c.for_due,
            earlier.c.status == PENDING,
            or_(earlier.c.due_on < s.c.due_on, and_(earlier.c.due_on == s.c.due_on, earlier.c.id < s.c.id)))
        candidates = self._locked(
            sa_select(s.c.id).join(d, d.c.id == s.c.deadline_id)
            .where(s.c.status == PENDING, s.c.due_on <= bindparam("today"), s.c.for_due == d.c.due,
                   d.c.status.in_(SWEPT), ~waits, s.c.id.not_in(bindparam("skip", expanding=True)))
            .order_by(s.c.due_on, s.c.id).limit(1), s, d)
        return (update(s).where(s.c.id == candidates.scalar_subquery(), s.c.status == PENDING)
                .values(status=DONE, done_at=bindparam("now")).returning(s.c.id, s.c.deadline_id, s.c.step))

    def _claim_expiry(self) -> Any:
        """A running deadline with an expiry event whose day has passed and whose own due steps
        have all been sent."""
        s, d = steps_table, deadlines_table
        unsent = exists().where(s.c.deadline_id == d.c.id, s.c.status == PENDING,
                                s.c.for_due == d.c.due, s.c.due_on <= bindparam("today"))
        candidates = self._locked(
            sa_select(d.c.id).where(d.c.status == RUNNING, d.c.on_expiry.is_not(None),
                                    d.c.due < bindparam("today"), ~unsent,
                                    d.c.id.not_in(bindparam("skip", expanding=True)))
            .order_by(d.c.due, d.c.id).limit(1))
        return (update(d).where(d.c.id == candidates.scalar_subquery(), d.c.status == RUNNING)
                .values(status=EXPIRED, closed_on=bindparam("today"))
                .returning(d.c.id, d.c.trajectory_id, d.c.on_expiry, d.c.label, d.c.due))


@lru_cache(maxsize=2)
def statements(postgres: bool) -> Statements:
    return Statements(postgres)
