"""The outbox table as a queue: claim due mail, then mark it sent, to retry, or failed.

Every function takes the session of the caller's transaction and a `now` (an aware datetime);
none of them reads the clock.

A claim is one statement, `WITH due AS MATERIALIZED (SELECT id ... LIMIT n) UPDATE outbox ...
WHERE id IN (SELECT id FROM due) RETURNING ...`, with `FOR UPDATE SKIP LOCKED` in the CTE on
PostgreSQL, so two workers never claim the same row. The CTE is MATERIALIZED on purpose: with a
plain `IN (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED)` PostgreSQL may plan a nested-loop semi
join that runs the subquery again for every row it updates, and then claims more than n rows.

A claim is a lease held by one worker: `claimed_by` names the holder (a fresh id per delivery
pass), and the holder renews the lease while it works on the rows (`renew`). A worker that dies
leaves its rows in 'sending', and they are due again once `claimed_until` has passed; another
worker may then claim them. Every outcome (`mark_sent`, `mark_retry`, `mark_failed`, `release`)
counts only for the holder of the claim, and only while the row is still 'sending': a worker
that lost its claim cannot overwrite what the new holder did. `mark_all_sent` records many sent
mails of one holder in one statement, on the same terms; `DriverMarks` runs that same statement
on the driver's own connection, for the delivery loop.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Dialect, and_, bindparam, func, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from engine.errors import NotAllowed, NotFound
from storage.tables import OutboxMessage

LEASE = timedelta(minutes=5)
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=6)
MAX_ATTEMPTS = 10

QUEUED, SENDING, SENT, FAILED = "queued", "sending", "sent", "failed"

table = OutboxMessage.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Claimed:
    """A claimed outbox row: what the sender needs, and what a failure notice needs."""

    id: int
    message_id: str
    template: str
    trajectory_id: int | None
    sender: str
    recipient: str
    subject: str
    raw: bytes
    attempts: int
    created_at: datetime
    claimed_by: str


CLAIMED_COLUMNS = [table.c[name] for name in Claimed.__dataclass_fields__]


def _check(now: datetime) -> None:
    if now.tzinfo is None:
        raise ValueError("now moet een tijdzone hebben")


def _due(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(table.c.status == QUEUED, table.c.next_attempt_at <= now),
        and_(table.c.status == SENDING, table.c.claimed_until < now),
    )


def new_holder() -> str:
    """A unique name for one delivery pass: what `claimed_by` says while it holds rows."""
    return uuid.uuid4().hex


def claim(session: Session, now: datetime, *, limit: int = 20, lease: timedelta = LEASE,
          holder: str | None = None) -> list[Claimed]:
    """Claim up to `limit` due rows for `lease` in the name of `holder` (a new one if not
    given; each row says it in `claimed_by`); each claim counts as an attempt."""
    _check(now)
    holder = holder or new_holder()
    picked = select(table.c.id).where(_due(now)).order_by(table.c.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        picked = picked.with_for_update(skip_locked=True)
    due = picked.cte("due").prefix_with("MATERIALIZED")
    statement = (
        update(table)
        .where(table.c.id.in_(select(due.c.id)), _due(now))
        .values(status=SENDING, claimed_until=now + lease, claimed_by=holder,
                attempts=table.c.attempts + 1)
        .returning(*CLAIMED_COLUMNS)
    )
    rows = session.execute(statement).all()
    return sorted((Claimed(*row) for row in rows), key=lambda c: c.id)  # columns in field order


def renew(session: Session, outbox_ids: list[int], holder: str, now: datetime,
          lease: timedelta = LEASE) -> set[int]:
    """Extend the lease of the rows `holder` still holds to `now + lease`; returns their ids.

    A row missing from the answer is no longer ours (our lease ran out and another worker took
    it, or it is settled): do not send it."""
    _check(now)
    if not outbox_ids:
        return set()
    statement = (
        update(table)
        .where(table.c.id.in_(outbox_ids), table.c.claimed_by == holder, table.c.status == SENDING)
        .values(claimed_until=now + lease)
        .returning(table.c.id)
    )
    return set(session.execute(statement).scalars())


def mark_sent(session: Session, row: Claimed, now: datetime) -> bool:
    """The server accepted the mail. False if the claim was no longer ours."""
    return row.id in mark_all_sent(session, [row.id], row.claimed_by, now)


# Built once: the statement is then compiled once too (SQLAlchemy caches it by its shape).
_MARK_ALL_SENT = (
    update(table)
    .where(table.c.id.in_(bindparam("ids", expanding=True)), table.c.status == SENDING,
           table.c.claimed_by == bindparam("holder"))
    .values(status=SENT, sent_at=bindparam("sent_now"), last_error=None, claimed_until=None,
            claimed_by=None)
    .returning(table.c.id)
)


def mark_all_sent(session: Session | Connection, outbox_ids: list[int], holder: str,
                  now: datetime) -> set[int]:
    """The server accepted these mails of `holder`; returns the ids that were still ours (the
    others are left alone: their claim had passed to another worker). Takes a Core connection
    as well: the delivery loop writes these marks many times a second."""
    _check(now)
    if not outbox_ids:
        return set()
    found = session.execute(_MARK_ALL_SENT, {"ids": outbox_ids, "holder": holder, "sent_now": now})
    return set(found.scalars())


class DriverMarks:
    """`mark_all_sent` on the DB-API connection itself (sqlite3 or psycopg), for the delivery
    loop, which marks many times a second: through SQLAlchemy a mark costs about twice the CPU,
    and that CPU is taken from the sends (one GIL). The same statement, compiled once for the
    dialect; its text and fixed parameters once per number of ids. Errors of the driver are
    raised as SQLAlchemy's (`DBAPIError.instance`), as `mark_all_sent` raises them."""

    VARYING = ("ids", "holder", "sent_now")

    @staticmethod
    @functools.lru_cache(maxsize=8)  # a process has one or two engines; tests make many
    def of(dialect: Dialect) -> DriverMarks:
        """The one for `dialect`, compiled once (every delivery round asks for it)."""
        return DriverMarks(dialect)

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.compiled = _MARK_ALL_SENT.compile(dialect=dialect)
        self.convert = {name: _converter(self.compiled, name, dialect) for name in self.VARYING}
        self.shapes: dict[int, _MarkShape] = {}
        # psycopg prepares the statement on the server at its first use; sqlite3 always does
        self.execute_options = {"prepare": True} if dialect.name == "postgresql" else {}

    def run(self, driver_connection: Any, outbox_ids: list[int], holder: str,
            now: datetime) -> set[int]:
        """Mark these mails of `holder` sent; returns the ids that were still ours. Commits only
        if `driver_connection` is in autocommit mode."""
        _check(now)
        if not outbox_ids:
            return set()
        shape = self._shape(len(outbox_ids))
        values = {"ids": outbox_ids, "holder": holder, "sent_now": now}
        parameters = shape.parameters({name: self._converted(name, value)
                                       for name, value in values.items()})
        cursor = driver_connection.cursor()
        try:
            cursor.execute(shape.sql, parameters, **self.execute_options)
            return {row[0] for row in cursor.fetchall()}
        except self.dialect.loaded_dbapi.Error as error:
            raise DBAPIError.instance(shape.sql, parameters, error,
                                      self.dialect.loaded_dbapi.Error) from error
        finally:
            cursor.close()

    def _converted(self, name: str, value: Any) -> Any:
        convert = self.convert[name]
        if convert is None:
            return value
        return [convert(item) for item in value] if name == "ids" else convert(value)

    def _shape(self, count: int) -> _MarkShape:
        shape = self.shapes.get(count)
        if shape is None:
            shape = self.shapes[count] = _MarkShape.of(self.compiled, count, self.dialect)
        return shape


def _converter(compiled: Any, name: str, dialect: Dialect) -> Any:
    """What SQLAlchemy does to the value of parameter `name` before the driver gets it (for a
    date: to UTC, and on SQLite to text), or None."""
    return compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)


@dataclass(frozen=True)
class _MarkShape:
    """`_MARK_ALL_SENT` for one number of ids: the SQL text, and the parameters that never
    change (the new status, the cleared columns), already in the driver's form."""

    sql: str
    fixed: dict[str, Any]
    id_names: list[str]
    order: tuple[str, ...] | None  # the parameters' order, for a positional paramstyle (sqlite3)

    @classmethod
    def of(cls, compiled: Any, count: int, dialect: Dialect) -> _MarkShape:
        state = compiled.construct_expanded_state(
            {"ids": list(range(count)), "holder": "", "sent_now": None})
        id_names = state.parameter_expansion["ids"]
        fixed = {}
        for name, value in state.parameters.items():
            if name in id_names or name in DriverMarks.VARYING:
                continue
            convert = _converter(compiled, name, dialect)
            fixed[name] = convert(value) if convert is not None else value
        order = tuple(state.positiontup) if state.positiontup is not None else None
        return cls(state.statement, fixed, id_names, order)

    def parameters(self, varying: dict[str, Any]) -> dict[str, Any] | tuple[Any, ...]:
        values = {**self.fixed, **dict(zip(self.id_names, varying["ids"], strict=True)),
                  "holder": varying["holder"], "sent_now": varying["sent_now"]}
        return tuple(values[name] for name in self.order) if self.order is not None else values


def backoff(attempts: int) -> timedelta:
    """1 minute after the first attempt, doubling each time, at most 6 hours."""
    delay: timedelta = FIRST_RETRY * 2 ** max(0, min(attempts - 1, 20))
    return min(delay, LONGEST_RETRY)


def mark_retry(session: Session, row: Claimed, now: datetime, error: str) -> str | None:
    """A temporary failure: try again later, or give up after MAX_ATTEMPTS. Returns the status,
    or None when the claim was no longer ours (then nothing changed)."""
    _check(now)
    if row.attempts >= MAX_ATTEMPTS:
        return FAILED if mark_failed(session, row, now, error) else None
    if _settle(session, row, status=QUEUED, next_attempt_at=now + backoff(row.attempts),
               last_error=error):
        return QUEUED
    return None


def mark_failed(session: Session, row: Claimed, now: datetime, error: str) -> bool:
    """A permanent failure: this mail will not be delivered unless someone re-queues it.
    False if the claim was no longer ours."""
    _check(now)
    return _settle(session, row, status=FAILED, last_error=error, next_attempt_at=now)


def release(session: Session, row: Claimed, now: datetime, delay: timedelta,
            error: str | None = None) -> bool:
    """Hand a claimed row back without counting the attempt (the queue is paused, or the worker
    stops); `error`, when given, says why. False if the claim was no longer ours."""
    _check(now)
    values: dict[str, Any] = {"last_error": error} if error is not None else {}
    return _settle(session, row, status=QUEUED, attempts=table.c.attempts - 1,
                   next_attempt_at=now + delay, **values)


def release_all(session: Session, outbox_ids: list[int], holder: str, now: datetime,
                delay: timedelta, error: str | None = None) -> set[int]:
    """`release` for many rows of `holder` in one statement; returns the ids that were still
    ours (the others are left alone)."""
    _check(now)
    if not outbox_ids:
        return set()
    values: dict[str, Any] = {"last_error": error} if error is not None else {}
    statement = (
        update(table)
        .where(table.c.id.in_(outbox_ids), table.c.status == SENDING, table.c.claimed_by == holder)
        .values(status=QUEUED, attempts=table.c.attempts - 1, next_attempt_at=now + delay,
                claimed_until=None, claimed_by=None, **values)
        .returning(table.c.id)
    )
    return set(session.execute(statement).scalars())


def requeue(session: Session, outbox_id: int, now: datetime) -> OutboxMessage:
    """Put a failed (or waiting) mail back in the queue, due now, with a fresh count of attempts."""
    _check(now)
    row = session.get(OutboxMessage, outbox_id)
    if row is None:
        raise NotFound(f"Mail {outbox_id} staat niet in de uitgaande post.")
    if row.purged_at is not None:
        raise NotAllowed(f"De tekst van mail {outbox_id} is gewist (bewaartermijn of AVG); "
                         "die mail kan niet opnieuw worden verstuurd.")
    if not _update(session, outbox_id, [FAILED, QUEUED], status=QUEUED, attempts=0,
                   next_attempt_at=now, claimed_until=None, claimed_by=None):
        raise NotAllowed(_why_not(row.status, outbox_id))
    session.refresh(row)
    return row


def _why_not(status: str, outbox_id: int) -> str:
    if status == SENT:
        return f"Mail {outbox_id} is al verstuurd; die gaat niet nog een keer de deur uit."
    return f"Mail {outbox_id} wordt op dit moment verstuurd. Probeer het over een paar minuten opnieuw."


def rows(session: Session, *, failed_only: bool = False) -> list[OutboxMessage]:
    """The outbox, oldest first; with `failed_only`, only mail that could not be delivered."""
    query = select(OutboxMessage).order_by(col(OutboxMessage.id))
    if failed_only:
        query = query.where(col(OutboxMessage.status) == FAILED)
    return list(session.scalars(query).all())


def pending(session: Session) -> int:
    """How many mails are still waiting or being sent."""
    query = select(func.count()).select_from(table).where(table.c.status.in_([QUEUED, SENDING]))
    return int(session.scalar(query) or 0)


def as_dict(row: OutboxMessage) -> dict[str, Any]:
    """A row for `--json`: everything except the message bytes."""
    return {
        "id": row.id,
        "message_id": row.message_id,
        "trajectory_id": row.trajectory_id,
        "template": row.template,
        "recipient": row.recipient,
        "subject": row.subject,
        "status": row.status,
        "attempts": row.attempts,
        "next_attempt_at": _iso(row.next_attempt_at) if row.status == QUEUED else None,
        "sent_at": _iso(row.sent_at),
        "last_error": row.last_error,
        "created_at": _iso(row.created_at),
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _settle(session: Session, row: Claimed, **values: Any) -> bool:
    """End the claim of `row` with `values`, only if it is still ours and still being sent."""
    statement = (
        update(table)
        .where(table.c.id == row.id, table.c.status == SENDING, table.c.claimed_by == row.claimed_by)
        .values(claimed_until=None, claimed_by=None, **values)
    )
    return bool(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def _update(session: Session, outbox_id: int, statuses: list[str], **values: Any) -> bool:
    statement = (
        update(table)
        .where(table.c.id == outbox_id, table.c.status.in_(statuses))
        .values(**values)
    )
    return bool(session.execute(statement).rowcount)  # type: ignore[attr-defined]
