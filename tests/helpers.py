"""Small helpers the tests share: reading the outbox and walking a trajectory forward."""

from __future__ import annotations

import email
import email.policy
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, select

from app.service import Service
from engine.clock import FrozenClock
from storage.tables import OutboxMessage

SECRETARIAT = "secretariaat@example.org"
LIAISON = "verbinding@example.org"
ADVISER = "beleid@example.org"
MEMBERS = ["anna", "bram", "cor", "dewi", "els", "farid", "gerda", "hamid"]


def member(name: str) -> str:
    return f"{name}@example.org"


def outbox(engine: Engine, trajectory_id: int | None = None) -> list[OutboxMessage]:
    with Session(engine) as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if trajectory_id is not None:
            query = query.where(OutboxMessage.trajectory_id == trajectory_id)
        return list(session.exec(query).all())


def mails_to(engine: Engine, template: str) -> list[str]:
    return [m.recipient for m in outbox(engine) if m.template == template]


def start(service: Service, **extra: str) -> dict[str, Any]:
    raw = {"policy_adviser": ADVISER, "received_on": "2026-03-24", **extra}
    return service.start("asked_advice", "demo", "Regiovisie beschermd wonen", SECRETARIAT, raw)


def to_matching(service: Service, clock: FrozenClock, signups: int = 6) -> int:
    """Start, call and sign up `signups` members, then close the call; returns the id."""
    tid = int(start(service)["id"])
    service.fire(tid, "call_participants", SECRETARIAT)
    for name in MEMBERS[:signups]:
        service.fire(tid, "sign_up", member(name))
    clock.advance(timedelta(days=3))
    service.fire(tid, "close_signup", SECRETARIAT)
    return tid


def to_awaiting_response(service: Service, clock: FrozenClock) -> int:
    tid = to_matching(service, clock)
    service.fire(tid, "first_meeting_held", SECRETARIAT)
    service.fire(tid, "choose_contact", SECRETARIAT, {"contact_person": member("bram")})
    service.fire(tid, "consultation_done", member("bram"))
    service.fire(tid, "send_advice", member("bram"), {"document": "Ons advies."})
    return tid


def deadline(view: dict[str, Any], name: str) -> dict[str, Any]:
    """The newest deadline of that name in a trajectory view."""
    return next(d for d in reversed(view["deadlines"]) if d["name"] == name)


def plain(row: OutboxMessage) -> str:
    """The plain-text part of an outbox message, as a mail reader shows it."""
    message = email.message_from_bytes(row.raw, policy=email.policy.default)
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


def body(engine: Engine, template: str, recipient: str) -> str:
    """The plain-text body of the last mail of `template` to `recipient`."""
    row = next(m for m in reversed(outbox(engine))
               if m.template == template and m.recipient == recipient)
    return plain(row)
