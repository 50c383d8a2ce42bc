"""A person's own calendar of deadlines (ICS), to subscribe to in Outlook or on a phone.

The address holds a random secret (256 bits); whoever has the address may read the calendar,
so the database keeps only the secret's SHA-256, and the secret is shown once, right after it
was made. A person has at most one live address: a new one ends the old one; stopping ends it.
An ended, unknown or malformed address, or one of a person without roles, does not exist.

The calendar has one all-day event per deadline that concerns the person: for the staff
(secretariat, liaison, chair) every running, suspended or overdue deadline of the
organisation; for anyone else those of the trajectories that name them.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from icalendar import Calendar, Event
from sqlmodel import Session, col, select

from app.my_work import naming
from app.service import Service
from engine import labels
from engine.clock import local_today
from engine.errors import NotFound
from storage.db import transaction
from storage.tables import (
    ACTIVE_DEADLINE,
    CalendarFeed,
    DeadlineRow,
    Organisation,
    Person,
    Trajectory,
    as_utc,
)

#: Who sees every deadline of the organisation (as web.site.STAFF).
STAFF = ("secretariat", "liaison", "chair")
SECRET = re.compile(r"^[A-Za-z0-9_-]{43}$")  # secrets.token_urlsafe(32)
GONE = "Deze agenda bestaat niet."
PRODID = "-//Adviestraject//Termijnen//NL"
#: At most this many deadlines in one calendar (the soonest).
MAX_EVENTS = 2000


def hashed(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def feed_url(service: Service, secret: str) -> str:
    return f"{service.settings.base_url.rstrip('/')}/agenda/{secret}.ics"


# --- making, ending, finding an address -------------------------------------------------------


def live_since(service: Service, person_id: int) -> datetime | None:
    """When the person's live address was made; None when they have none."""
    with Session(service.engine) as session:
        row = session.exec(_live(person_id).order_by(col(CalendarFeed.id).desc())).first()
        return as_utc(row.created_at) if row else None


def make(service: Service, person_id: int) -> str:
    """A new address for the person (the old one stops working); returns the secret, which is
    not kept and cannot be read back."""
    secret = secrets.token_urlsafe(32)
    now = service.clock.now()
    with transaction(service.engine) as session:
        _end(session, person_id, now)
        session.add(CalendarFeed(person_id=person_id, secret_hash=hashed(secret), created_at=now))
    return secret


def revoke(service: Service, person_id: int) -> bool:
    """Stop the person's address; whether there was one."""
    with transaction(service.engine) as session:
        return _end(session, person_id, service.clock.now()) > 0


def _live(person_id: int) -> Any:
    return select(CalendarFeed).where(CalendarFeed.person_id == person_id,
                                      col(CalendarFeed.revoked_at).is_(None))


def _end(session: Session, person_id: int, now: datetime) -> int:
    rows = session.exec(_live(person_id)).all()
    for row in rows:
        row.revoked_at = now
        session.add(row)
    return len(rows)


def _owner(session: Session, secret: str) -> tuple[Person, Organisation]:
    if not SECRET.match(secret):
        raise NotFound(GONE)
    found = session.exec(select(CalendarFeed, Person, Organisation).where(
        CalendarFeed.secret_hash == hashed(secret), col(CalendarFeed.revoked_at).is_(None),
        CalendarFeed.person_id == Person.id, Person.organisation_id == Organisation.id)).first()
    if found is None or not found[1].roles:
        raise NotFound(GONE)
    return found[1], found[2]


# --- the calendar ------------------------------------------------------------------------------


def calendar(service: Service, secret: str) -> bytes:
    """The ICS text behind an address; NotFound when the address does not (or no longer) work."""
    today = local_today(service.clock)
    with Session(service.engine) as session:
        person, org = _owner(session, secret)
        assert org.id is not None
        rows = _deadlines(session, person, org.id)
        events = [_event(service, row, title, today) for row, title in rows]
        name = f"Termijnen {org.name}"
    return _ics(name, events)


def _deadlines(session: Session, person: Person, org_id: int) -> Sequence[tuple[DeadlineRow, str]]:
    query = (select(DeadlineRow, Trajectory.title)
             .where(DeadlineRow.trajectory_id == Trajectory.id,
                    DeadlineRow.organisation_id == org_id,
                    col(DeadlineRow.status).in_(ACTIVE_DEADLINE)))
    if not set(person.roles) & set(STAFF):
        ids = [row.id for row in naming(session, org_id, person.email)]
        query = query.where(col(Trajectory.id).in_(ids))
    return session.exec(query.order_by(col(DeadlineRow.due), col(DeadlineRow.id))
                        .limit(MAX_EVENTS)).all()


def _event(service: Service, row: DeadlineRow, title: str, today: date) -> Event:
    overdue = row.status == "overdue" or (row.status == "running" and row.due < today)
    status = "verlopen" if overdue else labels.status(row.status)
    url = f"{service.settings.base_url.rstrip('/')}/trajecten/{row.trajectory_id}"
    event = Event()
    event.add("uid", f"termijn-{row.id}@{service.mailer.domain}")
    event.add("dtstamp", service.clock.now().astimezone(UTC))
    event.add("dtstart", row.due)
    event.add("dtend", row.due + timedelta(days=1))
    event.add("summary", f"{'Verlopen: ' if overdue else ''}{_capital(row.label)}: {title}")
    event.add("description", f"Status: {status}.\n{row.explanation}\n\nTraject: {url}")
    event.add("url", url)
    event.add("transp", "TRANSPARENT")
    event.add("categories", ["Termijn"])
    return event


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _ics(name: str, events: Sequence[Event]) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", "Europe/Amsterdam")
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    for event in events:
        calendar.add_component(event)
    return bytes(calendar.to_ical())
