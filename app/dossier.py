"""The dossier of one trajectory, for the archive: everything that happened in it, as one view.

`read` gathers it with one statement per table (the trajectory with its organisation, the
people, the deadlines, the history, the mail, the links) and returns a `Dossier`: the request,
the group, the documents and decisions, every deadline with its explanation, every mail with
its text (or that the text was purged after the retention period), the full history and the
linked trajectories. `app.dossier_file` renders it as one self-contained HTML file.

Who may read it is the caller's question: the command line reads any trajectory, the web page
only the trajectories of the signed-in staff member's own organisation (`org_id`).
"""

from __future__ import annotations

import email
import email.policy
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from app.views import EVENT_LABELS
from engine import labels
from engine.clock import AMSTERDAM
from engine.dsl import SYSTEM, Words
from engine.errors import NotFound
from engine.machine import CompiledFlow
from notifications.formatting import long_date
from storage.tables import (
    DeadlineRow,
    HistoryEntry,
    Organisation,
    OutboxMessage,
    Person,
    Trajectory,
    TrajectoryLink,
    as_utc,
)

GONE = "Traject {id} bestaat niet."
MAIL_STATUS = {"queued": "in de wachtrij", "sending": "wordt verstuurd", "sent": "verstuurd",
               "failed": "mislukt"}
#: Data the flows keep that no field names (the fields' own labels come from the flow).
DATA_LABELS = {"signups": "aanmeldingen", "reserves": "reserves", "group": "groep",
               "platform_signups": "aanmeldingen Platform Inclusie",
               "advice_sent_on": "advies verstuurd op", "suspended_on": "opgeschort sinds",
               "response_received_on": "reactie ontvangen op", "response_document": "reactie",
               "follow_up_on": "nazorg tot", "published_url": "gepubliceerd op",
               "proceed_reason": "reden om toch door te gaan", "assigned_group": "toegewezen groep",
               "theme_group_chair": "voorzitter van de groep", "draft": "concept",
               "signalled_by": "gesignaleerd door", "meeting_on": "datum van de bijeenkomst",
               "meeting_time": "tijd van de bijeenkomst", "meeting_place": "plaats van de bijeenkomst",
               "joined_group": "in de groep gekomen", "left_group": "uit de groep gegaan"}
#: A member's personal answer link in a mail: it works for whoever holds it, so the archive
#: does not keep it.
PERSONAL_LINK = re.compile(r"\S+/antwoord/\S+")
LINK_LEFT_OUT = "[persoonlijke link, niet in het dossier]"
RELATIONS = {"continued_as": "vervolgd als", "continues": "vervolg van"}


@dataclass(frozen=True)
class Item:
    """One labelled value: 'Beleidsadviseur: Bea Beleid (beleid@example.org)'."""

    label: str
    value: str


@dataclass(frozen=True)
class Member:
    name: str
    email: str


@dataclass(frozen=True)
class Group:
    """A group the trajectory formed (its own, or the Platform Inclusie's), with its reserves."""

    title: str
    members: tuple[Member, ...]
    reserves: tuple[Member, ...]


@dataclass(frozen=True)
class Step:
    """One history entry as people read it."""

    number: int
    at: str
    who: str
    email: str
    event: str
    moved: str  # "from → to", or "" when the state stayed
    note: str
    payload: tuple[Item, ...]


@dataclass(frozen=True)
class Term:
    label: str
    due: str
    status: str
    started_on: str
    closed_on: str
    explanation: tuple[str, ...]


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    status: str
    created: str
    sent: str
    body: str | None  # None: purged, see `purged`
    purged: str


@dataclass(frozen=True)
class Link:
    relation: str
    id: int
    title: str
    flow: str


@dataclass(frozen=True)
class Dossier:
    id: int
    title: str
    flow: str
    flow_version: int
    state: str
    final: bool
    organisation: str
    words: Words
    created: str
    made: str
    request: tuple[Item, ...]
    data: tuple[Item, ...]
    groups: tuple[Group, ...]
    contact: str
    records: tuple[Step, ...]  # the steps that hold a document or a decision
    terms: tuple[Term, ...]
    mails: tuple[Mail, ...]
    history: tuple[Step, ...]
    links: tuple[Link, ...]


FlowOf = Callable[[Trajectory], CompiledFlow]


def read(engine: Engine, flow_of: FlowOf, trajectory_id: int, now: datetime,
         org_id: int | None = None) -> Dossier:
    """The dossier of a trajectory (of organisation `org_id` when given); NotFound otherwise."""
    with Session(engine) as session:
        found = session.exec(select(Trajectory, Organisation)
                             .where(Trajectory.id == trajectory_id,
                                    Trajectory.organisation_id == Organisation.id)).first()
        if found is None or (org_id is not None and found[1].id != org_id):
            raise NotFound(GONE.format(id=trajectory_id))
        row, org = found
        compiled = flow_of(row)
        names = _names(session, row.organisation_id)
        return _dossier(session, row, org, compiled, names, now)


def _dossier(session: Session, row: Trajectory, org: Organisation, compiled: CompiledFlow,
             names: dict[str, str], now: datetime) -> Dossier:
    assert row.id is not None
    flow = compiled.flow
    show = _Shower(names, _field_labels(compiled))
    steps = [_step(n, h, flow, show) for n, h in enumerate(_history(session, row.id), start=1)]
    start_names = [f.name for f in flow.start_fields if f.name != "title"]
    shown = {"title", *start_names, *_group_keys(compiled)}
    return Dossier(
        id=row.id, title=row.title, flow=flow.title, flow_version=row.flow_version,
        state=flow.state(row.state).label, final=row.state in flow.final_states,
        organisation=org.name, words=Words(**(org.words or {})), created=_local(row.created_at),
        made=_local(now), request=tuple(show.items({k: row.data[k] for k in start_names
                                                    if k in row.data})),
        data=tuple(show.items({k: v for k, v in row.data.items()
                               if k not in shown})),
        groups=_groups(row.data, compiled, names, Words(**(org.words or {}))),
        contact=show.value(row.data.get("contact_person", "")),
        records=tuple(s for s in steps if _records(s)),
        terms=tuple(_term(d) for d in _deadlines(session, row.id)),
        mails=tuple(_mail(m, names) for m in _outbox(session, row.id)),
        history=tuple(steps), links=_links(session, row.id))


# --- reading ------------------------------------------------------------------------------


def _names(session: Session, org_id: int) -> dict[str, str]:
    found = {p.email: p.name for p in session.exec(select(Person).where(Person.organisation_id == org_id))}
    return {**found, SYSTEM.email: SYSTEM.name}


def _history(session: Session, trajectory_id: int) -> list[HistoryEntry]:
    return list(session.exec(select(HistoryEntry).where(HistoryEntry.trajectory_id == trajectory_id)
                             .order_by(col(HistoryEntry.id))))


def _deadlines(session: Session, trajectory_id: int) -> list[DeadlineRow]:
    return list(session.exec(select(DeadlineRow).where(DeadlineRow.trajectory_id == trajectory_id)
                             .order_by(col(DeadlineRow.id))))


def _outbox(session: Session, trajectory_id: int) -> list[OutboxMessage]:
    return list(session.exec(select(OutboxMessage).where(OutboxMessage.trajectory_id == trajectory_id)
                             .order_by(col(OutboxMessage.id))))


def _links(session: Session, trajectory_id: int) -> tuple[Link, ...]:
    found = session.exec(select(TrajectoryLink, Trajectory)
                         .where(TrajectoryLink.from_id == trajectory_id,
                                TrajectoryLink.to_id == Trajectory.id)
                         .order_by(col(TrajectoryLink.id)))
    return tuple(Link(RELATIONS.get(link.relation, link.relation), int(other.id or 0), other.title,
                      other.flow) for link, other in found)


# --- showing values -----------------------------------------------------------------------


def _field_labels(compiled: CompiledFlow) -> dict[str, str]:
    """Every field name of the flow with its Dutch label (the first the flow gives it)."""
    found: dict[str, str] = {}
    for f in (*compiled.flow.start_fields, *(f for t in compiled.flow.transitions() for f in t.fields)):
        found.setdefault(f.name, f.label)
    return {**DATA_LABELS, **found}


class _Shower:
    """Values as people read them: an address with its person's name, lists joined."""

    def __init__(self, names: dict[str, str], field_labels: dict[str, str]) -> None:
        self.names = names
        self.field_labels = field_labels

    def label(self, key: str) -> str:
        text = self.field_labels.get(key, key.replace("_", " "))
        return text[:1].upper() + text[1:]

    def value(self, value: Any) -> str:
        if isinstance(value, str):
            name = self.names.get(value)
            return f"{name} ({value})" if name else value
        if isinstance(value, list | tuple):
            return ", ".join(self.value(v) for v in value)
        if isinstance(value, Mapping):
            return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
        return "" if value is None else str(value)

    def items(self, values: Mapping[str, Any]) -> list[Item]:
        return [Item(self.label(k), self.value(v)) for k, v in values.items()]


def _local(moment: datetime | None) -> str:
    return as_utc(moment).astimezone(AMSTERDAM).strftime("%d-%m-%Y %H:%M") if moment else ""


def _day(value: date | None) -> str:
    return long_date(value) if value else ""


# --- the parts ----------------------------------------------------------------------------


def _group_keys(compiled: CompiledFlow) -> set[str]:
    keys = {"group", "contact_person"}
    for call in compiled.flow.calls:
        keys |= {call.group, call.reserves}
    return keys


def _groups(data: Mapping[str, Any], compiled: CompiledFlow, names: dict[str, str],
            words: Words) -> tuple[Group, ...]:
    """The trajectory's group (and a call's other group, the Platform Inclusie's) with reserves."""
    found: list[Group] = []
    lists = [("", "group", "reserves")]
    lists += [(call.prefix, call.group, call.reserves) for call in compiled.flow.calls if call.prefix]
    for prefix, group_key, reserves_key in lists:
        members, reserves = _people(data.get(group_key), names), _people(data.get(reserves_key), names)
        if members or reserves:
            title = labels.role(prefix.rstrip("_"), words) if prefix else _group_title(data, words)
            found.append(Group(title[:1].upper() + title[1:], members, reserves))
    return tuple(found)


def _group_title(data: Mapping[str, Any], words: Words) -> str:
    named = data.get("assigned_group")
    return f"De {words.group}" + (f" ({named})" if isinstance(named, str) and named else "")


def _people(value: Any, names: dict[str, str]) -> tuple[Member, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(Member(names.get(e, ""), e) for e in value if isinstance(e, str))


def _step(number: int, entry: HistoryEntry, flow: Any, show: _Shower) -> Step:
    moved = ""
    if entry.from_state and entry.from_state != entry.to_state:
        moved = f"{_state_label(flow, entry.from_state)} → {_state_label(flow, entry.to_state)}"
    elif entry.from_state is None:
        moved = f"→ {_state_label(flow, entry.to_state)}"
    name = show.names.get(entry.actor, "")
    event = EVENT_LABELS.get(entry.event) or flow.event_label(entry.event)
    return Step(number, _local(entry.at), name or entry.actor, entry.actor, event[:1].upper() + event[1:],
                moved, entry.note or "", tuple(show.items(entry.payload or {})))


def _state_label(flow: Any, state: str) -> str:
    try:
        return str(flow.state(state).label)
    except KeyError:  # a state of an older version of the flow
        return state


def _records(step: Step) -> bool:
    """A history entry that holds a document or a decision: what was given with it, or a step
    from one state to another."""
    return bool(step.payload or step.moved)


def _term(row: DeadlineRow) -> Term:
    return Term(label=row.label[:1].upper() + row.label[1:], due=_day(row.due),
                status=labels.status(row.status), started_on=_day(row.started_on),
                closed_on=_day(row.closed_on), explanation=tuple(row.explanation.splitlines()))


def _mail(row: OutboxMessage, names: dict[str, str]) -> Mail:
    name = names.get(row.recipient)
    status = MAIL_STATUS.get(row.status, row.status)
    if row.status == "failed" and row.last_error:
        status += f": {row.last_error.strip().splitlines()[0][:200]}"
    purged = _local(row.purged_at) if row.purged_at is not None else ""
    body = None if row.purged_at is not None or not row.raw else \
        PERSONAL_LINK.sub(LINK_LEFT_OUT, plain_text(row.raw))
    return Mail(f"{name} ({row.recipient})" if name else row.recipient, row.subject, status,
                _local(row.created_at), _local(row.sent_at), body, purged)


def plain_text(raw: bytes) -> str:
    """The text/plain part of a stored mail, as a mail reader shows it."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    try:
        part = message.get_body(preferencelist=("plain",))
        text = part.get_content() if part is not None else ""
    except (LookupError, ValueError):  # an unknown character set, a broken encoding
        return "(De tekst van deze e-mail kon niet worden gelezen.)"
    return str(text).replace("\r\n", "\n")

