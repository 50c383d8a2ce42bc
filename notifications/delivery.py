"""Deliver the outbox: claim due mail, send it, and record how it went.

A mail that cannot be delivered (a 5xx, or still no luck after MAX_ATTEMPTS) is marked failed,
and in the same transaction the secretariat of the trajectory's organisation gets a notice:
which mail to whom, why, and what to do. Notices about notices are never made (no loops).
If the settings are wrong (login, TLS, our sender refused, a mail folder that cannot be
written), the queue pauses: the claimed mail goes back unharmed, and the worker tries again
after PAUSE.

Each round claims a batch in the name of a new holder and renews that claim every quarter of the
lease while it works, so a slow server never lets the lease of the batch run out under it; a row
the renewal no longer finds ours is not sent, and an outcome only counts for the holder.

Sent mails are marked in groups, one transaction for all that ended meanwhile (`_SentMarks`).
Each connection works through the batch mail after mail; the mark of its last mail is written
while the next one goes out (envelope, DATA, the mail itself), and before the server may take
that one (the dot that ends it). So at most one mail per connection was taken by its server and
not recorded: a killed worker sends again at most the mails in hand, one per connection.

A send never outlives the lease, even when the process is starved of CPU and a renewal comes
late: a send starts only with at least two thirds of the lease left (otherwise the claim is
renewed first, and the row handed back if that does not work), and it gets at most a third of
the lease, so its outcome is recorded while the claim is still ours. What no lease can prevent:
a worker frozen for more than a third of the lease right after the server took a mail. With the
default lease of five minutes that takes a frozen machine, not a busy one. When
`stop` is set, no new mail is started; the mail in hand gets GRACE to finish, and is otherwise
handed back (queued again, the attempt not counted), like the rest of the batch.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from email.utils import parseaddr

from sqlalchemy import Connection, Engine
from sqlmodel import Session, select

from engine.clock import AMSTERDAM, Clock
from engine.errors import InvalidInput
from notifications import outbox
from notifications.message import Party, build
from notifications.outbox import Claimed
from notifications.render import Renderer
from notifications.senders import (
    DeliveryFailure,
    FileSender,
    PermanentFailure,
    Sender,
    SetupFailure,
    SmtpSender,
    TemporaryFailure,
)
from notifications.smtp_url import parse_smtp_url
from settings import Settings
from storage.db import transaction
from storage.tables import Organisation, OutboxMessage, Person, Trajectory

log = logging.getLogger(__name__)

NOTICE = "delivery_failed"
SECRETARIAT = "secretariat"
PAUSE = timedelta(minutes=5)
BATCH = 250  # a round's tail (last sends, last marks, next claim) costs the same at any size
MAX_ROUNDS = 1000
GATHER = 0.005  # seconds a flush of sent marks may wait for more sends to end
GRACE = 2.0  # seconds the mail in hand gets to finish once we are asked to stop
AHEAD_ROWS = 16  # the next batch is claimed once this few rows (or two per connection) are left
STOP_POLL = 0.1  # seconds between looks at a thread's stop flag
MAIL_FROM_EXAMPLE = 'ADVIES_MAIL_FROM="Adviesgroep <adviesgroep@gemeente.example.org>"'

Now = Callable[[], datetime]
Marked = asyncio.Future[None]  # done once the mark of a sent mail is written


@dataclass
class DeliveryReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    notices: int = 0
    handed_back: int = 0  # claimed, then queued again unsent: we stopped, or the lease ran short
    lost: int = 0  # our claim had passed to another worker; that one settles the row
    paused: str | None = None
    stopped: bool = False

    def add(self, other: DeliveryReport) -> None:
        self.claimed += other.claimed
        self.sent += other.sent
        self.retried += other.retried
        self.failed += other.failed
        self.notices += other.notices
        self.handed_back += other.handed_back
        self.lost += other.lost
        self.paused = other.paused or self.paused
        self.stopped = other.stopped or self.stopped


async def deliver_due(engine: Engine, sender: Sender, now_fn: Now, *, batch: int = BATCH,
                      lease: timedelta = outbox.LEASE, stop: asyncio.Event | None = None) -> DeliveryReport:
    """One round: claim up to `batch` due mails and send them, `sender.concurrency` at a time."""
    stop = stop or asyncio.Event()
    if stop.is_set():
        return DeliveryReport(stopped=True)
    claimed = await _Batch.claim(engine, now_fn, batch, lease)
    return await _deliver_batch(engine, sender, now_fn, lease, stop, claimed)


async def deliver_all_due(engine: Engine, sender: Sender, now_fn: Now, *, batch: int = BATCH,
                          lease: timedelta = outbox.LEASE,
                          stop: asyncio.Event | None = None) -> DeliveryReport:
    """Rounds of `deliver_due` until nothing is due any more (or the queue pauses, or we stop).

    The next batch is claimed while the connections send the last rows of the current one, so
    that they do not wait for the claim; a batch claimed and then not sent (we stop, or the queue
    paused) is handed back like the rest of a round."""
    stop = stop or asyncio.Event()
    total = DeliveryReport(stopped=stop.is_set())
    if total.stopped:
        return total
    ahead = _Ahead(engine, now_fn, batch, lease)
    claimed = await _Batch.claim(engine, now_fn, batch, lease)
    try:
        for _ in range(MAX_ROUNDS):
            report = await _deliver_batch(engine, sender, now_fn, lease, stop, claimed,
                                          running_low=ahead.start)
            total.add(report)
            if not report.claimed or report.paused or report.stopped:
                break
            claimed = await ahead.take()
    finally:
        await ahead.give_back(total, stop)
    return total


@dataclass
class _Batch:
    """Rows claimed in the name of `holder`; the lease counts from `asked_at` (the loop's time
    when the claim was asked for: the database may have started it any moment after that)."""

    holder: str
    asked_at: float
    rows: list[Claimed]

    @classmethod
    async def claim(cls, engine: Engine, now_fn: Now, batch: int, lease: timedelta) -> _Batch:
        holder, asked_at = outbox.new_holder(), asyncio.get_running_loop().time()
        rows = await asyncio.to_thread(_claim, engine, now_fn(), batch, lease, holder)
        return cls(holder, asked_at, rows)


class _Ahead:
    """The claim of the next batch, started while the current one is finishing."""

    def __init__(self, engine: Engine, now_fn: Now, batch: int, lease: timedelta) -> None:
        self.engine = engine
        self.now_fn = now_fn
        self.batch = batch
        self.lease = lease
        self.claiming: asyncio.Task[_Batch] | None = None

    def start(self) -> None:
        if self.claiming is None:
            self.claiming = asyncio.create_task(
                _Batch.claim(self.engine, self.now_fn, self.batch, self.lease))

    async def take(self) -> _Batch:
        """The batch claimed ahead; claimed again if it came back empty: mail may have been
        queued since it was asked for (a notice about a mail of the round that just ended)."""
        self.start()
        assert self.claiming is not None
        claiming, self.claiming = self.claiming, None
        claimed = await claiming
        if claimed.rows:
            return claimed
        return await _Batch.claim(self.engine, self.now_fn, self.batch, self.lease)

    async def give_back(self, total: DeliveryReport, stop: asyncio.Event) -> None:
        """A batch claimed ahead and not sent goes back unsent, the attempt not counted; after a
        pause, with the reason and the pause, as the rest of the paused round."""
        if self.claiming is None:
            return
        claiming, self.claiming = self.claiming, None
        try:
            claimed = await claiming
        except Exception as failed:  # its transaction rolled back: nothing was claimed
            log.warning("outbox: claiming ahead failed (%s)", type(failed).__name__)
            return
        if not claimed.rows:
            return
        delay, error = (PAUSE, total.paused) if total.paused else (timedelta(0), None)
        released = await asyncio.to_thread(_release_all, self.engine, [row.id for row in claimed.rows],
                                           claimed.holder, self.now_fn(), delay, error)
        total.claimed += len(claimed.rows)
        total.lost += len(claimed.rows) - len(released)
        if error is None:
            total.handed_back += len(released)
        total.stopped = total.stopped or stop.is_set()


async def _deliver_batch(engine: Engine, sender: Sender, now_fn: Now, lease: timedelta,
                         stop: asyncio.Event, claimed: _Batch,
                         running_low: Callable[[], None] | None = None) -> DeliveryReport:
    work = _Round(engine, sender, now_fn, lease, stop, claimed.holder,
                  {row.id for row in claimed.rows}, claimed.asked_at, running_low)
    work.report.claimed = len(claimed.rows)
    if claimed.rows:
        await work.run(claimed.rows)
    work.report.stopped = stop.is_set()
    return work.report


def _claim(engine: Engine, now: datetime, batch: int, lease: timedelta, holder: str) -> list[Claimed]:
    with transaction(engine) as session:
        return outbox.claim(session, now, limit=batch, lease=lease, holder=holder)


class _Round:
    """One claimed batch: sends it, keeps its lease alive, and hands it back when told to stop."""

    def __init__(self, engine: Engine, sender: Sender, now_fn: Now, lease: timedelta,
                 stop: asyncio.Event, holder: str, held: set[int], asked_at: float,
                 running_low: Callable[[], None] | None = None) -> None:
        self.engine = engine
        self.sender = sender
        self.now_fn = now_fn
        self.lease = lease
        self.stop = stop
        self.held = held  # the rows the last renewal found still ours
        self.open = set(held)  # the rows not settled yet
        self.valid_until = asked_at + lease.total_seconds()  # the lease, by the loop's own watch
        self.concurrency = max(1, sender.concurrency)
        self.in_hand: set[asyncio.Task[None]] = set()  # the tasks sending a mail right now
        self.cut_off: set[asyncio.Task[None]] = set()  # the ones we cancelled: GRACE is over
        self.renewing = asyncio.Lock()
        self.report = DeliveryReport()
        self.holder = holder
        self.sending = 0  # sends under way
        self.running_low = running_low  # told once when few rows are left to start
        self.low_mark = max(AHEAD_ROWS, 2 * self.concurrency)
        self.marks = _SentMarks(engine, holder, now_fn, enough=sender.concurrency,
                                gather=min(GATHER, lease.total_seconds() / 100),
                                busy=lambda: self.sending > 0, written=self._written)

    async def run(self, claimed: list[Claimed]) -> None:
        waiting = collections.deque(claimed)
        helpers = [asyncio.create_task(self._renew_while_working(self.holder)),
                   asyncio.create_task(self._cut_off_after_stop())]
        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(min(self.concurrency, len(claimed))):
                    group.create_task(self._work_through(waiting))
        finally:
            for helper in helpers:
                helper.cancel()
            await asyncio.wait(helpers)
            await self.marks.settled()

    async def _work_through(self, waiting: collections.deque[Claimed]) -> None:
        """One connection's share of the batch: the next row, until none is left.

        The outcome of a sent mail is written while the next one goes out, and before the
        server may take that one (the dot that ends it): per connection, at most one mail the server
        took is not recorded yet, so a killed worker re-sends at most one mail per connection."""
        previous: asyncio.Future[None] | None = None  # the mark of the last mail sent here
        try:
            while waiting:
                if self.report.paused or self.stop.is_set():
                    await self._hand_back_all(waiting)
                    return
                row = waiting.popleft()
                if len(waiting) <= self.low_mark:
                    self._tell_running_low()
                try:
                    marked = await self._deliver(row, previous)
                except BaseException:
                    self.open.discard(row.id)
                    raise
                if marked is None:
                    self.open.discard(row.id)
                else:
                    previous = marked
        finally:
            if previous is not None:
                await self.marks.wait_for(previous)

    def _tell_running_low(self) -> None:
        if self.running_low is not None:
            self.running_low()
            self.running_low = None

    def _written(self, row: Claimed) -> None:
        self.open.discard(row.id)
        self.report.sent += 1

    async def _cut_off_after_stop(self) -> None:
        """Once we are asked to stop, the sends in hand get GRACE; then they are cut off."""
        await self.stop.wait()
        await asyncio.sleep(GRACE)
        for task in list(self.in_hand):
            self.cut_off.add(task)
            task.cancel()

    async def _renew_while_working(self, holder: str) -> None:
        """Every quarter of the lease, extend it for the rows still open; forget the lost ones."""
        every = max(self.lease.total_seconds() / 4, 0.01)
        while self.open:
            await asyncio.sleep(every)
            await self._renew(holder)

    async def _renew(self, holder: str) -> None:
        async with self.renewing:
            asked_at = self._monotonic()
            try:
                kept = await asyncio.to_thread(_renew, self.engine, sorted(self.open), holder,
                                               self.now_fn(), self.lease)
            except Exception as error:  # the outcome still checks the holder; try again later
                log.warning("outbox: renewing the claim failed (%s)", type(error).__name__)
                return
            self.held = kept
            self.valid_until = asked_at + self.lease.total_seconds()

    def _lease_left(self) -> float:
        return self.valid_until - self._monotonic()

    async def _lease_enough_to_send(self, row: Claimed) -> bool:
        """Two thirds of the lease left for this row; renewed first when a renewal came late."""
        enough = self.lease.total_seconds() * 2 / 3
        if self._lease_left() < enough and row.id in self.held:
            await self._renew(row.claimed_by)
        return row.id in self.held and self._lease_left() >= enough

    @staticmethod
    def _monotonic() -> float:
        return asyncio.get_running_loop().time()

    async def _deliver(self, row: Claimed, previous: asyncio.Future[None] | None) -> Marked | None:
        """Send `row` (after `previous` is recorded); the mark being written if it was sent."""
        if row.id not in self.held:
            self.report.lost += 1
            log.warning("outbox %s (%s): the claim ran out and another worker took it; not sent here",
                        row.id, row.message_id)
            return None
        if not await self._lease_enough_to_send(row):  # never send past the lease
            await self._hand_back(row, timedelta(0))
            return None
        try:
            if not await self._send_counted(row, previous):
                await self._hand_back(row, timedelta(0))
                return None
        except DeliveryFailure as failure:
            await self._record_failure(row, failure)
            return None
        return self.marks.submit(row)

    async def _send_counted(self, row: Claimed, previous: Marked | None) -> bool:
        self.sending += 1
        try:
            return await self._send_unless_stopped(row, previous)
        finally:
            self.sending -= 1
            self.marks.poke()

    async def _send_unless_stopped(self, row: Claimed, previous: Marked | None) -> bool:
        """Send; False if we were asked to stop and the send did not finish within GRACE."""
        task = asyncio.current_task()
        assert task is not None
        self.in_hand.add(task)
        try:
            await self._send_within_lease(row, previous)
        except asyncio.CancelledError:
            if task not in self.cut_off or task.uncancel() > 0:  # not (only) our cut-off
                raise
            return False
        finally:
            self.in_hand.discard(task)
            self.cut_off.discard(task)
        return True

    async def _send_within_lease(self, row: Claimed, previous: Marked | None) -> None:
        """The send, cut off after a third of the lease (a timeout, tried again later)."""
        try:
            async with asyncio.timeout(self.lease.total_seconds() / 3):
                await self._send_after(row, previous)
        except TimeoutError as error:
            raise TemporaryFailure("De mailserver reageerde niet op tijd.", "timeout") from error

    async def _send_after(self, row: Claimed, previous: Marked | None) -> None:
        """Send `row`; the server takes it only once `previous` is recorded."""
        send_when_ready = getattr(self.sender, "send_when_ready", None)
        if previous is None:
            await self.sender.send(row.sender, row.recipient, row.raw)
        elif send_when_ready is None:
            await self.marks.wait_for(previous)
            await self.sender.send(row.sender, row.recipient, row.raw)
        else:
            await send_when_ready(row.sender, row.recipient, row.raw,
                                  functools.partial(self.marks.wait_for, previous))

    async def _hand_back(self, row: Claimed, delay: timedelta, error: str | None = None) -> None:
        """Queue the row again unsent, the attempt not counted (if the claim is still ours)."""
        if not await asyncio.to_thread(_release, self.engine, row, self.now_fn(), delay, error):
            self.report.lost += 1
        elif error is None:
            self.report.handed_back += 1

    async def _hand_back_all(self, waiting: collections.deque[Claimed]) -> None:
        """The rest of the batch, queued again unsent in one go: we stop, or the queue paused."""
        rows = list(waiting)
        waiting.clear()
        delay, error = (PAUSE, self.report.paused) if self.report.paused else (timedelta(0), None)
        try:
            released = await asyncio.to_thread(_release_all, self.engine, [row.id for row in rows],
                                               self.holder, self.now_fn(), delay, error)
        finally:
            self.open.difference_update(row.id for row in rows)
        self.report.lost += len(rows) - len(released)
        if error is None:
            self.report.handed_back += len(released)

    async def _record_failure(self, row: Claimed, failure: DeliveryFailure) -> None:
        log.warning("outbox %s (%s): %s after attempt %s", row.id, row.message_id, failure.log_text,
                    row.attempts)
        if isinstance(failure, SetupFailure):
            if not self.report.paused:
                log.error("Mail versturen gepauzeerd: %s", failure.reason)
            self.report.paused = failure.reason
            await self._hand_back(row, PAUSE, str(failure))
            return
        status, notices = await asyncio.to_thread(_failed_or_retry, self.engine, row, failure,
                                                  self.now_fn())
        self.report.notices += notices
        if status == outbox.FAILED:
            self.report.failed += 1
        elif status == outbox.QUEUED:
            self.report.retried += 1
        else:
            self.report.lost += 1


def _renew(engine: Engine, outbox_ids: list[int], holder: str, now: datetime,
           lease: timedelta) -> set[int]:
    with transaction(engine) as session:
        return outbox.renew(session, outbox_ids, holder, now, lease)


class _SentMarks:
    """Records sent mails in groups (a group commit): one flush marks every send that ended
    meanwhile, in one transaction.

    A flush starts once as many marks wait as there are connections, or half the connections
    wait for one of them (their server is about to take the next mail), or no send is under
    way, or after GATHER (never more than a hundredth of the lease): the outcome of a send is
    written long before its claim could run out.
    """

    def __init__(self, engine: Engine, holder: str, now_fn: Now, *, enough: int, gather: float,
                 busy: Callable[[], bool], written: Callable[[Claimed], None]) -> None:
        self.holder = holder
        self.now_fn = now_fn
        self.enough = max(1, enough)
        self.half = max(1, enough // 2)
        self.gather = gather
        self.busy = busy
        self.written = written
        self.writer = _MarkWriter(engine)
        self.waiting: dict[int, tuple[Claimed, Marked]] = {}
        self.stalled = 0  # sends that wait for a mark before their server may take the mail
        self.flushing: asyncio.Task[None] | None = None
        self.gathered = asyncio.Event()

    def submit(self, row: Claimed) -> Marked:
        """Mark `row` sent; the future is done once that is written (or failed to be)."""
        done: Marked = asyncio.get_running_loop().create_future()
        self.waiting[row.id] = (row, done)
        self.poke()
        if self.flushing is None or self.flushing.done():
            self.flushing = asyncio.create_task(self._flush_while_waiting())
        return done

    async def wait_for(self, mark: Marked) -> None:
        """Until `mark` is written; raises what writing it raised."""
        if mark.done():
            return mark.result()
        self.stalled += 1
        self.poke()
        try:
            await asyncio.shield(mark)  # a cancelled waiter leaves the mark to be written all the same
        finally:
            self.stalled -= 1

    def poke(self) -> None:
        """Flush now if a mark waits for every connection, or half the connections wait for
        a mark, or no send is under way."""
        if len(self.waiting) >= self.enough or self.stalled >= self.half or not self.busy():
            self.gathered.set()

    async def settled(self) -> None:
        """Wait until every mark handed in is written (or failed)."""
        try:
            while self.flushing is not None and not self.flushing.done():
                self.gathered.set()
                await asyncio.wait({self.flushing})
        finally:
            await asyncio.to_thread(self.writer.close)

    async def _flush_while_waiting(self) -> None:
        while self.waiting:
            await self._gather()
            group, self.waiting = self.waiting, {}
            self.gathered.clear()
            try:
                ours = await asyncio.to_thread(self.writer.write, list(group), self.holder,
                                               self.now_fn())
            except Exception as error:  # every waiter of this group raises it, as one mark would
                for _row, done in group.values():
                    done.set_exception(error)
                continue
            for row, done in group.values():
                _log_sent(row, row.id in ours)
                self.written(row)
                done.set_result(None)

    async def _gather(self) -> None:
        self.poke()
        if self.gathered.is_set():  # the usual case: no timer to set up and cancel
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.gather):
                await self.gathered.wait()


class _MarkWriter:
    """The connection the marks of a round are written on, kept for the round, in autocommit
    mode: a group of marks is one UPDATE, which then commits by itself. On PostgreSQL that is
    one round trip instead of three (BEGIN, UPDATE, COMMIT), as durable: the server answers
    only once the commit is on disk (synchronous_commit as configured). The UPDATE goes to the
    driver's connection itself (`outbox.DriverMarks`): the marks are the loop's busiest SQL.

    Used from one worker thread at a time: the flushes of a round follow each other."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.marks = outbox.DriverMarks.of(engine.dialect)
        self.connection: Connection | None = None

    def write(self, outbox_ids: list[int], holder: str, now: datetime) -> set[int]:
        connection = self._connected()
        try:
            return self.marks.run(connection.connection.driver_connection, outbox_ids, holder, now)
        except Exception:
            connection.invalidate()  # in an unknown state; the next group gets a fresh connection
            self.close()
            raise

    def _connected(self) -> Connection:
        if self.connection is None:
            self.connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        return self.connection

    def close(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            connection.close()


def _log_sent(row: Claimed, ours: bool) -> None:
    if ours:
        log.info("outbox %s (%s) sent", row.id, row.message_id)
    else:
        log.warning("outbox %s (%s) sent, but the claim had passed to another worker", row.id,
                    row.message_id)


def _release(engine: Engine, row: Claimed, now: datetime, delay: timedelta, error: str | None) -> bool:
    with transaction(engine) as session:
        return outbox.release(session, row, now, delay, error)


def _release_all(engine: Engine, outbox_ids: list[int], holder: str, now: datetime,
                 delay: timedelta, error: str | None) -> set[int]:
    with transaction(engine) as session:
        return outbox.release_all(session, outbox_ids, holder, now, delay, error)


def _failed_or_retry(engine: Engine, row: Claimed, failure: DeliveryFailure,
                     now: datetime) -> tuple[str | None, int]:
    """Mark the row; if it has failed for good, tell the secretariat in the same transaction.
    The status is None when the claim was no longer ours (then nothing is marked or told)."""
    with transaction(engine) as session:
        if isinstance(failure, PermanentFailure):
            if not outbox.mark_failed(session, row, now, str(failure)):
                return None, 0
            return outbox.FAILED, notify_secretariat(session, row, failure, now)
        status = outbox.mark_retry(session, row, now, str(failure))
        if status != outbox.FAILED:
            return status, 0
        gave_up = PermanentFailure(f"Het lukte {row.attempts} keer niet. De laatste keer: {failure.reason}",
                                   failure.reply, failure.code)
        return outbox.FAILED, notify_secretariat(session, row, gave_up, now)


# --- the notice to the secretariat ------------------------------------------------------------


def notify_secretariat(session: Session, row: Claimed, failure: DeliveryFailure, now: datetime) -> int:
    """Queue one notice per secretariat member; returns how many. Never for a notice itself."""
    if row.template == NOTICE:
        return 0
    trajectory = session.get(Trajectory, row.trajectory_id) if row.trajectory_id is not None else None
    if trajectory is None:
        log.error("outbox %s failed and belongs to no trajectory; nobody to tell", row.id)
        return 0
    org = session.get(Organisation, trajectory.organisation_id)
    staff = _secretariat(session, trajectory.organisation_id, row.recipient)
    for person in staff:
        session.add(_notice(row, failure, trajectory, org, person, now))
    if not staff:
        log.error("outbox %s failed and the organisation has no secretariat to tell", row.id)
    return len(staff)


def _secretariat(session: Session, org_id: int, skip: str) -> list[Person]:
    people = session.exec(select(Person).where(Person.organisation_id == org_id)).all()
    return [p for p in people if SECRETARIAT in (p.roles or []) and p.email != skip]


def _notice(row: Claimed, failure: DeliveryFailure, trajectory: Trajectory,
            org: Organisation | None, person: Person, now: datetime) -> OutboxMessage:
    context = {
        "recipient": {"name": person.name, "email": person.email},
        "org": {"name": org.name if org else ""},
        "trajectory": {"id": trajectory.id, "title": trajectory.title},
        "failed": {"id": row.id, "recipient": row.recipient, "subject": row.subject,
                   "created_on": row.created_at.astimezone(AMSTERDAM).date(),
                   "reason": failure.reason, "reply": failure.reply, "attempts": row.attempts},
    }
    content = _renderer().render(NOTICE, context)
    sender = _from_party(row)
    message_id = f"<{uuid.uuid4().hex}@{row.message_id.strip('<>').rpartition('@')[2] or 'localhost'}>"
    raw = build(sender=sender, recipient=Party(person.name, person.email), content=content,
                message_id=message_id, sent_at=now)
    return OutboxMessage(trajectory_id=trajectory.id, message_id=message_id, template=NOTICE,
                         sender=row.sender, recipient=person.email, subject=content.subject, raw=raw,
                         next_attempt_at=now, created_at=now)


@functools.cache
def _renderer() -> Renderer:
    return Renderer()


def _from_party(row: Claimed) -> Party:
    """The notice comes from whoever the failed mail came from."""
    header = BytesHeaderParser(policy=default_policy).parsebytes(row.raw).get("From")
    addresses: tuple[Address, ...] = getattr(header, "addresses", ())
    if addresses and addresses[0].addr_spec == row.sender:
        return Party(addresses[0].display_name or "Adviestraject", row.sender)
    return Party("Adviestraject", row.sender)


# --- wiring -------------------------------------------------------------------------------------


def _smtp_url(settings: Settings) -> str:
    """ADVIES_SMTP_URL, or "" when it is not set (then mail goes to files)."""
    return settings.smtp_url.get_secret_value().strip() if settings.smtp_url is not None else ""


def sender_from_settings(settings: Settings, *, pool_size: int = 4) -> Sender:
    """SMTP when ADVIES_SMTP_URL is set; otherwise .eml files in ADVIES_MAIL_DIR."""
    if url := _smtp_url(settings):
        return SmtpSender(parse_smtp_url(url), pool_size=pool_size)
    return FileSender(settings.mail_dir)


def check_mail_settings(settings: Settings) -> None:
    """Refuse to start (InvalidInput, one Dutch sentence) with mail settings that cannot work:
    an ADVIES_SMTP_URL that cannot be read, or a real mail server without a real sender."""
    url = _smtp_url(settings)
    if not url:
        return
    try:
        parse_smtp_url(url)
    except ValueError as error:
        raise InvalidInput(str(error)) from error
    _check_sender(settings.mail_from, "mail_from" in settings.model_fields_set)


def _check_sender(mail_from: str, was_set: bool) -> None:
    _name, address = parseaddr(mail_from)
    _local, at, domain = address.rpartition("@")
    if not was_set:
        raise InvalidInput(f"ADVIES_MAIL_FROM is niet ingesteld: een mailserver neemt geen mail aan "
                           f"van {address}. Stel het afzenderadres in, bijvoorbeeld {MAIL_FROM_EXAMPLE}.")
    if not at or "." not in domain or domain.lower().endswith(("localhost", ".")):
        raise InvalidInput(f"ADVIES_MAIL_FROM ({mail_from}) is geen bruikbaar afzenderadres. "
                           f"Schrijf bijvoorbeeld {MAIL_FROM_EXAMPLE}.")


def deliver_once(engine: Engine, settings: Settings, clock: Clock | None = None,
                 stop: threading.Event | None = None) -> DeliveryReport:
    """One pass for the command line and the worker: deliver all that is due, then hang up.
    Setting `stop` (from any thread) ends the pass promptly, handing back what is not sent."""
    now_fn = (clock or settings.clock).now

    async def run() -> DeliveryReport:
        stopping = asyncio.Event()
        following = asyncio.create_task(_follow(stop, stopping)) if stop is not None else None
        sender = sender_from_settings(settings)
        try:
            return await deliver_all_due(engine, sender, now_fn, stop=stopping)
        finally:
            if following is not None:
                following.cancel()
            await sender.close()

    return asyncio.run(run())


async def _follow(flag: threading.Event, stopping: asyncio.Event) -> None:
    """Set `stopping` as soon as another thread sets `flag`."""
    while not flag.is_set():
        await asyncio.sleep(STOP_POLL)
    stopping.set()
