"""What one person of an organisation is asked and takes part in: the calls open to them now,
their answer to a call (as the signed-in person), and the trajectories that name them.

A person takes part in a trajectory when their address is in its data: in the group, the
sign-ups or reserves, as contact person, policy adviser, official, signaller, ... The database
finds the candidates (the address, quoted, in the data's JSON text); Python confirms each, so
a title that merely mentions an address does not count.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Text, cast, func, or_
from sqlmodel import Session, col, select

from app import views
from app.service import OPEN_WINDOW, Service
from app.sign_in import SignedIn
from app.views import takes_part
from engine.clock import local_today
from engine.errors import InvalidInput, NotAllowed, NotFound
from storage.tables import DeadlineRow, Organisation, Trajectory

SIGN_UP, WITHDRAW = "sign_up", "withdraw_signup"
ANSWERS = (SIGN_UP, WITHDRAW)
#: At most this many trajectories are listed as taken part in (newest first).
MAX_TAKING_PART = 200
GONE = "Dit traject bestaat niet, of het hoort niet bij jouw organisatie."
CLOSED = "De aanmelding voor dit traject is gesloten. Je kunt niet meer antwoorden."
NOT_YOURS = "Deze oproep is niet voor jou."
CHOOSE = "Kies \u201cJa, ik doe mee\u201d of \u201cNee, ik doe niet mee\u201d."
PAUSED = "Dit traject is opgeschort. Je kunt antwoorden als het weer verder gaat."


# --- which trajectories name a person --------------------------------------------------------


def naming(session: Session, org_id: int, email: str) -> list[Trajectory]:
    """The organisation's trajectories whose data names `email`, newest first."""
    text = func.lower(cast(Trajectory.data, Text))
    quoted = {f'"{email}"', json.dumps(email)}  # as PostgreSQL and SQLite write it
    query = (select(Trajectory)
             .where(Trajectory.organisation_id == org_id,
                    or_(*(text.contains(q, autoescape=True) for q in quoted)))
             .order_by(col(Trajectory.id).desc()))
    return [row for row in session.exec(query).all() if takes_part(email, row.data)]


#: How a data key names a person, in words; other keys: "genoemd".
PARTS = {"group": "in de {group}", "signups": "aangemeld", "reserves": "op de reservelijst",
         "contact_person": "centraal aanspreekpunt", "policy_adviser": "beleidsadviseur",
         "official": "ambtenaar", "officer": "ambtenaar", "signalled_by": "heeft het gesignaleerd",
         "platform_group": "in de groep van het Platform Inclusie",
         "platform_signups": "aangemeld voor het Platform Inclusie",
         "platform_reserves": "reserve voor het Platform Inclusie",
         "theme_group_chair": "voorzitter van de {group}", "members": "in de werkgroep",
         "left_group": "uit de {group} gegaan", "joined_group": "in de {group} gekomen"}


def parts(email: str, data: Mapping[str, Any], group_word: str) -> list[str]:
    """How a trajectory names a person, e.g. ['in de projectgroep', 'centraal aanspreekpunt']."""
    found = [PARTS.get(key, "genoemd").format(group=group_word)
             for key, value in data.items() if takes_part(email, value)]
    if "in de " + group_word in found and "aangemeld" in found:
        found.remove("aangemeld")  # once the group is formed, the sign-up says nothing more
    return list(dict.fromkeys(found))


@dataclass(frozen=True)
class Taking:
    id: int
    title: str
    flow_title: str
    state_label: str
    suspended: bool
    final: bool
    parts: tuple[str, ...]


def taking_part(service: Service, who: SignedIn) -> list[Taking]:
    today = local_today(service.clock)
    with Session(service.engine) as session:
        rows = naming(session, who.org_id, who.email)[:MAX_TAKING_PART]
        found = []
        for row in rows:
            summary = views.summary(row, service.shown_with(row), today)
            found.append(Taking(summary["id"], row.title, summary["flow_title"],
                                summary["state_label"], summary["suspended"], summary["final"],
                                tuple(parts(who.email, row.data, who.words.group))))
        return found


# --- the calls open to a person -------------------------------------------------------------


@dataclass(frozen=True)
class OpenCall:
    id: int
    title: str
    flow_title: str
    role: str
    closes: date
    answerable: bool  # False while the trajectory is suspended
    place: int | None  # 1-based place among the sign-ups; None: not signed up
    group_max: int

    @property
    def signed_up(self) -> bool:
        return self.place is not None

    @property
    def reserve(self) -> bool:
        return self.place is not None and self.place > self.group_max


def _windows(service: Service) -> set[str]:
    return {call.window for compiled in service.flows.values() for call in compiled.flow.calls}


def open_calls(service: Service, who: SignedIn, only: int | None = None) -> list[OpenCall]:
    """The organisation's calls whose sign-up term runs now (or is suspended) and whose role
    is one of this person's, soonest closing first; `only`: of that trajectory."""
    with Session(service.engine) as session:
        query = (select(Trajectory, DeadlineRow)
                 .where(Trajectory.organisation_id == who.org_id,
                        DeadlineRow.trajectory_id == Trajectory.id,
                        col(DeadlineRow.name).in_(_windows(service)),
                        col(DeadlineRow.status).in_(OPEN_WINDOW))
                 .order_by(col(DeadlineRow.due), col(Trajectory.id)))
        if only is not None:
            query = query.where(Trajectory.id == only)
        org = session.get(Organisation, who.org_id)
        assert org is not None
        found: dict[int, OpenCall] = {}
        for row, window in session.exec(query).all():
            call = _call(service, who, row, window, org.group_max)
            if call is not None and call.id not in found:
                found[call.id] = call
        return list(found.values())


def _call(service: Service, who: SignedIn, row: Trajectory, window: DeadlineRow,
          group_max: int) -> OpenCall | None:
    compiled = service.compiled_for(row)
    call = views.open_call(row, compiled, [window])
    if call is None or call["role"] not in who.roles:
        return None
    signups = [e.lower() for e in call["signups"]]
    place = signups.index(who.email) + 1 if who.email in signups else None
    assert row.id is not None
    return OpenCall(row.id, row.title, compiled.flow.title, call["role"], window.due,
                    SIGN_UP in views.allowed_events(row, compiled), place, group_max)


# --- answering a call as the signed-in person ------------------------------------------------


def answer_call(service: Service, who: SignedIn, trajectory_id: int, answer: str) -> str:
    """Sign up or withdraw for an open call; the outcome: signed_up, reserve, withdrawn,
    or (nothing changed) already, declined."""
    if answer not in ANSWERS:
        raise InvalidInput(CHOOSE)
    call = _answerable(service, who, trajectory_id)
    if answer == SIGN_UP and call.signed_up:
        return "already"
    if answer == WITHDRAW and not call.signed_up:
        return "declined"
    view = service.fire(trajectory_id, answer, who.email, {})
    if answer == WITHDRAW:
        return "withdrawn"
    signups = [e.lower() for e in (view.get("call") or {}).get("signups", [])]
    place = signups.index(who.email) if who.email in signups else 0
    return "reserve" if place >= call.group_max else "signed_up"


def _answerable(service: Service, who: SignedIn, trajectory_id: int) -> OpenCall:
    with Session(service.engine) as session:
        row = session.get(Trajectory, trajectory_id)
        if row is None or row.organisation_id != who.org_id:
            raise NotFound(GONE)
    found = open_calls(service, who, only=trajectory_id)
    if not found:
        raise NotAllowed(_why_not(service, who, trajectory_id))
    if not found[0].answerable:
        raise NotAllowed(PAUSED)
    return found[0]


def _why_not(service: Service, who: SignedIn, trajectory_id: int) -> str:
    """Closed, or open to another role than this person's."""
    with Session(service.engine) as session:
        row = session.get(Trajectory, trajectory_id)
        assert row is not None
        windows = session.exec(select(DeadlineRow).where(
            DeadlineRow.trajectory_id == trajectory_id,
            col(DeadlineRow.name).in_(_windows(service)),
            col(DeadlineRow.status).in_(OPEN_WINDOW))).all()
        call = views.open_call(row, service.compiled_for(row), list(windows))
    return NOT_YOURS if call is not None else CLOSED
