"""Privacy (AVG): forget a person, and purge sent mail bodies after the organisation's retention.

Forgetting replaces a person's address and name by a stable pseudonym wherever the database
holds them: the person row, the history of every trajectory of the organisation (actor, payload,
note), the trajectories' data and titles, and the outbox (recipient, subject, error; the body of
a mail to or about them is purged, a mail to them still waiting is not sent). The history keeps
its shape: the same rows, events and order. The pseudonym is derived from the address with the
installation's secret key, so forgetting twice gives the same pseudonym and nobody can work the
address back out of it.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import hmac
import html
import re
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import Engine, delete, exists, func, update
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, select

from app import directory
from engine.errors import Conflict, NotAllowed, NotFound
from engine.inputs import check_email
from notifications import outbox
from storage.db import transaction
from storage.tables import (
    CalendarFeed,
    HistoryEntry,
    Organisation,
    OutboxMessage,
    Person,
    SignInUsed,
    Trajectory,
    WebSession,
)

PSEUDONYM_DOMAIN = "vergeten.invalid"  # RFC 2606: never a real mailbox
NOT_SENT = "Niet verstuurd: de ontvanger is vergeten (AVG)."
WAITING = (outbox.QUEUED, outbox.SENDING)
DONE = (outbox.SENT, outbox.FAILED)
DEFAULT_RETENTION_MONTHS = 24
#: A name counts as a whole word, and not as a piece of an address ("harm" in harm.boer@…).
NOT_IN_A_WORD = r"(?<![\w.@+-])"
NOT_BEFORE_A_WORD = r"(?![\w@-]|\.\w)"


@dataclass(frozen=True)
class Pseudonym:
    email: str
    name: str


@dataclass
class Forgotten:
    """What `forget` changed."""

    pseudonym: Pseudonym
    already_forgotten: bool = False
    trajectories: int = 0
    history: int = 0
    mails: int = 0
    purged: int = 0
    cancelled: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"pseudonym": {"email": self.pseudonym.email, "name": self.pseudonym.name},
                "already_forgotten": self.already_forgotten, "trajectories": self.trajectories,
                "history": self.history, "mails": self.mails, "purged": self.purged,
                "cancelled": self.cancelled}


def pseudonym_email(secret: str, org_slug: str, address: str) -> str:
    """`vergeten-<12 hex>@vergeten.invalid`: the same for the same person, not reversible."""
    digest = hmac.new(secret.encode(), f"vergeten\n{org_slug}\n{address}".encode(), hashlib.sha256)
    return f"vergeten-{digest.hexdigest()[:12]}@{PSEUDONYM_DOMAIN}"


def pseudonym_name(person_id: int) -> str:
    return f"Vergeten persoon {person_id}"


class Scrubber:
    """Finds and replaces one person's address and name in text and in JSON values."""

    def __init__(self, address: str, name: str | None, pseudonym: Pseudonym) -> None:
        self.address = address
        self.pseudonym = pseudonym
        self._address = re.compile(re.escape(address), re.IGNORECASE)
        self._name = re.compile(rf"{NOT_IN_A_WORD}{re.escape(name.strip())}{NOT_BEFORE_A_WORD}",
                                re.IGNORECASE) if name and name.strip() else None

    def text(self, value: str) -> str:
        value = self._address.sub(self.pseudonym.email, value)
        return self._name.sub(self.pseudonym.name, value) if self._name else value

    def value(self, value: Any) -> Any:
        """The same JSON value with every string (and every key) scrubbed."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, dict):
            return {self.text(k) if isinstance(k, str) else k: self.value(v) for k, v in value.items()}
        return value

    def mentions(self, value: str) -> bool:
        return self.text(value) != value

    def holds(self, value: Any) -> bool:
        """True when the address is a value (or key) somewhere in a JSON value: a group,
        a list of sign-ups, a contact person, a policy adviser."""
        if isinstance(value, str):
            return value.strip().lower() == self.address
        if isinstance(value, list):
            return any(self.holds(v) for v in value)
        if isinstance(value, dict):
            return any(self.holds(k) or self.holds(v) for k, v in value.items())
        return False


# --- forgetting -------------------------------------------------------------------------------


def forget(engine: Engine, secret: str, org_slug: str, address: str, now: datetime) -> Forgotten:
    """Replace the person by their pseudonym everywhere, in one transaction (or not at all)."""
    address = check_email(address)
    try:
        with transaction(engine) as session:
            return _forget(session, secret, org_slug, address, now)
    except StaleDataError as error:
        raise Conflict("Iemand anders wijzigde net een traject van deze organisatie. "
                       "Probeer het nog eens.") from error


def _forget(session: Session, secret: str, org_slug: str, address: str,
            now: datetime) -> Forgotten:
    org = directory.organisation(session, org_slug)
    assert org.id is not None
    pseudo_address = pseudonym_email(secret, org.slug, address)
    person = _person(session, org.id, address)
    earlier = _person(session, org.id, pseudo_address)
    if person is None and earlier is None:
        raise NotFound(f"In {org.name} staat niemand met het adres {address}.")
    keeper = earlier or person
    assert keeper is not None
    assert keeper.id is not None
    pseudonym = Pseudonym(pseudo_address, pseudonym_name(keeper.id))
    scrub = Scrubber(address, person.name if person else None, pseudonym)
    trajectories = list(session.exec(select(Trajectory).where(Trajectory.organisation_id == org.id)
                                     .order_by(col(Trajectory.id))))
    _refuse_while_running(trajectories, scrub)
    if person is not None:
        _refuse_while_in_the_file(person, org)
    found = Forgotten(pseudonym, already_forgotten=person is None)
    found.trajectories = _scrub_trajectories(session, trajectories, scrub)
    found.history = _scrub_history(session, [t.id for t in trajectories if t.id is not None], scrub)
    _scrub_outbox(session, [t.id for t in trajectories if t.id is not None], scrub, now, found)
    _replace_person(session, person, earlier, pseudonym)
    return found


def _person(session: Session, org_id: int, address: str) -> Person | None:
    return session.exec(select(Person).where(Person.organisation_id == org_id,
                                             Person.email == address)).first()


def _refuse_while_running(trajectories: list[Trajectory], scrub: Scrubber) -> None:
    from flows import all_flows

    flows = all_flows()
    running = [t for t in trajectories
               if not flows[t.flow].flow.state(t.state).final and scrub.holds(t.data)]
    if running:
        numbers = ", ".join(str(t.id) for t in running)
        raise NotAllowed(
            f"{scrub.address} doet nog mee aan een lopend traject ({numbers}); vergeten kan pas "
            "als dat traject klaar is of deze persoon er niet meer in staat.")


def _refuse_while_in_the_file(person: Person, org: Organisation) -> None:
    if person.roles:
        raise NotAllowed(
            f"{person.email} staat nog met een rol in het bestand van {org.name}; haal deze "
            "persoon daar eerst uit en laad het bestand opnieuw met 'advies org load'.")


def _scrub_trajectories(session: Session, trajectories: list[Trajectory], scrub: Scrubber) -> int:
    changed = 0
    for row in trajectories:
        data, title = scrub.value(row.data), scrub.text(row.title)
        if data != row.data or title != row.title:
            row.data, row.title = data, title
            session.add(row)
            changed += 1
    session.flush()
    return changed


def _scrub_history(session: Session, trajectory_ids: list[int], scrub: Scrubber) -> int:
    """Every row stays, with its event, states, time and order; only who and what change."""
    changed = 0
    rows = session.exec(select(HistoryEntry).where(col(HistoryEntry.trajectory_id).in_(trajectory_ids))
                        .order_by(col(HistoryEntry.id)))
    for row in rows:
        actor, payload = scrub.text(row.actor), scrub.value(row.payload)
        note = scrub.text(row.note) if row.note is not None else None
        if (actor, payload, note) != (row.actor, row.payload, row.note):
            row.actor, row.payload, row.note = actor, payload, note
            session.add(row)
            changed += 1
    return changed


def _scrub_outbox(session: Session, trajectory_ids: list[int], scrub: Scrubber, now: datetime,
                  found: Forgotten) -> None:
    """Mail of the organisation's trajectories, and mail that belongs to none (digests)."""
    belongs = (col(OutboxMessage.trajectory_id).in_(trajectory_ids)
               | col(OutboxMessage.trajectory_id).is_(None))
    rows = list(session.exec(select(OutboxMessage).where(belongs).order_by(col(OutboxMessage.id))))
    _refuse_while_mail_about_them_waits(rows, scrub)
    for row in rows:
        to_them = row.recipient.lower() == scrub.address
        about_them = bool(row.raw) and scrub.mentions(readable(row.raw))
        if to_them and row.status in WAITING:
            row.status, row.last_error, row.claimed_until = outbox.FAILED, NOT_SENT, None
            found.cancelled += 1
        if to_them or about_them or _names(row, scrub):
            _scrub_mail(row, scrub, now, found)
            session.add(row)


def _refuse_while_mail_about_them_waits(rows: list[OutboxMessage], scrub: Scrubber) -> None:
    waiting = [r for r in rows if r.status in WAITING and r.recipient.lower() != scrub.address
               and r.raw and scrub.mentions(readable(r.raw))]
    if waiting:
        numbers = ", ".join(str(r.id) for r in waiting)
        raise NotAllowed(
            f"Er wacht nog mail aan anderen waarin {scrub.address} genoemd wordt ({numbers}); "
            "vergeten kan als die verstuurd is ('advies worker --once' verstuurt haar).")


def _names(row: OutboxMessage, scrub: Scrubber) -> bool:
    return scrub.mentions(row.subject) or bool(row.last_error and scrub.mentions(row.last_error))


def _scrub_mail(row: OutboxMessage, scrub: Scrubber, now: datetime, found: Forgotten) -> None:
    row.recipient = scrub.text(row.recipient)
    row.subject = scrub.text(row.subject)
    row.last_error = scrub.text(row.last_error) if row.last_error else row.last_error
    if row.raw:
        row.raw, row.purged_at = b"", now
        found.purged += 1
    found.mails += 1


def _replace_person(session: Session, person: Person | None, earlier: Person | None,
                    pseudonym: Pseudonym) -> None:
    """The person row becomes the pseudonym; one forgotten earlier already is (then this one,
    loaded again since, goes: the history names them by the one pseudonym)."""
    if person is None:
        return
    _end_access(session, person)
    if earlier is not None:
        session.delete(person)
        return
    person.email, person.name, person.roles = pseudonym.email, pseudonym.name, []
    session.add(person)


def _end_access(session: Session, person: Person) -> None:
    """A forgotten person's sessions, used sign-in links and calendar addresses go: they are
    ways in, not history."""
    for table in (WebSession, SignInUsed, CalendarFeed):
        session.execute(delete(table).where(col(table.person_id) == person.id))


def readable(raw: bytes) -> str:
    """A stored mail as its reader sees it: the address headers, the subject and every text part
    decoded (HTML unescaped, iCalendar lines unfolded), to look for a name or an address in."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    pieces = [str(message.get(h, "")) for h in ("To", "Cc", "Subject")]
    for part in message.walk():
        if part.get_content_maintype() != "text" or part.is_multipart():
            continue
        text = str(part.get_content())
        if part.get_content_subtype() == "html":
            text = html.unescape(text)
        if part.get_content_subtype() == "calendar":
            text = re.sub(r"\r?\n[ \t]", "", text).replace("^'", '"')
        pieces.append(text)
    return "\n".join(pieces)


# --- retention --------------------------------------------------------------------------------


def purge_expired_mail(engine: Engine, now: datetime) -> int:
    """Empty the bodies of sent and failed mail older than the organisation's retention
    (`mail_retention_months`); the row and its metadata stay. Mail of no trajectory (the
    digest) follows the shortest retention of all organisations. One statement per retention
    period, not per organisation (a pass with 300 organisations). Returns how many."""
    with transaction(engine) as session:
        by_months: dict[int, list[int]] = {}
        for org_id, months in session.exec(select(Organisation.id, Organisation.mail_retention_months)):
            assert org_id is not None
            by_months.setdefault(months, []).append(org_id)
        purged = sum(_purge(session, now, months, org_ids) for months, org_ids in by_months.items())
        shortest = min(by_months, default=DEFAULT_RETENTION_MONTHS)
        return purged + _purge(session, now, shortest, None)


def _purge(session: Session, now: datetime, months: int, org_ids: list[int] | None) -> int:
    """The bodies of the mail of these organisations (None: of no trajectory) older than `months`."""
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    cutoff = now - relativedelta(months=months)
    if org_ids is None:
        belongs = table.c.trajectory_id.is_(None)
    else:
        # Looked up per mail, not `trajectory_id IN (SELECT ... of these organisations)`: SQLite
        # would build the list of every trajectory of them first (a second with a million).
        belongs = exists().where(col(Trajectory.id) == table.c.trajectory_id,
                                 col(Trajectory.organisation_id).in_(org_ids))
    statement = (update(table)
                 .where(table.c.status.in_(DONE), table.c.purged_at.is_(None),
                        func.coalesce(table.c.sent_at, table.c.created_at) < cutoff, belongs)
                 .values(raw=b"", purged_at=now))
    return int(session.execute(statement).rowcount or 0)  # type: ignore[attr-defined]
