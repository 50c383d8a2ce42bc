"""Small helpers the tests share: reading the outbox and walking a trajectory forward."""

from __future__ import annotations

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
