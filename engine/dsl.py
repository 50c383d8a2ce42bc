"""Declarative building blocks for a flow: states, exits, fields, mails and deadlines.

A flow module builds a `Flow` from these pieces so that it reads like its flowchart:

    State("requested", "Aanvraag ontvangen", exits=(
        on("call_participants", by=SECRETARIAT).to("calling"),
        on("decline", by=SECRETARIAT, fields=(text("reason", "reden"),)).to("declined"),
    ))
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Literal

FieldKind = Literal[
    "text", "longtext", "date", "time", "person", "url", "term", "deadline", "int"
]

KNOWN_ROLES = frozenset(
    {
        "member",
        "secretariat",
        "liaison",
        "policy_adviser",
        "alderman",
        "chair",
        "inclusion_platform",
    }
)
#: Roles a person holds through a trajectory rather than through the organisation file.
TRAJECTORY_ROLES = frozenset({"system", "contact_person"})


@dataclass(frozen=True)
class Actor:
    """Who fires an event: a person of the organisation, or the system itself."""

    email: str
    name: str
    roles: frozenset[str]


SYSTEM = Actor(email="systeem", name="Adviestraject (automatisch)", roles=frozenset({"system"}))


@dataclass(frozen=True)
class OrgSettings:
    """The organisation's rules that flows read: terms, group sizes, recess."""

    slug: str
    name: str
    terms: Mapping[str, str]
    group_min: int = 5
    group_max: int = 10
    recess: tuple[str, str] | None = None


@dataclass(frozen=True)
class DeadlineView:
    """What a guard or action may know of a running deadline."""

    name: str
    due: date
    status: str
    explanation: str
    suspended_on: date | None = None
    atw: bool = True


@dataclass(frozen=True)
class Context:
    """Everything a guard or action may look at. Plain data, no I/O."""

    state: str
    data: Mapping[str, Any]
    payload: Mapping[str, Any]
    actor: Actor
    org: OrgSettings
    today: date
    deadlines: Mapping[str, DeadlineView] = field(default_factory=dict)


@dataclass(frozen=True)
class Field:
    """A value an event (or the start) takes from the person firing it."""

    name: str
    label: str
    kind: FieldKind = "text"
    required: bool = True


def text(name: str, label: str, *, required: bool = True) -> Field:
    return Field(name, label, "text", required)


def longtext(name: str, label: str, *, required: bool = True) -> Field:
    return Field(name, label, "longtext", required)


def a_date(name: str, label: str, *, required: bool = True) -> Field:
    return Field(name, label, "date", required)


def a_time(name: str, label: str, *, required: bool = True) -> Field:
    return Field(name, label, "time", required)


def person(name: str, label: str, *, required: bool = True) -> Field:
    return Field(name, label, "person", required)


def url(name: str, label: str, *, required: bool = True) -> Field:
    return Field(name, label, "url", required)


def term(name: str, label: str, *, required: bool = True) -> Field:
    return Field(name, label, "term", required)


def deadline_name(name: str, label: str, *, required: bool = True) -> Field:
    return Field(name, label, "deadline", required)


@dataclass(frozen=True)
class Guard:
    """A named question about the context; `refusal` says in Dutch why the answer is no."""

    name: str
    test: Callable[[Context], bool]
    refusal: str
    explain: Callable[[Context], str] | None = None  # a refusal that depends on the context

    def __call__(self, ctx: Context) -> bool:
        return self.test(ctx)

    def why(self, ctx: Context) -> str:
        return (self.explain(ctx) if self.explain else "") or self.refusal


#: An action turns the context into the trajectory's new data. Pure.
Action = Callable[[Context], dict[str, Any]]


@dataclass(frozen=True)
class Recipients:
    """Who receives a mail: organisation roles, people named in data fields, or lists there."""

    roles: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()
    lists: tuple[str, ...] = ()
    actor: bool = False


def to(
    *roles: str, fields: tuple[str, ...] = (), lists: tuple[str, ...] = (), actor: bool = False
) -> Recipients:
    return Recipients(roles=roles, fields=fields, lists=lists, actor=actor)


@dataclass(frozen=True)
class Mail:
    """A mail the engine renders into the outbox when its transition happens."""

    template: str
    to: Recipients
    answer_link: bool = False
    invitation: bool = False


def mail(template: str, to: Recipients, *, answer_link: bool = False, invitation: bool = False) -> Mail:
    return Mail(template, to, answer_link, invitation)


@dataclass(frozen=True)
class Transition:
    """One exit: an event from `source` to `dest` (None: stay, an internal transition)."""

    event: str
    by: tuple[str, ...]
    dest: str | None
    source: tuple[str, ...] = ()
    fields: tuple[Field, ...] = ()
    when: Guard | None = None
    action: Action | None = None
    mails: tuple[Mail, ...] = ()
    label: str = ""

    def from_states(self, *states: str) -> Transition:
        return replace(self, source=tuple(states))


@dataclass(frozen=True)
class On:
    """The first half of an exit: the event, who may fire it and what it takes."""

    event: str
    by: tuple[str, ...]
    fields: tuple[Field, ...] = ()
    action: Action | None = None
    label: str = ""

    def to(self, dest: str, *, when: Guard | None = None, mails: tuple[Mail, ...] = ()) -> Transition:
        return self._make(dest, when, mails)

    def stay(self, *, when: Guard | None = None, mails: tuple[Mail, ...] = ()) -> Transition:
        return self._make(None, when, mails)

    def _make(self, dest: str | None, when: Guard | None, mails: tuple[Mail, ...]) -> Transition:
        return Transition(
            event=self.event,
            by=self.by,
            dest=dest,
            fields=self.fields,
            when=when,
            action=self.action,
            mails=mails,
            label=self.label,
        )


def on(
    event: str,
    *,
    by: tuple[str, ...],
    fields: tuple[Field, ...] = (),
    action: Action | None = None,
    label: str = "",
) -> On:
    return On(event=event, by=by, fields=fields, action=action, label=label)


@dataclass(frozen=True)
class State:
    """A state with its exits and the mails sent on entering it."""

    name: str
    label: str
    exits: tuple[Transition, ...] = ()
    mails: tuple[Mail, ...] = ()
    final: bool = False
    cancels: bool = False  # a final state that ends the trajectory early (deadlines: cancelled)


@dataclass(frozen=True)
class Reminder:
    """An extra mail a deadline sends before its end, e.g. to members who have not answered.

    `before` is "2wd" (working days) or "3d" (days) before the end. People in the data lists
    `skip_lists`, or who fired one of `skip_events` in this trajectory, have answered and get
    nothing. The name is the step the sweep records, so each reminder goes out once.
    """

    name: str
    before: str
    mail: Mail
    skip_lists: tuple[str, ...] = ()
    skip_events: tuple[str, ...] = ()


@dataclass(frozen=True)
class Deadline:
    """A term that starts on entering the states it guards and ends on leaving them all."""

    name: str
    label: str
    guards: tuple[str, ...]
    org_term: str | None = None  # the organisation setting holding the term, e.g. "advice_term"
    term: str | None = None  # or a literal term such as "6m"
    base: str | None = None  # data field with the base date; None: the day it starts
    base_label: str = "start"
    override: str | None = None  # data field with an explicit end date
    on_expiry: str | None = None  # event the system fires when the term runs out
    alert: tuple[str, ...] = ("secretariat",)
    atw: bool = True
    reminders: tuple[Reminder, ...] = ()  # extra mails before the end (see Reminder)


@dataclass(frozen=True)
class Flow:
    """A whole flow definition: data only; `engine.machine.compile_flow` makes it runnable."""

    name: str
    title: str
    version: int
    start: str
    states: tuple[State, ...]
    start_by: tuple[str, ...]
    start_fields: tuple[Field, ...] = ()
    start_action: Action | None = None
    anywhere: tuple[Transition, ...] = ()
    deadlines: tuple[Deadline, ...] = ()

    def state(self, name: str) -> State:
        for state in self.states:
            if state.name == name:
                return state
        raise KeyError(name)

    @property
    def final_states(self) -> frozenset[str]:
        return frozenset(s.name for s in self.states if s.final)

    def transitions(self) -> tuple[Transition, ...]:
        """Every exit with its source states filled in, `anywhere` exits last."""
        own = tuple(t.from_states(s.name) for s in self.states for t in s.exits)
        open_states = tuple(s.name for s in self.states if not s.final)
        return own + tuple(t.from_states(*open_states) for t in self.anywhere)

    def events(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for t in self.transitions():
            seen.setdefault(t.event, None)
        return tuple(seen)
