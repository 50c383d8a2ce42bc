"""The trajectory page: one trajectory of the signed-in person's organisation, what this person
may do with it now (a form per event, with the fields the flow declares), its history, its
deadlines and its mail.

Who sees it: the staff (secretariat, liaison, chair) every trajectory of their organisation;
anyone else of the organisation the trajectories they take part in (their address is in the
trajectory's data: group, sign-ups, contact person, policy adviser, official, ...) or in which
they may fire an event now. Another organisation's trajectory and a number that is none are,
word for word, the same "does not exist". The engine decides what a person may fire: the
state, their roles (also the contact person and group chair of `directory.actor`), a
suspension and the guards that do not depend on what is typed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from app import directory, resend, views
from app.service import Service
from app.sign_in import SignedIn
from app.views import takes_part
from app.writer import active_deadlines
from engine import inputs, render
from engine.clock import AMSTERDAM, local_today
from engine.dsl import SYSTEM, Context, DeadlineView, Field, Transition, Words
from engine.errors import Conflict, InvalidInput, NotAllowed, NotFound
from engine.machine import CompiledFlow
from notifications.formatting import long_date
from storage.tables import DeadlineRow, Organisation, OutboxMessage, Person, Trajectory, as_utc

#: Who sees every trajectory of the organisation (as web.site.STAFF).
STAFF = ("secretariat", "liaison", "chair")
GONE = "Dit traject bestaat niet, of het hoort niet bij jouw organisatie."
MAX_ID = 2**63 - 1
#: The newest mails shown; a call to every member of a large council makes many.
MAIL_LIMIT = 200
NOTE = "notitie"  # the form field of the note that goes with every event
MISSING = {"date": "vul een datum in", "time": "vul een tijd in", "select": "kies er een",
           "checkboxes": "kies er een of meer"}
MAIL_STATUS = {"queued": "in de wachtrij", "sending": "wordt verstuurd"}
TERM_HINT = "Bijvoorbeeld 2w (weken), 10d (dagen), 10wd (werkdagen) of 2m (maanden)."
WIDGETS = {"text": "input", "deadline": "select", "longtext": "textarea", "date": "date",
           "time": "time", "person": "select", "people": "checkboxes", "url": "url",
           "term": "input", "int": "number", "choice": "select", "group": "select"}


# --- what the page shows ------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    value: str
    label: str


@dataclass(frozen=True)
class FieldForm:
    """One field of an event's form, with the widget that fits its kind."""

    name: str
    label: str  # as a label reads: capital first, "(niet verplicht)" when optional
    kind: str
    widget: str  # input, textarea, date, time, url, number, select, checkboxes
    required: bool
    options: tuple[Option, ...] = ()
    first: tuple[Option, ...] = ()  # people of the trajectory's group, offered first
    first_label: str = ""
    hint: str = ""
    limit: int | None = None


@dataclass(frozen=True)
class EventForm:
    event: str
    label: str  # the event's Dutch label, as the button says it
    fields: tuple[FieldForm, ...]
    everywhere: bool  # withdraw, suspend, resume, extend: not a step forward


@dataclass(frozen=True)
class MailLine:
    recipient: str
    name: str
    subject: str
    status: str
    failed: bool
    created: str
    sent: str


@dataclass(frozen=True)
class Invitee:
    email: str
    name: str
    signed_up: bool


@dataclass
class Problem:
    """Why an event did not happen, for the page shown again: the message, the field it is
    about (when it can be told), and what was typed."""

    event: str
    status: int
    message: str
    field: str | None = None
    typed: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclass
class Page:
    view: dict[str, Any]
    forms: list[EventForm]
    history: list[dict[str, Any]]
    deadlines: list[dict[str, Any]]
    mails: list[MailLine]
    mails_total: int
    invitees: list[Invitee]
    diagram: str
    staff: bool
    compiled: CompiledFlow
    ctx: Context

    @property
    def id(self) -> int:
        return int(self.view["id"])

    def form_for(self, event: str) -> EventForm:
        """The form of an event this person may fire now; refused (in Dutch) otherwise."""
        found = next((f for f in self.forms if f.event == event), None)
        if found is not None:
            return found
        if event not in self.compiled.events:
            raise NotFound("Deze stap bestaat niet in dit traject.")
        exits = self.compiled.check_allowed(self.ctx, event)  # the engine's own refusal
        why = [t.when.why(self.ctx) for t in exits if t.when is not None]
        raise NotAllowed(why[0] if why else
                         f"'{self.compiled.flow.event_label(event)}' kan nu niet.")

    def done(self, event: str) -> str | None:
        """The label of an event just done (the confirmation after a redirect)."""
        if event in self.compiled.events:
            return self.compiled.flow.event_label(event)
        return views.EVENT_LABELS.get(event)


def trajectory_id(text: str) -> int:
    """The number in a page's address; anything else does not exist."""
    if not text.isascii() or not text.isdigit() or not 0 < int(text) <= MAX_ID:
        raise NotFound(GONE)
    return int(text)


def open_page(service: Service, who: SignedIn, number: str) -> Page:
    """The page of a trajectory for this person: NotFound for one of another organisation,
    NotAllowed for one they neither run nor take part in."""
    today = local_today(service.clock)
    with Session(service.engine) as session:
        row = session.get(Trajectory, trajectory_id(number))
        if row is None or row.organisation_id != who.org_id:
            raise NotFound(GONE)
        org = session.get(Organisation, row.organisation_id)
        assert org is not None
        compiled = service.compiled_for(row)
        people = directory.people(session, who.org_id)
        deadlines = list(session.exec(select(DeadlineRow).where(DeadlineRow.trajectory_id == row.id)
                                      .order_by(col(DeadlineRow.id))).all())
        ctx = _context(row, org, people, deadlines, who.email, today)
        staff = who.has(*STAFF)
        offered = offered_events(compiled, ctx)
        if not staff and not offered and not takes_part(who.email, row.data):
            raise NotAllowed("Je doet niet mee aan dit traject. Zoek je iets? Kijk bij "
                             "'Mijn trajecten'.")
        view = views.trajectory(row, compiled, session, today)
        mails, total = _mails(session, row, people, None if staff else who.email)
        invitees = _invitees(row, compiled, people, deadlines, today) \
            if who.has(*resend.MAY_RESEND) else []
        return Page(view=view,
                    forms=[_form(compiled, t, row, org, people, deadlines) for t in offered],
                    history=_history(view, compiled, people),
                    deadlines=[_deadline(d) for d in view["deadlines"]],
                    mails=mails, mails_total=total, invitees=invitees,
                    diagram=render.svg(compiled, row.state), staff=staff, compiled=compiled,
                    ctx=ctx)


# --- which events, for whom ---------------------------------------------------------------


class _Unread(Mapping[str, Any]):
    """An empty payload that notes whether a guard looked at it: a guard that reads what is
    typed cannot be answered before the form is sent, so its event is offered."""

    def __init__(self) -> None:
        self.read = False

    def __getitem__(self, key: str) -> Any:
        self.read = True
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        self.read = True
        return iter(())

    def __len__(self) -> int:
        self.read = True
        return 0


def _may_pass(t: Transition, ctx: Context) -> bool:
    if t.when is None:
        return True
    payload = _Unread()
    try:
        holds = t.when(replace(ctx, payload=payload))
    except Exception:  # a guard that needs the typed values: decided when they are sent
        return True
    return holds or payload.read


def offered_events(compiled: CompiledFlow, ctx: Context) -> list[Transition]:
    """The first exit of every event this actor may fire now (its fields are the form's)."""
    found = []
    for event in compiled.events:
        try:
            candidates = compiled.check_allowed(ctx, event)
        except NotAllowed:
            continue
        mine = [t for t in candidates if ctx.actor.roles & set(t.by)]
        if any(_may_pass(t, ctx) for t in mine):
            found.append(candidates[0])
    return found


def _context(row: Trajectory, org: Organisation, people: dict[str, Person],
             deadlines: list[DeadlineRow], email: str, today: Any) -> Context:
    who = directory.actor(people, email, row.data, directory.chairs_of(org))
    running = {d.name: DeadlineView(d.name, d.due, d.status, d.explanation, d.suspended_on, d.atw)
               for d in active_deadlines(deadlines).values()}
    return Context(row.state, dict(row.data), {}, who, directory.settings_of(org), today, running)


# --- the forms ----------------------------------------------------------------------------


def capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _form(compiled: CompiledFlow, t: Transition, row: Trajectory, org: Organisation,
          people: dict[str, Person], deadlines: list[DeadlineRow]) -> EventForm:
    words = directory.words_of(org)
    fields = tuple(_field(f, row, org, people, deadlines, words) for f in t.fields)
    everywhere = any(a.event == t.event for a in compiled.flow.anywhere)
    return EventForm(t.event, capital(compiled.flow.event_label(t.event)), fields, everywhere)


def _field(f: Field, row: Trajectory, org: Organisation, people: dict[str, Person],
           deadlines: list[DeadlineRow], words: Words) -> FieldForm:
    label = capital(f.label) + ("" if f.required else " (niet verplicht)")
    made = FieldForm(f.name, label, f.kind, WIDGETS.get(f.kind, "input"), f.required,
                     limit=_limit(f.kind))
    if f.kind == "term":
        return replace(made, hint=TERM_HINT)
    if f.kind in ("person", "people"):
        return _people_field(made, f, row, people, words)
    if f.kind == "choice":
        return replace(made, options=tuple(Option(o, o) for o in f.options))
    if f.kind == "group":
        names = [*directory.groups_of(org), *f.options]
        return replace(made, options=tuple(Option(n, n) for n in names))
    if f.kind == "deadline":
        running = active_deadlines(deadlines).values()
        return replace(made, options=tuple(
            Option(d.name, f"{capital(d.label)}, nu tot en met {long_date(d.due)}") for d in running))
    return made


def _limit(kind: str) -> int | None:
    return {"text": inputs.MAX_TEXT, "longtext": inputs.MAX_LONGTEXT, "url": inputs.MAX_TEXT,
            "term": 20}.get(kind)


def _people_field(made: FieldForm, f: Field, row: Trajectory, people: dict[str, Person],
                  words: Words) -> FieldForm:
    """The organisation's people (with the role the field asks, when it asks one), by name;
    the trajectory's group first, in its own group of options."""
    chosen = sorted((p for p in people.values()
                     if p.roles and (f.role is None or f.role in p.roles)),
                    key=lambda p: (p.name.lower(), p.email))
    options = tuple(Option(p.email, f"{p.name} ({p.email})") for p in chosen)
    group = row.data.get("group")
    if f.role is not None or not isinstance(group, list) or not group:
        return replace(made, options=options)
    first = tuple(o for o in options if o.value in group)
    rest = tuple(o for o in options if o.value not in group)
    return replace(made, options=rest, first=first, first_label=f"In de {words.group}")


# --- firing from the page -----------------------------------------------------------------


def typed_values(form: EventForm, get_one: Any, get_all: Any) -> dict[str, Any]:
    """What was typed in the event's fields (and the note), as the form sent it; `get_one` and
    `get_all` read one value and every value of a name (a people field's boxes)."""
    typed: dict[str, Any] = {}
    for f in form.fields:
        if f.widget == "checkboxes":
            typed[f.name] = [v for v in get_all(f.name) if isinstance(v, str)]
        else:
            value = get_one(f.name)
            typed[f.name] = value if isinstance(value, str) else ""
    note = get_one(NOTE)
    typed[NOTE] = note if isinstance(note, str) else ""
    return typed


def fire_step(service: Service, who: SignedIn, page: Page, form: EventForm,
              typed: dict[str, Any]) -> Problem | None:
    """Fire the event as the signed-in person; a Problem when it did not happen (nothing was
    written then)."""
    missing = _missing(form, typed)
    if missing is not None:
        return missing
    raw = {f.name: ",".join(typed[f.name]) if f.widget == "checkboxes" else typed[f.name]
           for f in form.fields}
    try:
        note = inputs.check_note(typed[NOTE]) if typed[NOTE].strip() else None
    except InvalidInput as error:
        return Problem(form.event, 400, error.message, NOTE, typed)
    try:
        service.fire(page.id, form.event, who.email, raw, note=note, report=False)
    except InvalidInput as error:  # also NotFound: a person or group that is not there
        return Problem(form.event, 400, error.message, field_of(error.message, form, raw), typed)
    except NotAllowed as error:
        return Problem(form.event, 403, error.message, None, typed)
    except Conflict as error:
        return Problem(form.event, 409, error.message, None, typed)
    return None


def _missing(form: EventForm, typed: dict[str, Any]) -> Problem | None:
    for f in form.fields:
        value = typed[f.name]
        empty = not value if isinstance(value, list) else not value.strip()
        if f.required and empty:
            return Problem(form.event, 400, f"{f.label} ontbreekt: {MISSING.get(f.widget, 'vul dit in')}.",
                           f.name, typed)
    return None


def field_of(message: str, form: EventForm, raw: Mapping[str, str]) -> str | None:
    """The field a refusal is about, when the message says it: its name ("(meeting_on)"), its
    label, or the value typed in it."""
    lowered = message.lower()
    for f in form.fields:
        if f"({f.name})" in message or f"'{f.name}'" in message:
            return f.name
    for f in form.fields:
        bare = f.label.removesuffix(" (niet verplicht)").lower()
        if len(bare) > 3 and bare in lowered:
            return f.name
    for f in form.fields:
        value = raw.get(f.name, "").strip().lower()
        if len(value) >= 3 and value in lowered:
            return f.name
    return None


# --- history, deadlines, mail ---------------------------------------------------------------


def _history(view: dict[str, Any], compiled: CompiledFlow,
             people: dict[str, Person]) -> list[dict[str, Any]]:
    names = {p.email: p.name for p in people.values()}
    names[SYSTEM.email] = SYSTEM.name
    rows = []
    for h in view["history"]:
        moved = h["to"] if h["from"] != h["to"] else None
        detail = ""
        if h["event"] == resend.LINK_RESENT and isinstance(h["payload"].get("member"), str):
            member = h["payload"]["member"]
            detail = f"aan {names.get(member, member)}"
        rows.append({"at_local": h["at_local"], "who": names.get(h["actor"], h["actor"]),
                     "what": capital(h["event_label"]), "detail": detail,
                     "to_label": compiled.flow.state(moved).label if moved else "",
                     "note": h["note"] or ""})
    return rows


def _deadline(d: dict[str, Any]) -> dict[str, Any]:
    return {**d, "extended": "\nVerlengd op " in d["explanation"],
            "lines": d["explanation"].splitlines()}


def _local(moment: Any) -> str:
    return as_utc(moment).astimezone(AMSTERDAM).strftime("%d-%m-%Y %H:%M") if moment else ""


def _mail_status(row: OutboxMessage) -> str:
    if row.status == "sent":
        return f"verstuurd op {_local(row.sent_at)}" if row.sent_at else "verstuurd"
    if row.status == "failed":
        reason = (row.last_error or "onbekende fout").strip().splitlines()[0][:120]
        return f"mislukt: {reason}"
    return MAIL_STATUS.get(row.status, row.status)


def _mails(session: Session, row: Trajectory, people: dict[str, Person],
           only: str | None) -> tuple[list[MailLine], int]:
    """The trajectory's mail (only that to `only` when given), the newest MAIL_LIMIT, oldest
    first; never the body."""
    query = select(OutboxMessage).where(OutboxMessage.trajectory_id == row.id)
    if only is not None:
        query = query.where(OutboxMessage.recipient == only)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    found = list(session.exec(query.order_by(col(OutboxMessage.id).desc()).limit(MAIL_LIMIT)))
    names = {p.email: p.name for p in people.values()}
    return [MailLine(m.recipient, names.get(m.recipient, ""), m.subject, _mail_status(m),
                     m.status == "failed", _local(m.created_at), _local(m.sent_at))
            for m in reversed(found)], total


def _invitees(row: Trajectory, compiled: CompiledFlow, people: dict[str, Person],
              deadlines: list[DeadlineRow], today: Any) -> list[Invitee]:
    """Everyone the open call went to, for the secretariat's "send the link again"."""
    call = resend.open_call(compiled, row, deadlines, today)
    if call is None:
        return []
    signed = set(row.data.get(call.signups, []))
    return [Invitee(p.email, p.name, p.email in signed)
            for p in sorted(people.values(), key=lambda p: (p.name.lower(), p.email))
            if call.role in (p.roles or [])]
