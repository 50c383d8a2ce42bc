"""Write an `Outcome` to the database: state, history, deadlines and outbox rows.

The mail is rendered before the event's first write: on SQLite the first write takes the one
write lock of the database, and a call to thousands of members takes seconds to render. So the
lock is held only for the writing itself (the trajectory's version check comes first, then
history, deadlines and the rendered rows). A new trajectory is inserted first: its id is in its
mail.

Everything is written with Core statements on the transaction's connection, at once and in that
order: the instances an event changes were read with Core (app.service) and are in no session.

A batch of events in one transaction (the SQLite sweep, `deferred_writes`) holds its writes and
writes them table by table at the end of the batch, one statement per table: the version checks
of all its trajectories first (the count of rows moved must be the batch's), then history,
deadlines and outbox. A failing write fails the batch, which the sweep then redoes event by event.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache, lru_cache
from operator import attrgetter, itemgetter
from typing import Any

from sqlalchemy import Connection, Table, Update, bindparam, insert, update
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import SQLModel

from app import directory
from app.mailer import Mailer, MailJob
from engine import effects
from engine.dsl import Actor, Flow, Words
from storage.db import assign, fresh
from storage.tables import (
    ACTIVE_DEADLINE,
    DeadlineRow,
    HistoryEntry,
    Organisation,
    OutboxMessage,
    Person,
    Trajectory,
)

history_table: Table = HistoryEntry.__table__  # type: ignore[attr-defined]
deadline_table: Table = DeadlineRow.__table__  # type: ignore[attr-defined]
outbox_table: Table = OutboxMessage.__table__  # type: ignore[attr-defined]
trajectory_table: Table = Trajectory.__table__  # type: ignore[attr-defined]
T = trajectory_table
#: The version check: a trajectory moves only from the version it was read at (its data written
#: only when the event changed it).
MOVE = (update(T).where(T.c.id == bindparam("b_id"), T.c.version == bindparam("b_version"))
        .values(state=bindparam("state"), updated_at=bindparam("updated_at"),
                version=bindparam("b_version") + 1))
MOVE_WITH_DATA = MOVE.values(data=bindparam("data"))
#: The columns of a deadline an event sets: when it closes it, changes it, or moves its end.
CLOSED = ("closed_on", "status")
CHANGED = ("due", "explanation", "status", "suspended_on")
MOVED = ("due", "explanation", "next_step_on", "status", "steps_done", "suspended_on")
INSERT = {table.name: insert(table) for table in (trajectory_table, history_table, deadline_table,
                                                  outbox_table)}


def active_deadlines(rows: list[DeadlineRow]) -> dict[str, DeadlineRow]:
    return {d.name: d for d in rows if d.status in ACTIVE_DEADLINE}


@dataclass
class Writes:
    """The rows of one or more events, as statement parameters, written table by table."""

    moves: list[dict[str, Any]] = field(default_factory=list)
    moves_with_data: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    started: list[dict[str, Any]] = field(default_factory=list)
    changed: dict[tuple[str, ...], list[dict[str, Any]]] = field(default_factory=dict)
    outbox: list[dict[str, Any]] = field(default_factory=list)

    def add(self, other: Writes) -> None:
        self.moves += other.moves
        self.moves_with_data += other.moves_with_data
        self.history += other.history
        self.started += other.started
        for names, rows in other.changed.items():
            self.changed.setdefault(names, []).extend(rows)
        self.outbox += other.outbox

    def write(self, conn: Connection) -> None:
        """The version checks first (the first write: nothing is written for a trajectory that
        changed since it was read), then history, deadlines and outbox."""
        for statement, moves in ((MOVE, self.moves), (MOVE_WITH_DATA, self.moves_with_data)):
            if moves and conn.execute(statement, _one_or_many(moves)).rowcount != len(moves):
                ids = ", ".join(str(m["b_id"]) for m in moves)
                raise StaleDataError(f"Trajectory {ids} changed since it was read.")
        for table, rows in ((history_table, self.history), (deadline_table, self.started)):
            if rows:
                conn.execute(INSERT[table.name], _one_or_many(rows))
        for names, changes in self.changed.items():
            conn.execute(_changing(names), _one_or_many(changes))
        if self.outbox:
            conn.execute(INSERT[outbox_table.name], _one_or_many(self.outbox))


@dataclass
class Held:
    """The writes of a batch of events on one connection, held until the batch ends."""

    conn: Connection
    writes: Writes = field(default_factory=Writes)

    def flush(self) -> None:
        writes, self.writes = self.writes, Writes()
        writes.write(self.conn)


_held: ContextVar[Held | None] = ContextVar("held_writes", default=None)


@contextmanager
def deferred_writes(conn: Connection) -> Iterator[Held]:
    """The events written by Writers on `conn` inside this block are written at its end, table
    by table (on an exception, nothing more is written: the caller rolls the batch back)."""
    held = Held(conn)
    token = _held.set(held)
    try:
        yield held
        held.flush()
    finally:
        _held.reset(token)


class Writer:
    """Applies one outcome inside the caller's transaction; never commits."""

    def __init__(self, conn: Connection, mailer: Mailer, org: Organisation, now: datetime,
                 today: date, flow: Flow | None = None) -> None:
        self.conn = conn
        self.flow = flow  # the version of the flow the trajectory runs on (its mail names it)
        self.org = org
        self.mailer = mailer
        self.now = now
        self.today = today
        self.started: list[DeadlineRow] = []
        self.changed: list[tuple[DeadlineRow, tuple[str, ...]]] = []  # and the columns set

    def apply(
        self,
        row: Trajectory,
        outcome: effects.Outcome,
        who: Actor,
        people: directory.People,
        deadlines: list[DeadlineRow],
        note: str | None,
        payload: dict[str, Any],
    ) -> None:
        new = row.id is None
        data_changed = row.data != outcome.data
        assign(row, state=outcome.dest, data=dict(outcome.data), updated_at=self.now)
        held = _held.get()
        if held is not None and (held.conn is not self.conn or new or _links(outcome)):
            held.flush()  # what follows reads or links what the batch wrote: in order, now
            held = None
        if new:
            self._insert_row(row)  # a new trajectory: its id first, its deadlines and mail name it
        self._deadlines(row, outcome, deadlines)  # in memory only: nothing written yet
        mails = self._mails(row, outcome, who, people, deadlines, note, payload)
        writes = Writes()
        if not new:
            self._move(row, data_changed, writes)  # the first write: the version check
        writes.history.append(self._history(row, outcome, who, note, payload))
        self._write_deadlines(writes)
        writes.outbox = mails
        if held is not None:
            held.writes.add(writes)
        else:
            writes.write(self.conn)

    def _insert_row(self, row: Trajectory) -> None:
        found = self.conn.execute(INSERT[trajectory_table.name], _values(row, trajectory_table))
        assert found.inserted_primary_key is not None
        row.id = found.inserted_primary_key[0]

    @staticmethod
    def _move(row: Trajectory, data_changed: bool, writes: Writes) -> None:
        """The new state, if the row is still at the version it was read at (Writes.write
        checks it)."""
        values = {"b_id": row.id, "b_version": row.version, "state": row.state,
                  "updated_at": row.updated_at}
        if data_changed:
            writes.moves_with_data.append({**values, "data": row.data})
        else:
            writes.moves.append(values)
        assign(row, version=row.version + 1)

    def _history(self, row: Trajectory, outcome: effects.Outcome, who: Actor,
                 note: str | None, payload: dict[str, Any]) -> dict[str, Any]:
        assert row.id is not None
        return {"trajectory_id": row.id, "at": self.now, "actor": who.email,
                "event": outcome.event, "from_state": outcome.source, "to_state": outcome.dest,
                "note": note, "payload": payload}

    def _write_deadlines(self, writes: Writes) -> None:
        writes.started += [_values(d, deadline_table) for d in self.started]
        for deadline, names in self.changed:  # the columns this event set, whatever to
            writes.changed.setdefault(names, []).append(
                {"b_id": deadline.id, **{name: getattr(deadline, name) for name in names}})

    def _deadlines(self, row: Trajectory, outcome: effects.Outcome,
                   deadlines: list[DeadlineRow]) -> None:
        active = active_deadlines(deadlines)
        for effect in outcome.effects:
            if isinstance(effect, effects.StartDeadline):
                deadlines.append(self._start(row, effect))
            elif isinstance(effect, effects.CloseDeadline) and effect.name in active:
                self._close(active[effect.name], effect.status)
            elif isinstance(effect, effects.ChangeDeadline) and effect.name in active:
                self._change(active[effect.name], effect)

    def _start(self, row: Trajectory, effect: effects.StartDeadline) -> DeadlineRow:
        assert row.id is not None
        deadline = new_deadline(row.id, row.organisation_id, effect, self.today)
        self.started.append(deadline)
        return deadline

    def _close(self, deadline: DeadlineRow, status: str) -> None:
        assign(deadline, status=status, closed_on=self.today)
        self.changed.append((deadline, CLOSED))

    def _change(self, deadline: DeadlineRow, effect: effects.ChangeDeadline) -> None:
        moved = effect.due != deadline.due
        if moved:
            deadline.steps_done = []  # a moved end gets its reminders again
            deadline.next_step_on = None  # the sweep computes the moved end's next step day
        deadline.due = effect.due
        deadline.explanation = effect.explanation
        deadline.status = effect.status
        deadline.suspended_on = effect.suspended_on
        self.changed.append((deadline, MOVED if moved else CHANGED))

    def _mails(self, row: Trajectory, outcome: effects.Outcome, who: Actor,
               directory_: directory.People, deadlines: list[DeadlineRow], note: str | None,
               payload: dict[str, Any]) -> list[dict[str, Any]]:
        """The rendered outbox rows of the outcome's mails (their values); renders and reads
        (everyone of the organisation, only when there is mail), writes nothing."""
        sends = [e.mail for e in outcome.effects if isinstance(e, effects.SendMail)]
        if not sends:
            return []
        people = directory_.everyone()
        context = mail_context(row, who, people, deadlines, note, payload, self.org, self.flow)
        context["base_url"] = self.mailer.settings.base_url
        job = MailJob(row, context, self.now, deadlines)
        rows: list[dict[str, Any]] = []
        for mail in sends:
            rows += self.mailer.values(mail, directory.recipients(mail.to, people, row.data, who),
                                       job)
        return rows


def new_deadline(trajectory_id: int, organisation_id: int, effect: effects.StartDeadline,
                 started_on: date) -> DeadlineRow:
    """The row of a deadline an outcome starts (its next step day left to the sweep)."""
    spec = effect.spec
    return fresh(
        DeadlineRow, trajectory_id=trajectory_id, organisation_id=organisation_id,
        name=spec.name, label=spec.label, due=effect.due,
        explanation=effect.explanation, alert_roles=list(spec.alert),
        on_expiry=spec.on_expiry, atw=spec.atw, started_on=started_on,
    )


def deadline_values(deadline: DeadlineRow) -> dict[str, Any]:
    """The column values of a new deadline row, as the writes insert them."""
    return _values(deadline, deadline_table)


def _links(outcome: effects.Outcome) -> bool:
    """The event starts a linked trajectory (app.service writes it after the event)."""
    return any(isinstance(e, effects.StartLinked) for e in outcome.effects)


@cache
def _changing(names: tuple[str, ...]) -> Update:
    """The update of these columns of one deadline (a few shapes, each built once)."""
    return (update(deadline_table).where(deadline_table.c.id == bindparam("b_id"))
            .values({name: bindparam(name) for name in names}))


def _one_or_many(rows: list[dict[str, Any]]) -> dict[str, Any] | list[dict[str, Any]]:
    """One row as one execution (a list is an executemany, which costs more for one row)."""
    return rows[0] if len(rows) == 1 else rows


def _values(instance: SQLModel, table: Table) -> dict[str, Any]:
    """The column values of a new row (its key left to the database)."""
    names, from_state, from_attributes = _inserted_columns(table)
    try:  # an instance built in memory holds every column's value in its state
        values = from_state(instance.__dict__)
    except KeyError:
        values = from_attributes(instance)
    return dict(zip(names, values, strict=True))


@cache
def _inserted_columns(table: Table) -> tuple[tuple[str, ...], itemgetter[Any], attrgetter[Any]]:
    """The names of a table's columns but its key, and readers of them all at once (a call's
    fifty outbox rows were read column by column): from the instance's state, or, for a value
    it does not hold, through its attributes."""
    names = tuple(c.name for c in table.c if not c.primary_key)
    assert len(names) > 1  # the getters give a tuple
    return names, itemgetter(*names), attrgetter(*names)


def mail_context(row: Trajectory, who: Actor, people: Mapping[str, Person],
                 deadlines: list[DeadlineRow], note: str | None,
                 payload: dict[str, Any], org: Organisation, flow: Flow | None = None
                 ) -> dict[str, Any]:
    """What a trajectory's mail templates read; `flow`: the version it runs on (by default
    the one of the code's registry: flows.flow_versions)."""
    from flows import compiled_version, flow_versions

    flow = flow or compiled_version(flow_versions(), row.flow, row.flow_version, row.id).flow
    return {
        **_org_context(org),
        "trajectory": {"id": row.id, "title": row.title, "flow_title": flow.title,
                       "state_label": flow.state(row.state).label},
        "data": dict(row.data),
        "payload": payload,
        "note": note or "",
        "actor": {"name": who.name, "email": who.email},
        "names": directory.Everyone.of(people).names,
        "deadlines": {d.name: {"label": d.label, "due": d.due, "explanation": d.explanation}
                      for d in active_deadlines(deadlines).values()},
    }



def _org_context(org: Organisation) -> dict[str, Any]:
    """The organisation's part of a mail's context: its name and its words (shared by all its
    mails: templates only read them)."""
    return _org_context_of(org.name, org.slug, tuple(sorted((org.words or {}).items())))


@lru_cache(maxsize=1024)
def _org_context_of(name: str, slug: str, words_set: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    words = Words(**dict(words_set))
    return {
        "org": {"name": name, "slug": slug},
        "words": {**vars(words), "Council": words.council[:1].upper() + words.council[1:],
                  "the_secretariat": words.the_secretariat},
    }
