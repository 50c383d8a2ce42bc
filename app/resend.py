"""Send a member's personal link again, while their call is open.

A member who lost the mail of a call (or never got it: a full mailbox, a typo since fixed) asks
the secretariat. The secretariat queues the call's own invitation again, to that member only,
with a fresh personal link made the normal way (signed, valid until the sign-up term ends), and
the history says who sent it to whom. Only while the call's sign-up term runs and the trajectory
is not suspended, and only to someone the call went to.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import col, select

from app import directory
from app.mailer import MailJob
from app.service import Service
from app.writer import mail_context
from engine import inputs
from engine.calls import Call
from engine.clock import local_today
from engine.errors import InvalidInput, NotAllowed, NotFound
from engine.machine import CompiledFlow
from storage.db import transaction
from storage.tables import DeadlineRow, HistoryEntry, Organisation, Trajectory

#: Who may send a link again.
MAY_RESEND = ("secretariat",)
#: The history entry's event (its Dutch label is in app.views.EVENT_LABELS).
LINK_RESENT = "link_resent"
GONE = "Dit traject bestaat niet, of het hoort niet bij jouw organisatie."


def open_call(compiled: CompiledFlow, row: Trajectory, deadlines: list[DeadlineRow],
              today: date) -> Call | None:
    """The trajectory's call whose sign-up term runs today (not suspended, not past its end)."""
    if row.data.get("suspended_on"):
        return None
    calls: tuple[Call, ...] = compiled.flow.calls
    for call in calls:
        if any(d.name == call.window and d.status == "running" and d.due >= today
               for d in deadlines):
            return call
    return None


def resend_link(service: Service, org_id: int, actor_email: str, trajectory_id: int,
                member_email: str) -> str:
    """Queue the open call's invitation again for one person it went to; returns their name."""
    now, today = service.clock.now(), local_today(service.clock)
    with transaction(service.engine) as session:
        row = session.get(Trajectory, trajectory_id)
        if row is None or row.organisation_id != org_id:
            raise NotFound(GONE)
        org = session.get(Organisation, org_id)
        assert org is not None
        people = directory.people(session, org_id)
        actor = directory.actor(people, actor_email, row.data, directory.chairs_of(org))
        if not actor.roles & set(MAY_RESEND):
            raise NotAllowed(f"Alleen {directory.words_of(org).the_secretariat} kan een "
                             "persoonlijke link opnieuw sturen.")
        deadlines = list(session.exec(select(DeadlineRow).where(
            DeadlineRow.trajectory_id == row.id).order_by(col(DeadlineRow.id))).all())
        call = open_call(service.compiled_for(row), row, deadlines, today)
        if call is None:
            raise NotAllowed("De oproep van dit traject is niet open. Een persoonlijke link "
                             "opnieuw sturen kan alleen zolang de aanmelding loopt.")
        address = inputs.check_email(member_email)
        person = people.get(address)
        if person is None or call.role not in (person.roles or []):
            raise InvalidInput(f"{address} heeft deze oproep niet gekregen, dus er is geen "
                               "persoonlijke link om opnieuw te sturen.")
        context: dict[str, Any] = {
            **mail_context(row, actor, people, deadlines, None, {}, org),
            "base_url": service.settings.base_url}
        session.add_all(service.mailer.rows(call.invite(), [person],
                                            MailJob(row, context, now, deadlines)))
        assert row.id is not None
        session.add(HistoryEntry(trajectory_id=row.id, at=now, actor=actor.email,
                                 event=LINK_RESENT, from_state=row.state, to_state=row.state,
                                 payload={"member": address}))
        return person.name
