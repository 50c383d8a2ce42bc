"""The deadline sweep: reminders, alerts and expiry events, each exactly once.

Deadlines live in the database; this module is what the worker's clock runs (DESIGN.md §5).
One pass:

1. marks running deadlines without an expiry event whose day has passed as `overdue`;
2. drops the pending steps of deadlines that ended or moved (a moved end gets fresh steps);
3. plans the steps that are due (`deadline_step` rows, unique per deadline, step and end) of
   the deadlines whose stored next step day (`next_step_on`) has come, and stores their next
   one: a pass reads the deadlines that have something to do, not every pending one;
4. claims the due steps in batches, in due order (a deadline's steps one after the other), and
   sends each step's mails in the transaction of its claim;
5. claims the deadlines with an expiry event (e.g. `close_signup`) whose day has passed, in
   batches, and fires that event as the system actor in the transaction of the claim.

A claim is one statement that takes a batch (app.sweep_claims), with `FOR NO KEY UPDATE SKIP
LOCKED` on PostgreSQL (SQLite has a single writer). The items of a batch are handled in one
savepoint of the batch's one transaction, their rows written together at its end; when one
fails, that savepoint is rolled back and the items are handled again each in a savepoint of
its own, the failing one handed back (its claim undone) in that same transaction. So what
commits is the claims of the items that were handled, together with their mails and events.
A step only moves from `pending` to `done` once, and that change commits together with its
mails or not at all; the unique key (deadline, step, end date) forbids a second row for the
same step. So a step is sent once, however often the sweep runs and however many workers run
it; a worker that was down catches up, earliest step first. A deadline "runs out" at the end of
its due date (Europe/Amsterdam): the first pass on the next day handles it. A suspended
deadline sends nothing.

A trajectory that fails (unknown flow, data that makes the event fail, ...) is logged by id,
rolled back and skipped for the rest of the pass; the next pass tries again.

A row another worker (or a person) holds at that moment is not a failure. On PostgreSQL every
transaction of the sweep waits at most LOCK_WAIT for a lock; an expiry takes the trajectory's
row lock itself, waiting its turn, before it fires. If the database still says "busy" (a lock
wait that ran out, a deadlock it broke, SQLite's "database is locked"), the item is rolled back
and tried again, at most BUSY_TRIES times; after that it is left for the next round and counted
as `postponed`, never as `failed`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy import Row, text, update
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select

from app import directory
from app.mailer import MailJob
from app.service import Batch, Service
from app.sweep_claims import (
    PENDING,
    STEP_KEY,
    ClaimedExpiry,
    ClaimedStep,
    insert_ignoring,
    statements,
    steps_table,
)
from app.writer import deferred_writes, mail_context
from engine.atw_calendar import default_calendar
from engine.clock import local_today
from engine.dsl import KNOWN_ROLES, SYSTEM, Deadline, Mail, Recipients, Reminder
from engine.machine import CompiledFlow
from engine.reminders import (
    LOOKAHEAD,
    Offset,
    Schedule,
    StepKind,
    StepsError,
    due_steps,
    kind_of,
    next_step_on,
    reminders_of,
    steps_of,
)
from engine.terms import format_date
from storage.db import is_busy, is_postgres, transaction
from storage.tables import (
    DeadlineRow,
    HistoryEntry,
    Organisation,
    Person,
    Trajectory,
)

log = logging.getLogger("advies.sweep")

Claimed = TypeVar("Claimed", ClaimedStep, ClaimedExpiry)
Done = TypeVar("Done")

LOCK_WAIT = timedelta(seconds=5)
BUSY_TRIES = 3
PLANNED_CHUNK = 500  # deadline ids per look-up of their planned steps
#: PostgreSQL's ways of saying another transaction holds what we need (lock_not_available,
#: deadlock_detected, serialization_failure).
BUSY_STATES = frozenset({"55P03", "40P01", "40001"})

TEMPLATES: dict[StepKind, str] = {
    "before": "deadline_reminder",
    "on_day": "deadline_reminder",
    "overdue": "deadline_overdue",
}


@dataclass
class SweepReport:
    """What one pass did."""

    overdue: int = 0
    dropped: int = 0
    planned: int = 0
    steps: int = 0
    mails: int = 0
    expired: int = 0
    failed: int = 0
    postponed: int = 0
    stopped: bool = False

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def add(self, done: SweepReport) -> None:
        """Count what a committed batch did."""
        self.steps += done.steps
        self.mails += done.mails
        self.expired += done.expired


@dataclass(frozen=True)
class Drain(Generic[Claimed]):
    """One kind of item the sweep claims in batches: how to claim a batch, handle one item,
    name it (its id), log its failure, and hand it back (the statement undoing its claim)."""

    claim: Callable[[Session, set[int]], list[Claimed]]
    handle: Callable[[Session, Claimed, SweepReport], None]
    key: Callable[[Claimed], int]
    failed: Callable[[Claimed, Exception], None]
    unclaim: Any


@dataclass(frozen=True)
class Tally:
    """What a drain keeps over its batches: items to skip, busy counts, and the pass's report."""

    skip: set[int]
    busy: dict[int, int]
    report: SweepReport


@dataclass
class StepScene:
    """Everything the mails of one step need, read in the step's transaction."""

    deadline: DeadlineRow
    trajectory: Trajectory
    compiled: CompiledFlow
    org: Organisation
    people: dict[str, Person]
    deadlines: list[DeadlineRow]


class Sweep:
    """One pass over the deadlines; `stop` ends it after the item in hand."""

    def __init__(self, service: Service, stop: threading.Event | None = None) -> None:
        self.service = service
        self.engine = service.engine
        self.stop = stop or threading.Event()
        self.sql = statements(is_postgres(service.engine))
        self.expiring: Batch | None = None  # the trajectories of the expiry batch in hand

    def run(self) -> SweepReport:
        now, today = self.service.clock.now(), local_today(self.service.clock)
        report = SweepReport()
        self._prepare(today, report)
        self._send_steps(now, today, report)
        self._fire_expiries(today, report)
        report.stopped = self.stop.is_set()
        return report

    def _wait_at_most(self, session: Session) -> None:
        """On PostgreSQL, no statement of this transaction waits longer than LOCK_WAIT for a lock."""
        if self.sql.postgres:
            session.execute(text(f"SET LOCAL lock_timeout = '{int(LOCK_WAIT.total_seconds() * 1000)}ms'"))

    # --- 1. overdue, 2. stale steps, 3. planning -----------------------------------------------

    def _prepare(self, today: date, report: SweepReport) -> None:
        """Steps 1-3: marks and drops in one transaction, then the planning in chunks of a
        transaction each, so that no worker holds many deadlines for long. Busy, a transaction
        is tried again, and else left for the next round (the steps planned before can still
        be sent)."""
        def mark(session: Session) -> int:
            report.overdue = len(session.execute(self.sql.mark_overdue, {"today": today}).all())
            report.dropped = len(session.execute(self.sql.drop_stale).all())
            session.execute(self.sql.wait_far, {"horizon": today + LOOKAHEAD})
            return 0

        if self._attempt(mark, report) is None:
            return
        while done := self._attempt(lambda session: self._plan_chunk(session, today), report):
            read, planned = done
            report.planned += planned
            if not read:
                return

    def _attempt(self, work: Callable[[Session], Done], report: SweepReport) -> Done | None:
        """`work` in a transaction of its own, tried again while the database is busy; None
        when it is left for the next round."""
        for attempt in range(1, BUSY_TRIES + 1):
            try:
                with transaction(self.engine) as session:
                    self._wait_at_most(session)
                    return work(session)
            except DBAPIError as error:
                if not held_elsewhere(error):
                    raise
                log.info("Termijnen plannen: de database is bezig (poging %s van %s).", attempt, BUSY_TRIES)
        report.postponed += 1
        return None

    def _plan_chunk(self, session: Session, today: date) -> tuple[int, int]:
        """Plan the due steps of a chunk of deadlines whose next step day has come, and store
        their next one; (deadlines read, steps planned).

        Only these deadlines are read (the index on status and next step day): those whose
        stored day is today or earlier, then those without one that end within the look-ahead
        (the others without one got the first day they can have a step, in SQL). A planned
        deadline's next day lies after today: it leaves the query. On PostgreSQL a deadline
        another worker is planning is skipped: that worker plans it.
        """
        rows = session.execute(self.sql.plannable_due, {"today": today}).all()
        if not rows:
            rows = session.execute(self.sql.plannable_new, {"horizon": today + LOOKAHEAD}).all()
        return len(rows), self._plan_rows(session, rows, today) if rows else 0

    def _plan_rows(self, session: Session, rows: Sequence[Row[Any]], today: date) -> int:
        existing = self._planned(session, [row.id for row in rows])
        offsets: dict[int, tuple[Offset, ...]] = {}
        new: list[dict[str, Any]] = []
        later: list[dict[str, Any]] = []
        for row in rows:
            schedule = self._schedule(row, offsets)
            new += [{"deadline_id": row.id, "step": step.id, "for_due": row.due,
                     "due_on": step.due_on, "status": PENDING, "mails": 0}
                    for step in due_steps(schedule, today)
                    if (row.id, step.id, row.due) not in existing]
            later.append({"b_id": row.id, "b_next": next_step_on(schedule, today)})
        new.sort(key=lambda r: (r["deadline_id"], r["step"]))  # one order for every worker: no deadlock
        insert_ignoring(session, steps_table, new, STEP_KEY)
        session.execute(self.sql.set_next_step, later)  # rows come in id order
        return len(new)

    def _planned(self, session: Session, ids: list[int]) -> set[tuple[int, str, date]]:
        found: set[tuple[int, str, date]] = set()
        for first in range(0, len(ids), PLANNED_CHUNK):
            chunk = ids[first:first + PLANNED_CHUNK]
            found.update(tuple(r) for r in session.execute(self.sql.planned, {"ids": chunk}).all())
        return found

    def _schedule(self, row: Row[Any], offsets: dict[int, tuple[Offset, ...]]) -> Schedule:
        return Schedule(row.due, row.started_on, row.on_expiry is not None,
                        self._offsets(offsets, row.org_id, row.reminders),
                        reminders_of(self._spec(row.flow, row.flow_version, row.name)))

    @staticmethod
    def _offsets(cache: dict[int, tuple[Offset, ...]], org_id: int,
                 setting: list[str] | None) -> tuple[Offset, ...]:
        if org_id not in cache:
            try:
                cache[org_id] = steps_of(setting)
            except StepsError:
                log.error("Organisatie %s: onleesbare herinneringsstappen; de standaard geldt.", org_id)
                cache[org_id] = steps_of(None)
        return cache[org_id]

    def _spec(self, flow_name: str, version: int, deadline_name: str) -> Deadline | None:
        """The deadline as the trajectory's own flow version defines it (its reminders)."""
        compiled = self.service.versions.get((flow_name, version))
        if compiled is None:
            return None
        return next((d for d in compiled.flow.deadlines if d.name == deadline_name), None)

    # --- 4. steps ------------------------------------------------------------------------------

    def _send_steps(self, now: datetime, today: date, report: SweepReport) -> None:
        def handle(session: Session, claimed: ClaimedStep, done: SweepReport) -> None:
            done.mails += self._send_step(session, claimed, now, today)
            done.steps += 1

        self._drain(Drain(
            claim=lambda session, skip: self._claim_steps(session, now, today, skip),
            handle=handle, key=lambda claimed: claimed.id, failed=self._log_step_failure,
            unclaim=self.sql.unclaim_step), report)

    def _drain(self, drain: Drain[Claimed], report: SweepReport) -> None:
        """Claim and handle a batch per transaction until none is left (or we must stop).

        The batch's items are handled in one savepoint (see _handle_together); when one fails,
        each item in a savepoint of its own (_handle_each). An item that fails is
        rolled back to its savepoint, handed back, logged and skipped for the rest of this pass:
        one broken trajectory never stops the sweep. An item the database is busy with (another
        worker holds its rows) is handed back and tried again; after BUSY_TRIES it is left for
        the next round. A claim that finds the database busy ends this part of the pass.
        """
        skip: set[int] = set()
        busy: dict[int, int] = {}
        while not self.stop.is_set():
            with Session(self.engine, expire_on_commit=False) as session:
                try:
                    self._wait_at_most(session)
                    batch = drain.claim(session, skip)
                except DBAPIError as error:
                    if not held_elsewhere(error):
                        raise
                    session.rollback()
                    report.postponed += 1
                    log.info("De database is bezig; de rest volgt de volgende ronde.")
                    return
                tally = Tally(skip, busy, report)
                done = self._handle_together(session, drain, batch, tally)
                session.commit()
                report.add(done)
                if not batch:
                    return

    def _handle_together(self, session: Session, drain: Drain[Claimed], batch: list[Claimed],
                         tally: Tally) -> SweepReport:
        """The batch's items in one savepoint, cheaper than one each, the events' rows written
        together at the end of the batch (app.writer.deferred_writes: on PostgreSQL one round
        trip per table instead of several per item, 2-2.4x the rate of a savepoint per item).
        An item fails when it is broken, or on PostgreSQL when another worker or a person holds
        its rows longer than LOCK_WAIT, or changed its trajectory since it was read (the
        version check of the batch's writes).
        When an item fails (or writing the batch's rows does), that savepoint is rolled back
        and the items are handled one by one, each in a savepoint of its own, as if they had
        been from the start, except the failing item: it is handed back at once, not tried
        again."""
        done = SweepReport()
        failing: Claimed | None = None
        try:
            with session.begin_nested(), deferred_writes(session.connection()):
                for claimed in batch:
                    if self.stop.is_set():  # stop after the item in hand: the rest goes back
                        session.execute(drain.unclaim, {"b_id": drain.key(claimed)})
                        continue
                    failing = claimed
                    drain.handle(session, claimed, done)
                    session.flush()  # its failure is its own, not the next item's
                    failing = None
            return done
        except Exception as error:  # one broken trajectory never stops the sweep
            return self._handle_each(session, drain, batch, tally,
                                     (failing, error) if failing is not None else None)

    def _handle_each(self, session: Session, drain: Drain[Claimed], batch: list[Claimed],
                     tally: Tally, failed: tuple[Claimed, Exception] | None = None) -> SweepReport:
        """Each item in a savepoint of its own, after the batch as a whole failed; `failed`,
        an item that failed already, is handed back at once."""
        done = SweepReport()
        for claimed in batch:
            if failed is not None and claimed is failed[0]:
                self._hand_back(session, drain, claimed, failed[1], tally)
            elif self.stop.is_set():  # stop after the item in hand: the rest goes back
                session.execute(drain.unclaim, {"b_id": drain.key(claimed)})
            else:
                self._handle_one(session, drain, claimed, done, tally)
        return done

    def _handle_one(self, session: Session, drain: Drain[Claimed], claimed: Claimed,
                    done: SweepReport, tally: Tally) -> None:
        try:
            with session.begin_nested():
                drain.handle(session, claimed, done)
        except Exception as error:  # one broken trajectory never stops the sweep
            self._hand_back(session, drain, claimed, error, tally)

    def _hand_back(self, session: Session, drain: Drain[Claimed], claimed: Claimed,
                   error: Exception, tally: Tally) -> None:
        """Undo a failed item's claim; count it busy (tried again) or failed (skipped, logged)."""
        session.execute(drain.unclaim, {"b_id": drain.key(claimed)})
        if held_elsewhere(error):
            self._busy(drain.key(claimed), tally)
            return
        tally.skip.add(drain.key(claimed))
        tally.report.failed += 1
        drain.failed(claimed, error)

    @staticmethod
    def _busy(item: int, tally: Tally) -> None:
        """Another worker holds this item's rows: try it again, or leave it for the next round."""
        tally.busy[item] = tally.busy.get(item, 0) + 1
        if tally.busy[item] >= BUSY_TRIES:
            tally.skip.add(item)
            tally.report.postponed += 1
            log.info("Termijn %s is bezet door een ander; die volgt de volgende ronde.", item)

    def _claim_steps(self, session: Session, now: datetime, today: date,
                     skip: set[int]) -> list[ClaimedStep]:
        found = session.execute(self.sql.claim_steps,
                                {"today": today, "now": now, "skip": sorted(skip)}).all()
        claimed = [ClaimedStep(r.id, r.deadline_id, r.step, r.due_on) for r in found]
        return sorted(claimed, key=lambda c: (c.due_on, c.id))

    def _send_step(self, session: Session, claimed: ClaimedStep, now: datetime, today: date) -> int:
        found = self._load(session, claimed.deadline_id)
        mail, recipients = self._addressed(session, claimed.step, found)
        context = self._context(found, claimed.step, today)
        rows = self.service.mailer.rows(mail, recipients,
                                        MailJob(found.trajectory, context, now, found.deadlines))
        session.add_all(rows)
        found.deadline.steps_done = [*(found.deadline.steps_done or []), claimed.step]
        session.add(found.deadline)
        session.execute(update(steps_table).where(steps_table.c.id == claimed.id)
                        .values(mails=len(rows)))
        return len(rows)

    def _load(self, session: Session, deadline_id: int) -> StepScene:
        deadline = session.get(DeadlineRow, deadline_id)
        assert deadline is not None
        trajectory = session.get(Trajectory, deadline.trajectory_id)
        assert trajectory is not None
        compiled = self.service.compiled_for(trajectory)  # an unknown flow or version: refused
        org = session.get(Organisation, trajectory.organisation_id)
        assert org is not None
        assert org.id is not None
        deadlines = list(session.exec(select(DeadlineRow).where(
            DeadlineRow.trajectory_id == trajectory.id).order_by(col(DeadlineRow.id))).all())
        return StepScene(deadline, trajectory, compiled, org, directory.people(session, org.id),
                         deadlines)

    def _addressed(self, session: Session, step: str, found: StepScene) -> tuple[Mail, list[Person]]:
        """The mail of a step and who gets it: the deadline's alert roles, or a flow reminder's."""
        kind, _ = kind_of(step)
        data = found.trajectory.data
        if kind != "reminder":
            mail = Mail(TEMPLATES[kind], alert_recipients(found.deadline.alert_roles or []))
            return mail, directory.recipients(mail.to, found.people, data, SYSTEM)
        spec = next((d for d in found.compiled.flow.deadlines if d.name == found.deadline.name), None)
        reminder = next(r for r in reminders_of(spec) if r.name == step)
        everyone = directory.recipients(reminder.mail.to, found.people, data, SYSTEM)
        answered = self._answered(session, reminder, found.trajectory)
        return reminder.mail, [p for p in everyone if p.email not in answered]

    @staticmethod
    def _answered(session: Session, reminder: Reminder, trajectory: Trajectory) -> set[str]:
        found = {e for name in reminder.skip_lists for e in trajectory.data.get(name, [])}
        if reminder.skip_events:
            found |= set(session.exec(select(HistoryEntry.actor).where(
                HistoryEntry.trajectory_id == trajectory.id,
                col(HistoryEntry.event).in_(reminder.skip_events))).all())
        return found

    def _context(self, found: StepScene, step: str, today: date) -> dict[str, Any]:
        kind, number = kind_of(step)
        context = mail_context(found.trajectory, SYSTEM, found.people, found.deadlines, None, {},
                               found.org)
        context.update(
            base_url=self.service.settings.base_url,
            deadline=deadline_context(found.deadline, today),
            step={"id": step, "kind": kind, "number": number},
            today=today,
        )
        return context

    def _log_step_failure(self, claimed: ClaimedStep, error: Exception) -> None:
        with Session(self.engine) as session:
            deadline = session.get(DeadlineRow, claimed.deadline_id)
            trajectory_id = deadline.trajectory_id if deadline else None
        log.error("Traject %s, termijn %s, stap %s overgeslagen (%s); volgende ronde opnieuw.",
                  trajectory_id, claimed.deadline_id, claimed.step, type(error).__name__)
        log.debug("Oorzaak", exc_info=error)

    # --- 5. expiry -----------------------------------------------------------------------------

    def _fire_expiries(self, today: date, report: SweepReport) -> None:
        def handle(session: Session, claimed: ClaimedExpiry, done: SweepReport) -> None:
            self._expire(session, claimed)
            done.expired += 1

        self._drain(Drain(
            claim=lambda session, skip: self._claim_expiries(session, today, skip),
            handle=handle, key=lambda claimed: claimed.deadline_id, failed=_log_expiry_failure,
            unclaim=self.sql.unclaim_expiry), report)

    def _claim_expiries(self, session: Session, today: date, skip: set[int]) -> list[ClaimedExpiry]:
        """Claim a batch, and read its trajectories at once for the events fired one by one."""
        found = session.execute(self.sql.claim_expiries, {"today": today, "skip": sorted(skip)}).all()
        claimed = [ClaimedExpiry(r.id, r.trajectory_id, r.on_expiry, r.label, r.due) for r in found]
        self.expiring = self.service.read_batch(
            session, sorted({c.trajectory_id for c in claimed}), SYSTEM.email, wait=self.sql.postgres)
        return sorted(claimed, key=lambda c: (c.due, c.deadline_id))

    def _expire(self, session: Session, claimed: ClaimedExpiry) -> None:
        note = f"De {claimed.label} liep af op {format_date(claimed.due)}."
        # wait (PostgreSQL): take the trajectory's row waiting (bounded) while another worker or
        # a person holds it, instead of the NOWAIT that tells a person at once that someone else
        # is busy. SQLite: the batch's claim made this transaction the writer already.
        self.service.fire_in_session(session, claimed.trajectory_id, claimed.event, SYSTEM.email, {}, note,
                                     wait=self.sql.postgres, batch=self.expiring)


def _log_expiry_failure(claimed: ClaimedExpiry, error: Exception) -> None:
    log.error("Traject %s: gebeurtenis %s bij het verlopen van termijn %s overgeslagen (%s); "
              "volgende ronde opnieuw.", claimed.trajectory_id, claimed.event,
              claimed.deadline_id, type(error).__name__)
    log.debug("Oorzaak", exc_info=error)


def held_elsewhere(error: BaseException) -> bool:
    """Another transaction holds what we need (a lock wait ran out, a deadlock was broken, a
    NOWAIT lock was refused): wait or come back, not a failure."""
    if is_busy(error):
        return True
    return isinstance(error, DBAPIError) and getattr(error.orig, "sqlstate", None) in BUSY_STATES


def alert_recipients(roles: Sequence[str]) -> Recipients:
    """A deadline's alert roles: organisation roles, and the contact person of the trajectory."""
    return Recipients(roles=tuple(r for r in roles if r in KNOWN_ROLES),
                      fields=tuple(r for r in roles if r == "contact_person"))


def deadline_context(deadline: DeadlineRow, today: date) -> dict[str, Any]:
    """What a reminder says about its deadline, as seen today."""
    timing = "future" if deadline.due > today else "today" if deadline.due == today else "past"
    return {
        "name": deadline.name,
        "label": deadline.label,
        "due": deadline.due,
        "explanation": deadline.explanation,
        "explanation_lines": deadline.explanation.splitlines(),
        "timing": timing,
        "workdays_left": workdays_between(today, deadline.due),
        "days_over": max(0, (today - deadline.due).days),
    }


def workdays_between(today: date, due: date) -> int:
    """The working days after `today` up to and including `due` (0 when due is today or past)."""
    calendar = default_calendar()
    count, day = 0, today
    while day < due:
        day += timedelta(days=1)
        count += calendar.is_working_day(day)
    return count
