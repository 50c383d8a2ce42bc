"""The liaison's half-year planning (seed 004 ch. 13): the advice requests expected.

The liaison (or the secretariat) records each expected request: a title, the expected date,
the policy adviser and, when known, the flow it will start with. Every change (add, edit,
cancel) mails the whole current planning to the organisation's chairs (everyone with the role
`chair`), in the same transaction as the change, through the outbox.

Three weeks before the expected date of a request that has no trajectory yet, the worker
reminds the liaison(s) and the item's policy adviser, once: `reminded_at` is set by a
conditional UPDATE (`WHERE reminded_at IS NULL`) in the transaction that writes the mail, so
two workers never both send it. A moved expected date moves the reminder: when the new
reminder day still lies ahead, a reminder already sent no longer counts and a new one goes
three weeks before the new date; when it does not (the new date is within three weeks), a
reminder already sent stands for the new date too.

`advies start FLOW --planned ID` links an item to the new trajectory in the start's own
transaction (`link`): the item is then `started` and leaves the planning.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, Table, update
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from app import directory
from engine import inputs
from engine.clock import local_today
from engine.errors import Conflict, InvalidInput, NotAllowed, NotFound
from engine.terms import format_date, latest_day
from notifications.formatting import long_date
from notifications.message import Party, build
from storage.db import busy, detached, is_busy, transaction
from storage.tables import Organisation, OutboxMessage, Person, PlanningItem

if TYPE_CHECKING:
    from app.service import Service

log = logging.getLogger("advies.planning")

#: The reminder goes this long before the expected date.
REMIND_BEFORE = timedelta(weeks=3)
#: Who may add, change and cancel planned requests.
PLANNERS = ("liaison", "secretariat")
CHANGED = "planning_changed"
REMINDER = "planning_reminder"
#: How many due reminders one worker pass takes on (the rest follow on the next pass).
REMINDERS_PER_PASS = 200
CONFLICT = ("Iemand anders heeft dit verzoek in de planning net gewijzigd. Bekijk de planning "
            "opnieuw en probeer het nog eens.")

planning_table: Table = PlanningItem.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Changes:
    """What an edit changes; None keeps the value. An empty `flow` removes the flow."""

    title: str | None = None
    expected: str | None = None
    policy_adviser: str | None = None
    flow: str | None = None


class FieldRefused(InvalidInput):
    """Bad input for one field of the planning's forms (`field`: its name there)."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name


@contextmanager
def _about(field_name: str) -> Iterator[None]:
    """A refusal of the input inside is a refusal of this field."""
    try:
        yield
    except InvalidInput as error:
        raise FieldRefused(field_name, error.message) from error


@dataclass
class ReminderReport:
    items: int = 0
    mails: int = 0
    failed: int = 0


# --- reading ---------------------------------------------------------------------------------


def listed(engine: Engine, org_slug: str | None = None, *, everything: bool = False
           ) -> list[dict[str, Any]]:
    """The planning, by expected date: the planned requests, or `everything` (also started and
    cancelled ones); of one organisation, or of all."""
    with Session(engine) as session:
        query = select(PlanningItem, Organisation.slug).join(
            Organisation, col(Organisation.id) == PlanningItem.organisation_id)
        if org_slug is not None:
            org = directory.organisation(session, org_slug)
            query = query.where(PlanningItem.organisation_id == _id(org))
        if not everything:
            query = query.where(PlanningItem.status == "planned")
        rows = session.exec(query.order_by(col(PlanningItem.expected_on), col(PlanningItem.id))).all()
    return [as_dict(item, slug) for item, slug in rows]


def as_dict(item: PlanningItem, org_slug: str) -> dict[str, Any]:
    """One item as `advies planning list --json` prints it."""
    return {
        "id": item.id, "organisation": org_slug, "title": item.title,
        "expected_on": item.expected_on.isoformat(), "policy_adviser": item.policy_adviser,
        "flow": item.flow, "status": item.status, "trajectory_id": item.trajectory_id,
        "remind_on": item.remind_on.isoformat(),
        "reminded_at": item.reminded_at.isoformat() if item.reminded_at else None,
        "note": item.note,
    }


def one(engine: Engine, item_id: int, org_id: int | None = None) -> PlanningItem:
    """One item; of that organisation when `org_id` is given (another's does not exist)."""
    with Session(engine) as session:
        return _item(session, item_id, org_id)


def still_open(engine: Engine, item_id: int, org_id: int) -> dict[str, Any]:
    """A planned request of the organisation, as `as_dict` shows it (to change or cancel it)."""
    with Session(engine) as session:
        item = _item(session, item_id, org_id)
        still_planned(item)
        org = session.get(Organisation, org_id)
        assert org is not None
        return as_dict(item, org.slug)


def advisers(engine: Engine, org_id: int) -> list[tuple[str, str]]:
    """(e-mail, 'Name (e-mail)') of the organisation's policy advisers, by name."""
    with Session(engine) as session:
        people = directory.people(session, org_id).values()
    return sorted(((p.email, f"{p.name} ({p.email})") for p in people if "policy_adviser" in p.roles),
                  key=lambda pair: pair[1].lower())


def _item(session: Session, item_id: int, org_id: int | None = None) -> PlanningItem:
    found = session.get(PlanningItem, item_id)
    if found is None or (org_id is not None and found.organisation_id != org_id):
        raise NotFound(f"Verzoek {item_id} staat niet in de planning.")
    return found


def flow_titles(service: Service) -> dict[str, str]:
    return {name: compiled.flow.title for name, compiled in service.flows.items()}


# --- changing --------------------------------------------------------------------------------


def add(service: Service, org_slug: str, title: str, expected: str, policy_adviser: str,
        flow: str | None, actor: str) -> dict[str, Any]:
    """Record an expected request and mail the planning to the chairs."""
    today = service_today(service)
    with _writing(service.engine) as session:
        org = directory.organisation(session, org_slug)
        people = directory.people(session, _id(org))
        who = _planner(people, actor, org)
        now = service.clock.now()
        values = _checked(service, org, people, Changes(title, expected, policy_adviser, flow), today)
        item = PlanningItem(organisation_id=_id(org), **values,
                            remind_on=values["expected_on"] - REMIND_BEFORE, created_at=now, updated_at=now)
        session.add(item)
        session.flush()
        Mails(service, session, org, people).changed(who, "added", item, [])
        return as_dict(item, org.slug)


def edit(service: Service, item_id: int, actor: str, changes: Changes,
         org_id: int | None = None) -> dict[str, Any]:
    """Change a planned request; the chairs get the planning with what changed."""
    today = service_today(service)
    with _writing(service.engine) as session:
        item, org, people = _planned(session, item_id, org_id)
        who = _planner(people, actor, org)
        values = _changed_values(service, item, org, people, changes, today)
        lines = _change_lines(item, values, people, flow_titles(service))
        if not lines:
            raise InvalidInput("Er verandert niets: geef een nieuwe titel, datum, beleidsadviseur of stroom.")
        _update(session, item, {**values, **_reminder_after(item, values, today)},
                service.clock.now())
        Mails(service, session, org, people).changed(who, "changed", item, lines)
        return as_dict(item, org.slug)


def cancel(service: Service, item_id: int, actor: str, note: str | None = None,
           org_id: int | None = None) -> dict[str, Any]:
    """The request is no longer expected; the chairs get the planning without it."""
    with _about("note"):
        checked = inputs.check_note(note)
    with _writing(service.engine) as session:
        item, org, people = _planned(session, item_id, org_id)
        who = _planner(people, actor, org)
        _update(session, item, {"status": "cancelled", "note": checked}, service.clock.now())
        Mails(service, session, org, people).changed(who, "cancelled", item, [])
        return as_dict(item, org.slug)


def link(conn: Connection, item_id: int, org_id: int, trajectory_id: int, flow: str,
         now: datetime) -> None:
    """Mark a planned request as started by this trajectory, in the start's transaction."""
    found = conn.execute(planning_table.select().where(planning_table.c.id == item_id)).mappings().first()
    if found is None or found["organisation_id"] != org_id:
        raise NotFound(f"Verzoek {item_id} staat niet in de planning van deze organisatie.")
    item = detached(PlanningItem, found)
    still_planned(item)
    if item.flow and item.flow != flow:
        raise InvalidInput(f"Verzoek {item_id} staat in de planning met de stroom '{item.flow}': "
                           f"start die stroom, of wijzig eerst de planning.")
    done = conn.execute(update(planning_table).where(
        planning_table.c.id == item_id, planning_table.c.status == "planned",
        planning_table.c.version == item.version).values(
        status="started", trajectory_id=trajectory_id, updated_at=now, version=item.version + 1))
    if done.rowcount != 1:
        raise Conflict(CONFLICT)


def service_today(service: Service) -> date:
    return local_today(service.clock)


@contextmanager
def _writing(engine: Engine) -> Iterator[Session]:
    """One transaction; a database that stayed busy is said so (exit 4)."""
    try:
        with transaction(engine) as session:
            yield session
    except Exception as error:
        if is_busy(error):
            raise busy(engine) from error
        raise


def _planned(session: Session, item_id: int, org_id: int | None
             ) -> tuple[PlanningItem, Organisation, dict[str, Person]]:
    item = _item(session, item_id, org_id)
    still_planned(item)
    org = session.get(Organisation, item.organisation_id)
    assert org is not None
    return item, org, directory.people(session, _id(org))


def still_planned(item: PlanningItem) -> None:
    if item.status == "started":
        raise NotAllowed(f"Verzoek {item.id} is al gestart als traject {item.trajectory_id} en "
                         "kan niet meer veranderen.")
    if item.status == "cancelled":
        raise NotAllowed(f"Verzoek {item.id} is geschrapt en kan niet meer veranderen.")


def _planner(people: dict[str, Person], actor: str, org: Organisation) -> Person:
    """The actor, when they are the organisation's liaison or secretariat."""
    person = people.get(actor.strip().lower())
    if person is None or not person.roles:
        raise NotFound(f"{actor.strip()} staat niet in het bestand van {org.name}.")
    if not set(PLANNERS) & set(person.roles):
        raise NotAllowed("Alleen de verbindingsmedewerker of het secretariaat mag de planning wijzigen.")
    return person


def _expected(text: str, today: date) -> date:
    day = inputs.parse_day(text, "De verwachte datum")
    if day < today:
        raise InvalidInput(f"De verwachte datum {format_date(day)} is al voorbij: kies vandaag of later.")
    if day > latest_day(today):
        raise InvalidInput(f"De verwachte datum {format_date(day)} ligt te ver weg: kies een datum "
                           f"vóór {format_date(latest_day(today))}.")
    return day


def _adviser(people: dict[str, Person], text: str) -> str:
    email = inputs.check_email(text, "e-mailadres voor de beleidsadviseur")
    person = people.get(email)
    if person is None or "policy_adviser" not in person.roles:
        raise InvalidInput(f"{email} is geen beleidsadviseur van deze organisatie.")
    return email


def _flow(service: Service, org: Organisation, name: str | None) -> str | None:
    """The flow the request will start with: one the organisation uses; empty: not known yet."""
    if name is None or not name.strip():
        return None
    cleaned = name.strip()
    uses = list(org.flows or service.flows)
    if cleaned not in service.flows or cleaned not in uses:
        raise InvalidInput(f"De stroom '{cleaned}' kan niet: {org.name} gebruikt {', '.join(uses)}.")
    return cleaned


def _checked(service: Service, org: Organisation, people: dict[str, Person], changes: Changes,
             today: date) -> dict[str, Any]:
    """The given values, checked, by column; a refusal names its field."""
    values: dict[str, Any] = {}
    if changes.title is not None:
        with _about("title"):
            values["title"] = inputs.check_line(changes.title, "De titel")
    if changes.expected is not None:
        with _about("expected"):
            values["expected_on"] = _expected(changes.expected, today)
    if changes.policy_adviser is not None:
        with _about("policy_adviser"):
            values["policy_adviser"] = _adviser(people, changes.policy_adviser)
    if changes.flow is not None:
        with _about("flow"):
            values["flow"] = _flow(service, org, changes.flow)
    return values


def _changed_values(service: Service, item: PlanningItem, org: Organisation,
                    people: dict[str, Person], changes: Changes, today: date) -> dict[str, Any]:
    values = _checked(service, org, people, changes, today)
    return {key: value for key, value in values.items() if getattr(item, key) != value}


def _reminder_after(item: PlanningItem, values: dict[str, Any], today: date) -> dict[str, Any]:
    """A new expected date moves the reminder (see the module's documentation)."""
    if "expected_on" not in values:
        return {}
    remind_on = values["expected_on"] - REMIND_BEFORE
    moved: dict[str, Any] = {"remind_on": remind_on}
    if remind_on > today:
        moved["reminded_at"] = None
    return moved


def _change_lines(item: PlanningItem, values: dict[str, Any], people: dict[str, Person],
                  titles: dict[str, str]) -> list[str]:
    """What changed, one Dutch line each, for the chairs' mail."""
    def shown(key: str, value: Any) -> str:
        if key == "expected_on":
            return long_date(value)
        if key == "policy_adviser":
            return _name(people, value)
        if key == "flow":
            return titles.get(value, value) if value else "nog niet bekend"
        return str(value)

    names = {"title": "Titel", "expected_on": "Verwachte datum", "policy_adviser": "Beleidsadviseur",
             "flow": "Soort traject"}
    return [f"{names[key]}: {shown(key, getattr(item, key))} wordt {shown(key, value)}"
            for key, value in values.items()]


def _update(session: Session, item: PlanningItem, values: dict[str, Any], now: datetime) -> None:
    """Write the change when the item is still as read; someone else first is a conflict."""
    done = session.connection().execute(update(planning_table).where(
        planning_table.c.id == item.id, planning_table.c.version == item.version,
        planning_table.c.status == "planned").values(
        **values, updated_at=now, version=item.version + 1))
    if done.rowcount != 1:
        raise Conflict(CONFLICT)
    session.expire(item)
    session.refresh(item)


def _name(people: dict[str, Person], email: str) -> str:
    person = people.get(email)
    return f"{person.name} ({email})" if person else email


def _id(row: Organisation) -> int:
    assert row.id is not None
    return row.id


# --- the reminder ----------------------------------------------------------------------------


def send_reminders(service: Service) -> ReminderReport:
    """Remind the liaison(s) and the policy adviser of every planned request whose reminder
    day has come and that has not been reminded; each item in its own transaction."""
    report = ReminderReport()
    for item_id in due_for_reminder(service.engine, service_today(service)):
        try:
            with _writing(service.engine) as session:
                mails = _remind(service, session, item_id)
        except Exception as error:  # one item never stops the others
            report.failed += 1
            log.error("Herinnering voor planning %s niet gemaakt (%s).", item_id, type(error).__name__)
            log.debug("Oorzaak", exc_info=error)
            continue
        if mails:
            report.items += 1
            report.mails += mails
    return report


def due_for_reminder(engine: Engine, today: date) -> list[int]:
    """The planned items due for their reminder, at most REMINDERS_PER_PASS."""
    with Session(engine) as session:
        return [i for i in session.exec(due_for_reminder_query(today)).all() if i is not None]


def due_for_reminder_query(today: date) -> SelectOfScalar[Any]:
    """One range read of ix_planning_item_reminder (status, reminded_at, remind_on), in its order."""
    return (select(PlanningItem.id).where(PlanningItem.status == "planned",
                                          col(PlanningItem.reminded_at).is_(None),
                                          PlanningItem.remind_on <= today)
            .order_by(col(PlanningItem.remind_on)).limit(REMINDERS_PER_PASS))


def _remind(service: Service, session: Session, item_id: int) -> int:
    """Claim the item's reminder (only one transaction can) and write its mails."""
    now = service.clock.now()
    claimed = session.connection().execute(update(planning_table).where(
        planning_table.c.id == item_id, planning_table.c.status == "planned",
        planning_table.c.reminded_at.is_(None)).values(reminded_at=now))
    if claimed.rowcount != 1:
        return 0  # another worker was first, or the item changed since it was read
    item = session.get(PlanningItem, item_id)
    assert item is not None
    org = session.get(Organisation, item.organisation_id)
    assert org is not None
    return Mails(service, session, org, directory.people(session, _id(org))).reminder(item)


# --- the mails -------------------------------------------------------------------------------


@dataclass
class Mails:
    """The planning's mails of one organisation, queued in the caller's transaction."""

    service: Service
    session: Session
    org: Organisation
    people: dict[str, Person]
    titles: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.titles = flow_titles(self.service)

    def changed(self, who: Person, kind: str, item: PlanningItem, lines: list[str]) -> int:
        """The whole current planning to every chair, saying what changed."""
        chairs = [p for p in self.people.values() if "chair" in p.roles]
        if not chairs:
            return 0
        context = {**self._common(), "kind": kind, "item": self._item(item), "lines": lines,
                   "actor": {"name": who.name}, "items": self._planned()}
        self.session.add_all([self._message(CHANGED, person, context) for person in chairs])
        return len(chairs)

    def reminder(self, item: PlanningItem) -> int:
        """The reminder to the liaison(s) and the item's policy adviser, each once."""
        emails = [p.email for p in self.people.values() if "liaison" in p.roles]
        emails.append(item.policy_adviser)
        recipients = [self.people[e] for e in dict.fromkeys(emails)
                      if e in self.people and self.people[e].roles]
        context = {**self._common(), "item": self._item(item)}
        self.session.add_all([self._message(REMINDER, person, context) for person in recipients])
        return len(recipients)

    def _common(self) -> dict[str, Any]:
        words = directory.words_of(self.org)
        return {"org": {"name": self.org.name, "slug": self.org.slug},
                "words": {"council": words.council, "secretariat": words.the_secretariat},
                "base_url": self.service.settings.base_url}

    def _planned(self) -> list[dict[str, Any]]:
        rows = self.session.exec(select(PlanningItem).where(
            PlanningItem.organisation_id == self.org.id, PlanningItem.status == "planned")
            .order_by(col(PlanningItem.expected_on), col(PlanningItem.id))).all()
        return [self._item(row) for row in rows]

    def _item(self, item: PlanningItem) -> dict[str, Any]:
        return {"id": item.id, "title": item.title, "expected_on": item.expected_on,
                "policy_adviser": _name(self.people, item.policy_adviser),
                "flow": item.flow, "flow_title": self.titles.get(item.flow, "nog niet bekend")
                if item.flow else "nog niet bekend", "note": item.note}

    def _message(self, template: str, person: Person, context: dict[str, Any]) -> OutboxMessage:
        mailer, now = self.service.mailer, self.service.clock.now()
        content = mailer.renderer.render(
            template, {**context, "recipient": {"name": person.name, "email": person.email}})
        message_id = f"<{uuid.uuid4().hex}@{mailer.domain}>"
        raw = build(sender=mailer.sender, recipient=Party(person.name, person.email),
                    content=content, message_id=message_id, sent_at=now)
        return OutboxMessage(
            trajectory_id=None, message_id=message_id, template=template,
            sender=mailer.sender.email, recipient=person.email, subject=content.subject, raw=raw,
            next_attempt_at=now, created_at=now)
