"""Write an `Outcome` to the database: state, history, deadlines and outbox rows.

The mail is rendered before the event's first write: on SQLite the first write takes the one
write lock of the database, and a call to thousands of members takes seconds to render. So the
lock is held only for the writing itself (the trajectory's version check comes first, then
history, deadlines and the rendered rows). A new trajectory is inserted first: its id is in its
mail.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from sqlmodel import Session

from app import directory
from app.mailer import Mailer, MailJob
from engine import effects
from engine.dsl import Actor
from storage.tables import (
    ACTIVE_DEADLINE,
    DeadlineRow,
    HistoryEntry,
    Organisation,
    OutboxMessage,
    Person,
    Trajectory,
)


def active_deadlines(rows: list[DeadlineRow]) -> dict[str, DeadlineRow]:
    return {d.name: d for d in rows if d.status in ACTIVE_DEADLINE}


class Writer:
    """Applies one outcome inside the caller's transaction; never commits."""

    def __init__(self, session: Session, mailer: Mailer, org: Organisation, now: datetime,
                 today: date) -> None:
        self.session = session
        self.org = org
        self.mailer = mailer
        self.now = now
        self.today = today

    def apply(
        self,
        row: Trajectory,
        outcome: effects.Outcome,
        who: Actor,
        people: dict[str, Person],
        deadlines: list[DeadlineRow],
        note: str | None,
        payload: dict[str, Any],
    ) -> None:
        row.state = outcome.dest
        row.data = dict(outcome.data)
        row.updated_at = self.now
        if row.id is None:
            self._write_row(row)  # a new trajectory: its id first, its deadlines and mail name it
        self._deadlines(row, outcome, deadlines)  # in the session only: nothing written yet
        mails = self._mails(row, outcome, who, people, deadlines, note, payload)
        self._write_row(row)  # the first write of an event: the version check, then the rest
        self._history(row, outcome, who, note, payload)
        self.session.add_all(mails)

    def _write_row(self, row: Trajectory) -> None:
        self.session.add(row)
        self.session.flush()  # the version check (and a new row's id) before anything else

    def _history(self, row: Trajectory, outcome: effects.Outcome, who: Actor,
                 note: str | None, payload: dict[str, Any]) -> None:
        assert row.id is not None
        self.session.add(HistoryEntry(
            trajectory_id=row.id, at=self.now, actor=who.email, event=outcome.event,
            from_state=outcome.source, to_state=outcome.dest, note=note, payload=payload,
        ))

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
        spec = effect.spec
        deadline = DeadlineRow(
            trajectory_id=row.id, name=spec.name, label=spec.label, due=effect.due,
            explanation=effect.explanation, alert_roles=list(spec.alert),
            on_expiry=spec.on_expiry, atw=spec.atw, started_on=self.today,
        )
        self.session.add(deadline)
        return deadline

    def _close(self, deadline: DeadlineRow, status: str) -> None:
        deadline.status = status
        deadline.closed_on = self.today
        self.session.add(deadline)

    def _change(self, deadline: DeadlineRow, effect: effects.ChangeDeadline) -> None:
        if effect.due != deadline.due:
            deadline.steps_done = []  # a moved end gets its reminders again
            deadline.next_step_on = None  # the sweep computes the moved end's next step day
        deadline.due = effect.due
        deadline.explanation = effect.explanation
        deadline.status = effect.status
        deadline.suspended_on = effect.suspended_on
        self.session.add(deadline)

    def _mails(self, row: Trajectory, outcome: effects.Outcome, who: Actor,
               people: dict[str, Person], deadlines: list[DeadlineRow], note: str | None,
               payload: dict[str, Any]) -> list[OutboxMessage]:
        """The rendered outbox rows of the outcome's mails; renders only, reads and writes
        nothing (no query, so the session does not flush before the version check)."""
        sends = [e.mail for e in outcome.effects if isinstance(e, effects.SendMail)]
        if not sends:
            return []
        context = mail_context(row, who, people, deadlines, note, payload, self.org)
        context["base_url"] = self.mailer.settings.base_url
        job = MailJob(row, context, self.now, deadlines)
        rows: list[OutboxMessage] = []
        for mail in sends:
            rows += self.mailer.rows(mail, directory.recipients(mail.to, people, row.data, who), job)
        return rows


def mail_context(row: Trajectory, who: Actor, people: dict[str, Person],
                 deadlines: list[DeadlineRow], note: str | None,
                 payload: dict[str, Any], org: Organisation) -> dict[str, Any]:
    from flows import all_flows

    flow = all_flows()[row.flow].flow
    words = directory.words_of(org)
    return {
        "org": {"name": org.name, "slug": org.slug},
        "words": {**asdict(words), "Council": words.council[:1].upper() + words.council[1:],
                  "the_secretariat": words.the_secretariat},
        "trajectory": {"id": row.id, "title": row.title, "flow_title": flow.title,
                       "state_label": flow.state(row.state).label},
        "data": dict(row.data),
        "payload": payload,
        "note": note or "",
        "actor": {"name": who.name, "email": who.email},
        "names": {p.email: p.name for p in people.values()},
        "deadlines": {d.name: {"label": d.label, "due": d.due, "explanation": d.explanation}
                      for d in active_deadlines(deadlines).values()},
    }
