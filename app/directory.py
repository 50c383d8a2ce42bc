"""Who is who: organisations, people and their roles, read from the database."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cached_property
from typing import Any

from sqlalchemy import Connection, bindparam
from sqlmodel import Session, select

from engine.dsl import SYSTEM, Actor, OrgGroup, OrgSettings, Recipients, Words
from engine.errors import NotFound
from storage.db import detached
from storage.tables import Organisation, Person

person_table = Person.__table__  # type: ignore[attr-defined]
#: Everyone of an organisation (built once: a call reads them for each event).
EVERYONE = person_table.select().where(person_table.c.organisation_id == bindparam("org_id"))


def organisation(session: Session, slug: str) -> Organisation:
    found = session.exec(select(Organisation).where(Organisation.slug == slug)).first()
    if found is None:
        raise NotFound(f"Organisatie '{slug}' bestaat niet. Laad haar met 'advies org load'.")
    return found


#: The flows' terms beyond the three of every organisation, with their defaults (DESIGN.md §3).
EXTRA_TERMS = {"appointment_term": "3w", "report_term": "4w", "alderman_meeting_term": "6w"}


def settings_of(org: Organisation) -> OrgSettings:
    terms = {
        **EXTRA_TERMS,
        **(org.terms or {}),
        "advice_term": org.advice_term,
        "response_term": org.response_term,
        "signup_window": org.signup_window,
    }
    recess = (org.recess_start, org.recess_end) if org.recess_start and org.recess_end else None
    return OrgSettings(org.slug, org.name, terms, org.group_min, org.group_max, recess,
                       words_of(org), groups_of(org), tuple(org.flows) if org.flows else None)


def words_of(org: Organisation) -> Words:
    return Words(**(org.words or {}))


def groups_of(org: Organisation) -> dict[str, OrgGroup]:
    return {g["name"]: OrgGroup(g["name"], tuple(g["members"]), g.get("chair"))
            for g in org.groups or []}


class Everyone(dict[str, Person]):
    """Everyone of an organisation by e-mail address, as read for one event or one batch of
    them. What each mail asks of them (their names, who has which role) is worked out once
    here, not for every mail; so it is never changed once made."""

    @classmethod
    def of(cls, people: Mapping[str, Person]) -> Everyone:
        return people if isinstance(people, Everyone) else cls(people)

    @cached_property
    def names(self) -> dict[str, str]:
        return {p.email: p.name for p in self.values()}

    @cached_property
    def active(self) -> frozenset[str]:
        """The addresses of those who still have a role (not of someone who left)."""
        return frozenset(email for email, p in self.items() if p.roles)

    @cached_property
    def _roles(self) -> dict[str, frozenset[str]]:
        return {email: frozenset(p.roles) for email, p in self.items()}

    @cached_property
    def _by_roles(self) -> dict[tuple[str, ...], list[str]]:
        return {}

    def with_roles(self, roles: tuple[str, ...]) -> list[str]:
        """The addresses of those who have one of `roles`, in the file's order."""
        if roles not in self._by_roles:
            wanted = frozenset(roles)
            self._by_roles[roles] = [email for email, held in self._roles.items() if wanted & held]
        return self._by_roles[roles]


def people(session: Session, org_id: int) -> Everyone:
    rows = session.exec(select(Person).where(Person.organisation_id == org_id)).all()
    return Everyone((p.email, p) for p in rows)


class People:
    """The people of one organisation as an event needs them: the ones it names at once (the
    actor), everyone only when asked for (a person field of the input, a mail's recipients).
    Read with Core, for reading only."""

    def __init__(self, conn: Connection, org_id: int, named: dict[str, Person]) -> None:
        self.conn = conn
        self.org_id = org_id
        self.named = named
        self._everyone: Everyone | None = None

    @classmethod
    def all_of(cls, conn: Connection, org_id: int, everyone: Mapping[str, Person]) -> People:
        people = cls(conn, org_id, dict(everyone))
        people._everyone = Everyone.of(everyone)
        return people

    def everyone(self) -> Everyone:
        if self._everyone is None:
            rows = self.conn.execute(EVERYONE, {"org_id": self.org_id})
            names = tuple(rows.keys())  # a dict of each row: twice as fast as its RowMapping
            self._everyone = Everyone((p.email, p) for p in (
                detached(Person, dict(zip(names, r, strict=True))) for r in rows))
        return self._everyone

    def is_person(self, email: str) -> bool:
        """Someone of the organisation who still has a role (not someone who left)."""
        found = self.everyone().get(email)
        return found is not None and bool(found.roles)

    def has_role(self, email: str, role: str) -> bool:
        found = self.everyone().get(email)
        return found is not None and role in found.roles


def actor(directory: dict[str, Person], email: str, data: dict[str, Any],
          chairs: frozenset[str] = frozenset()) -> Actor:
    """The person firing an event, with their roles in the organisation and the trajectory
    (contact person) and as the chair of one of the organisation's groups (`chairs`)."""
    if email == SYSTEM.email:
        return SYSTEM
    person = directory.get(email.strip().lower())
    if person is None or not person.roles:
        raise NotFound(f"{email} staat niet (meer) in het bestand van de organisatie.")
    roles = set(person.roles)
    if data.get("contact_person") == person.email:
        roles.add("contact_person")
    if person.email in chairs:
        roles.add("group_chair")
    return Actor(person.email, person.name, frozenset(roles))


def recipients(
    spec: Recipients, directory: Mapping[str, Person], data: dict[str, Any], who: Actor
) -> list[Person]:
    """The people a mail goes to, each once, in a stable order; never someone who left the
    organisation (no roles any more), even when a trajectory still names them."""
    everyone = Everyone.of(directory)
    emails = list(everyone.with_roles(spec.roles))
    emails += [data[f] for f in spec.fields if data.get(f)]
    for name in spec.lists:
        emails += list(data.get(name, []))
    if spec.actor and who.email in everyone:
        emails.append(who.email)
    active = everyone.active
    return [everyone[e] for e in _unique(emails) if e in active]


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def chairs_of(org: Organisation) -> frozenset[str]:
    return frozenset(g.chair for g in groups_of(org).values() if g.chair)
