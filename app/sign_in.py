"""Signing in to the web interface: a link by mail, a session in the database, signing out.

A sign-in link is signed (itsdangerous, with the installation's key), works for 15 minutes and
once. Opening it shows a button; only pressing it (a POST) signs in, so a mail scanner that
opens links never uses one up. A session is a random id in an HttpOnly cookie; the database
keeps only its hash, with the person, the CSRF token of its forms and when it ends. A person
who lost every role in the organisation file is signed out at their next page.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.directory import words_of
from app.service import Service
from engine import inputs, labels
from engine.clock import Clock
from engine.dsl import Words
from engine.errors import AdviesError, NotFound
from storage.db import transaction
from storage.tables import Organisation, Person, SignInUsed, WebSession, as_utc

SALT = "adviestraject.sign-in.v1"
LINK_MINUTES = 15
SESSION_HOURS = 12
SIGN_IN_MAIL = "common/sign_in"


class SignInRefused(AdviesError):
    """A sign-in link that cannot be used; `reason` is tampered, expired or used."""

    exit_code = 3

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


TAMPERED = SignInRefused("tampered", "Deze inloglink is niet geldig. Vraag een nieuwe aan.")
EXPIRED = SignInRefused("expired", f"Deze inloglink is verlopen: hij werkt {LINK_MINUTES} minuten. "
                                   "Vraag een nieuwe aan.")
USED = SignInRefused("used", "Deze inloglink is al gebruikt: hij werkt één keer. Vraag een nieuwe aan.")


@dataclass(frozen=True)
class SignedIn:
    """The person behind a session: who they are, in which organisation, with which roles."""

    session_hash: str
    csrf: str
    person_id: int
    email: str
    name: str
    roles: tuple[str, ...]
    org_id: int
    org_slug: str
    org_name: str
    words: Words
    flows: tuple[str, ...]

    def has(self, *roles: str) -> bool:
        return any(role in self.roles for role in roles)


def _serializer(key: str, clock: Clock) -> URLSafeTimedSerializer:
    class ClockSigner(TimestampSigner):
        """Timestamps from the injected clock, so tests move time instead of waiting."""

        def get_timestamp(self) -> int:
            return int(clock.now().timestamp())

    return URLSafeTimedSerializer(key, salt=SALT, signer=ClockSigner)


def hashed(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class SignIn:
    def __init__(self, service: Service) -> None:
        self.service = service
        self.clock = service.clock

    # --- the link ----------------------------------------------------------------------------

    def link(self, person_id: int) -> str:
        token = _serializer(self.service.settings.signing_key(), self.clock).dumps(
            {"p": person_id, "j": secrets.token_urlsafe(12)})
        return f"{self.service.settings.base_url.rstrip('/')}/inloggen/{quote(token)}"

    def link_for(self, email: str, org_slug: str) -> str:
        """A sign-in link printed for an administrator (the demo, `advies web inloglink`)."""
        address = inputs.check_email(email)
        with Session(self.service.engine) as session:
            person = session.exec(select(Person).join(Organisation).where(
                Person.email == address, Organisation.slug == org_slug)).first()
            if person is None or not person.roles or person.id is None:
                raise NotFound(f"{address} heeft geen rol in organisatie '{org_slug}'.")
            return self.link(person.id)

    def one_per_role(self) -> list[dict[str, str]]:
        """For every organisation, a fresh sign-in link for the first person of each role: how
        `make run` lets someone try every role of the demo."""
        found: list[dict[str, str]] = []
        with Session(self.service.engine) as session:
            orgs = session.exec(select(Organisation).order_by(col(Organisation.id))).all()
            for org in orgs:
                people = session.exec(select(Person).where(Person.organisation_id == org.id)
                                      .order_by(col(Person.id))).all()
                seen: set[str] = set()
                for person in people:
                    role = next((r for r in person.roles if r not in seen), None)
                    if role is None or person.id is None:
                        continue
                    seen.update(person.roles)
                    found.append({"org": org.slug, "role": labels.role(role, words_of(org)),
                                  "name": person.name, "email": person.email,
                                  "link": self.link(person.id)})
        return found

    def request(self, email: str) -> int:
        """Mail a sign-in link to every organisation where this address has a role; the
        number of mails (the page never tells it: nobody learns who is known)."""
        address = inputs.check_email(email)
        now = self.clock.now()
        with transaction(self.service.engine) as session:
            found = session.exec(select(Person, Organisation).join(Organisation).where(
                Person.email == address).order_by(col(Organisation.name))).all()
            rows = [self._mail(person, org, now) for person, org in found if person.roles]
            for row in rows:
                session.add(row)
            return len(rows)

    def _mail(self, person: Person, org: Organisation, now: datetime) -> Any:
        assert person.id is not None
        context = {"org": {"name": org.name}, "sign_in_url": self.link(person.id),
                   "minutes": LINK_MINUTES, "words": words_of(org)}
        return self.service.mailer.notice(SIGN_IN_MAIL, [person], context, now)[0]

    def check(self, token: str) -> int:
        """The person a genuine, fresh, unused link is for (nothing is changed)."""
        person_id = self._person_of(token)
        with Session(self.service.engine) as session:
            if session.get(SignInUsed, self._jti(token)) is not None:
                raise USED
        return person_id

    def _person_of(self, token: str) -> int:
        serializer = _serializer(self.service.settings.signing_key(), self.clock)
        try:
            claims = serializer.loads(token, max_age=LINK_MINUTES * 60)
        except SignatureExpired as error:
            raise EXPIRED from error
        except BadSignature as error:
            raise TAMPERED from error
        if not isinstance(claims, dict) or not isinstance(claims.get("p"), int) \
                or not isinstance(claims.get("j"), str) or not 0 < claims["p"] < 2**63:
            raise TAMPERED
        return int(claims["p"])

    def _jti(self, token: str) -> str:
        serializer = _serializer(self.service.settings.signing_key(), self.clock)
        return str(serializer.loads(token, max_age=LINK_MINUTES * 60)["j"])

    # --- the session -------------------------------------------------------------------------

    def use(self, token: str) -> str:
        """Use the link: a new session, whose id (for the cookie) is returned."""
        person_id = self._person_of(token)
        session_id = secrets.token_urlsafe(32)
        now = self.clock.now()
        try:
            with transaction(self.service.engine) as session:
                person = session.get(Person, person_id)
                if person is None or not person.roles:
                    raise TAMPERED
                session.add(SignInUsed(jti=self._jti(token), person_id=person_id, used_at=now))
                session.add(WebSession(id=hashed(session_id), person_id=person_id,
                                       csrf=secrets.token_urlsafe(32), created_at=now,
                                       expires_at=now + timedelta(hours=SESSION_HOURS)))
        except IntegrityError as error:
            raise USED from error
        return session_id

    def current(self, session_id: str | None) -> SignedIn | None:
        """The person of a live session; None when there is none, it ended, or they lost their roles."""
        if not session_id or len(session_id) > 100:
            return None
        with Session(self.service.engine) as session:
            found = session.exec(select(WebSession, Person, Organisation)
                                 .where(WebSession.id == hashed(session_id),
                                        WebSession.person_id == Person.id,
                                        Person.organisation_id == Organisation.id)).first()
            if found is None:
                return None
            row, person, org = found
            if row.ended_at is not None or as_utc(row.expires_at) <= self.clock.now() or not person.roles:
                return None
            assert person.id is not None
            assert org.id is not None
            return SignedIn(session_hash=row.id, csrf=row.csrf, person_id=person.id,
                            email=person.email, name=person.name, roles=tuple(person.roles),
                            org_id=org.id, org_slug=org.slug, org_name=org.name,
                            words=words_of(org), flows=tuple(org.flows or self.service.flows))

    def end(self, who: SignedIn) -> None:
        with transaction(self.service.engine) as session:
            row = session.get(WebSession, who.session_hash)
            if row is not None and row.ended_at is None:
                row.ended_at = self.clock.now()
                session.add(row)
