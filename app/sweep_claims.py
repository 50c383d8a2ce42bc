"""The SQL of the sweep: what it plans and claims, and the statements that do it.

A claim takes a batch of up to CLAIM_BATCH items (SQLITE_CLAIM_BATCH on SQLite) in one
statement, `UPDATE ... WHERE id IN (SELECT ... LIMIT n) AND status = ... RETURNING ...` (SQLite
has a single writer). On PostgreSQL the sub-select takes `FOR NO KEY UPDATE SKIP LOCKED` and is
a MATERIALIZED `WITH`: run once, so the `IN` never claims more rows than were picked and locked
(an `IN` sub-select may otherwise be run again for every row the UPDATE scans).

Planning asks the index (status, next_step_on) which deadlines have a step to plan by today;
a deadline whose day is not known yet (`next_step_on` empty: new, moved, or written before the
column existed) gets it computed when its end comes within the look-ahead, and until then
stores the first day it can have a step at all (its end minus the look-ahead), in SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, Table, and_, bindparam, exists, func, or_, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from engine.reminders import LOOKAHEAD
from storage.tables import ACTIVE_DEADLINE, DeadlineRow, DeadlineStep, Organisation, Trajectory

RUNNING, OVERDUE, EXPIRED = "running", "overdue", "expired"
SWEPT = (RUNNING, OVERDUE)  # a suspended deadline sends nothing
PENDING, DONE, DROPPED = "pending", "done", "dropped"
STEP_KEY = ("deadline_id", "step", "for_due")
#: Items claimed, handled and committed together: one commit for many, not one for each. On
#: PostgreSQL the batch is also what workers share: small enough that two workers split a
#: sweep of a few hundred evenly.
CLAIM_BATCH = 20
#: SQLite has one writer, so nothing is shared: a bigger batch costs fewer claims and commits
#: (and keeps other writers waiting some 100 ms at most, within their busy timeout).
SQLITE_CLAIM_BATCH = 100
#: Deadlines planned per transaction: a worker holds few at a time, and the memory of a first
#: pass over many deadlines stays small. On SQLite a chunk keeps other writers waiting (some
#: 20 ms for 100). On PostgreSQL, where nobody waits for the chunk (other workers skip its rows),
#: a chunk is bigger: each chunk's query walks past the index entries of the deadlines planned
#: before it (not yet vacuumed). A first pass over 100,000 pending deadlines took 8.1 s with
#: chunks of 100, 2.4 s of it in those queries; with 1,000, 5.3 s and 0.3 s.
PLAN_CHUNK = 100
PG_PLAN_CHUNK = 1000

steps_table: Table = DeadlineStep.__table__  # type: ignore[attr-defined]
deadlines_table: Table = DeadlineRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class ClaimedStep:
    id: int
    deadline_id: int
    step: str
    due_on: date


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
    """The sweep's statements, built once per dialect; `today`, `now`, `skip` and the like are
    parameters."""

    def __init__(self, postgres: bool) -> None:
        self.postgres = postgres
        self.mark_overdue = self._mark_overdue()
        self.drop_stale = self._drop_stale()
        self.wait_far = self._wait_far()
        self.plannable_due = self._plannable(deadlines_table.c.next_step_on <= bindparam("today"))
        self.plannable_new = self._plannable(deadlines_table.c.next_step_on.is_(None),
                                             deadlines_table.c.due <= bindparam("horizon"))
        self.planned = self._planned()
        self.set_next_step = self._set_next_step()
        self.claim_steps = self._claim_steps()
        self.unclaim_step = self._unclaim_step()
        self.claim_expiries = self._claim_expiries()
        self.unclaim_expiry = self._unclaim_expiry()

    def _locked(self, query: Select[Any], *of: Table) -> Select[Any]:
        """FOR NO KEY UPDATE SKIP LOCKED on PostgreSQL; SQLite has one writer and no row locks.

        NO KEY UPDATE, not UPDATE: it keeps other workers off the row just as well, but does not
        block the KEY SHARE lock PostgreSQL takes on a deadline when a step row that refers to it
        is inserted. With FOR UPDATE, two workers planning steps at the same moment each waited
        for a deadline the other had marked overdue: a deadlock.
        """
        if not self.postgres:
            return query
        return query.with_for_update(of=list(of) or None, skip_locked=True, key_share=True)

    def _drop_stale(self) -> Any:
        s, d = steps_table, deadlines_table
        gone = exists().where(d.c.id == s.c.deadline_id,
                              or_(d.c.status.not_in(ACTIVE_DEADLINE), d.c.due != s.c.for_due))
        stale = self._locked(sa_select(s.c.id).where(s.c.status == PENDING, gone))
        return (update(s).where(self._picked(s, stale, PENDING))
                .values(status=DROPPED).returning(s.c.id))

    def _mark_overdue(self) -> Any:
        d = deadlines_table
        candidates = self._locked(sa_select(d.c.id).where(
            d.c.status == RUNNING, d.c.on_expiry.is_(None), d.c.due < bindparam("today")))
        return (update(d).where(self._picked(d, candidates, RUNNING))
                .values(status=OVERDUE).returning(d.c.id))

    def _wait_far(self) -> Any:
        """A deadline without a known next step day whose end lies beyond the look-ahead can
        have no step before its end minus the look-ahead: store that day, computed in SQL."""
        d = deadlines_table
        days = LOOKAHEAD.days
        earliest = d.c.due - days if self.postgres else func.date(d.c.due, f"-{days} days")
        far = (d.c.status.in_(SWEPT), d.c.next_step_on.is_(None), d.c.due > bindparam("horizon"))
        candidates = self._locked(sa_select(d.c.id).where(*far))
        if self.postgres:
            # The conditions again, in full: another worker may have stored the day meanwhile,
            # and with `next_step_on IS NULL` alone PostgreSQL read the whole table for it
            # (150 ms a pass at 1,000,000 deadlines); in full, the index answers (0.2 ms).
            return update(d).where(d.c.id.in_(candidates), *far).values(next_step_on=earliest)
        return update(d).where(d.c.id.in_(candidates)).values(next_step_on=earliest)

    def _plannable(self, *which: Any) -> Any:
        """A chunk of deadlines to plan, in no particular order (an ORDER BY would make the
        database read and sort every deadline still to plan for each chunk: minutes for the
        first pass over a million); on PostgreSQL those another worker is planning are skipped
        (it plans them; its chunk is a short transaction of its own)."""
        d = deadlines_table
        return self._locked(
            sa_select(d.c.id, d.c.name, d.c.due, d.c.started_on, d.c.on_expiry,
                      col(Trajectory.flow), col(Trajectory.flow_version),
                      col(Organisation.id).label("org_id"),
                      col(Organisation.reminders))
            .join(Trajectory, col(Trajectory.id) == d.c.trajectory_id)
            .join(Organisation, col(Organisation.id) == Trajectory.organisation_id)
            .where(d.c.status.in_(SWEPT), *which)
            .limit(PG_PLAN_CHUNK if self.postgres else PLAN_CHUNK), d)

    @staticmethod
    def _planned() -> Any:
        """The steps already planned for these deadlines' current ends."""
        s, d = steps_table, deadlines_table
        return (sa_select(s.c.deadline_id, s.c.step, s.c.for_due).join(d, d.c.id == s.c.deadline_id)
                .where(s.c.deadline_id.in_(bindparam("ids", expanding=True)), s.c.for_due == d.c.due))

    @staticmethod
    def _set_next_step() -> Any:
        d = deadlines_table
        return update(d).where(d.c.id == bindparam("b_id")).values(next_step_on=bindparam("b_next"))

    def _claim(self, table: Table, candidates: Select[Any], status: str) -> Any:
        """`UPDATE table ... WHERE id IN (the picked candidates) AND status = status`.

        SQLite: the statement must begin with UPDATE, no WITH: Python's sqlite3 opens the
        transaction only before a statement that starts with INSERT, UPDATE, DELETE or
        REPLACE, and would commit the claim at once."""
        picked = candidates.limit(CLAIM_BATCH if self.postgres else SQLITE_CLAIM_BATCH)
        if not self.postgres:
            return update(table).where(self._picked(table, picked, status))
        cte = picked.cte("picked").prefix_with("MATERIALIZED")
        return update(table).where(self._picked(table, sa_select(cte.c.id), status))

    def _picked(self, table: Table, picked: Select[Any], status: str) -> Any:
        """The rows whose ids were picked, still in `status`. The status is checked again on
        PostgreSQL only: there a row may change between the pick and the update (another
        transaction committed while we waited); SQLite runs the statement as the one writer,
        and its planner (without statistics) would scan every row of that status through the
        status index instead of looking up the picked ids."""
        if self.postgres:
            return and_(table.c.id.in_(picked), table.c.status == status)
        return table.c.id.in_(picked)

    def _claim_steps(self) -> Any:
        """The first due step of each running or overdue deadline, earliest first; a deadline's
        later step waits until its earlier ones are done (a later batch)."""
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
            .order_by(s.c.due_on, s.c.id), s, d)
        return (self._claim(s, candidates, PENDING).values(status=DONE, done_at=bindparam("now"))
                .returning(s.c.id, s.c.deadline_id, s.c.step, s.c.due_on))

    @staticmethod
    def _unclaim_step() -> Any:
        """Hand a claimed step back, in the claim's own transaction (its handling failed)."""
        s = steps_table
        return update(s).where(s.c.id == bindparam("b_id"), s.c.status == DONE).values(
            status=PENDING, done_at=None)

    def _claim_expiries(self) -> Any:
        """Running deadlines with an expiry event whose day has passed and whose own due steps
        have all been sent."""
        s, d = steps_table, deadlines_table
        unsent = exists().where(s.c.deadline_id == d.c.id, s.c.status == PENDING,
                                s.c.for_due == d.c.due, s.c.due_on <= bindparam("today"))
        candidates = self._locked(
            sa_select(d.c.id).where(d.c.status == RUNNING, d.c.on_expiry.is_not(None),
                                    d.c.due < bindparam("today"), ~unsent,
                                    d.c.id.not_in(bindparam("skip", expanding=True)))
            .order_by(d.c.due, d.c.id))
        return (self._claim(d, candidates, RUNNING).values(status=EXPIRED, closed_on=bindparam("today"))
                .returning(d.c.id, d.c.trajectory_id, d.c.on_expiry, d.c.label, d.c.due))

    @staticmethod
    def _unclaim_expiry() -> Any:
        d = deadlines_table
        return update(d).where(d.c.id == bindparam("b_id"), d.c.status == EXPIRED).values(
            status=RUNNING, closed_on=None)


@lru_cache(maxsize=2)
def statements(postgres: bool) -> Statements:
    return Statements(postgres)


def replan_organisation(session: Session, org_id: int) -> None:
    """The organisation's reminder steps changed: its deadlines' next step days are computed
    again by the next sweep (call in the transaction that stores the new steps)."""
    d = deadlines_table
    of_org = sa_select(col(Trajectory.id)).where(col(Trajectory.organisation_id) == org_id)
    session.execute(update(d).where(d.c.trajectory_id.in_(of_org), d.c.status.in_(SWEPT))
                    .values(next_step_on=None))
