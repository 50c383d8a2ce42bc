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
from functools import cached_property
from typing import Any, Literal

FieldKind = Literal[
    "text", "longtext", "date", "time", "person", "people", "url", "term", "deadline", "int",
    "choice", "group",
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
        "college",
        "council_clerk",
    }
)
#: Roles a person holds through a trajectory or a group rather than through the organisation
#: file: the contact person of a trajectory, the chair of one of the organisation's groups.
TRAJECTORY_ROLES = frozenset({"system", "contact_person", "group_chair"})


@dataclass(frozen=True)
class Actor:
    """Who fires an event: a person of the organisation, or the system itself."""

    email: str
    name: str
    roles: frozenset[str]


SYSTEM = Actor(email="systeem", name="Adviestraject (automatisch)", roles=frozenset({"system"}))


@dataclass(frozen=True)
class Words:
    """The organisation's own words for itself, its members and its groups (DESIGN.md §3)."""

    council: str = "adviesraad"
    member: str = "deelnemer"
    members: str = "deelnemers"
    group: str = "projectgroep"
    secretariat: str = "secretariaat"

    def count(self, number: int) -> str:
        """'1 deelnemer', '3 deelnemers'."""
        return f"{number} {self.member if number == 1 else self.members}"

    @property
    def the_secretariat(self) -> str:
        """With its article: 'het secretariaat', 'de stuurgroep', 'de ambtelijk secretaris'."""
        last = self.secretariat.split()[-1].lower() if self.secretariat.strip() else ""
        return f"{'het' if last in HET_WORDS else 'de'} {self.secretariat}"


#: The words a council may use for its secretariat that take 'het' (the rest take 'de').
HET_WORDS = frozenset({"secretariaat", "bestuur", "team", "kernteam", "platform", "bureau"})


@dataclass(frozen=True)
class OrgGroup:
    """A standing group of the organisation (a theme group): its members and its chair."""

    name: str
    members: tuple[str, ...]
    chair: str | None = None


@dataclass(frozen=True)
class OrgSettings:
    """The organisation's rules that flows read: terms, group sizes, recess, words, groups."""

    slug: str
    name: str
    terms: Mapping[str, str]
    group_min: int = 5
    group_max: int = 10
    recess: tuple[str, str] | None = None
    words: Words = field(default_factory=Words)
    groups: Mapping[str, OrgGroup] = field(default_factory=dict)
    flows: tuple[str, ...] | None = None  # None: every flow


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
    options: tuple[str, ...] = ()  # a choice: the values that may be given
    refused: tuple[tuple[str, str], ...] = ()  # a choice: values refused, with the reason
    role: str | None = None  # a person: the role they must hold in the organisation


def choice(name: str, label: str, options: tuple[str, ...], *, required: bool = True,
           refused: tuple[tuple[str, str], ...] = ()) -> Field:
    """One of `options`; a value in `refused` is refused with its reason (exit 2)."""
    return Field(name, label, "choice", required, options, refused)


def group(name: str, label: str, *, required: bool = True, also: tuple[str, ...] = ()) -> Field:
    """The name of one of the organisation's groups (or one of the words in `also`)."""
    return Field(name, label, "group", required, also)


def people(name: str, label: str, *, required: bool = True) -> Field:
    """E-mail addresses of people of the organisation, separated by commas."""
    return Field(name, label, "people", required)


def text(name: str, label: str, *, required: bool = True) -> Field:
    return Field(name, label, "text", required)


def longtext(name: str, label: str, *, required: bool = True) -> Field:
    return Field(name, label, "longtext", required)


def a_date(name: str, label: str, *, required: bool = True) -> Field:
    return Field(name, label, "date", required)


def a_time(name: str, label: str, *, required: bool = True) -> Field:
    return Field(name, label, "time", required)


def person(name: str, label: str, *, required: bool = True, role: str | None = None) -> Field:
    return Field(name, label, "person", required, role=role)


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
    when: Callable[[Context], bool] | None = None  # sent only when this holds after the event


def mail(template: str, to: Recipients, *, answer_link: bool = False, invitation: bool = False,
         when: Callable[[Context], bool] | None = None) -> Mail:
    return Mail(template, to, answer_link, invitation, when)


#: A check of what a person entered against the trajectory: None, or why it is wrong (Dutch).
Check = Callable[[Context], str | None]


@dataclass(frozen=True)
class StartFlow:
    """Entering a state starts a linked trajectory of another flow in the same transaction.

    `payload` builds the new trajectory's start data from this one (pure); `relation` is how
    this trajectory names the new one in its links, `back` how the new one names this one.
    """

    flow: str
    payload: Callable[[Context], dict[str, Any]]
    relation: str
    back: str


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
    checks: tuple[Check, ...] = ()
    ends: tuple[str, ...] = ()  # deadlines this event meets, also when it stays in its state

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
    checks: tuple[Check, ...] = ()
    ends: tuple[str, ...] = ()

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
            checks=self.checks,
            ends=self.ends,
        )


def on(
    event: str,
    *,
    by: tuple[str, ...],
    fields: tuple[Field, ...] = (),
    action: Action | None = None,
    label: str = "",
    checks: tuple[Check, ...] = (),
    ends: tuple[str, ...] = (),
) -> On:
    return On(event=event, by=by, fields=fields, action=action, label=label, checks=checks,
              ends=ends)


@dataclass(frozen=True)
class State:
    """A state with its exits and the mails sent on entering it."""

    name: str
    label: str
    exits: tuple[Transition, ...] = ()
    mails: tuple[Mail, ...] = ()
    final: bool = False
    cancels: bool = False  # a final state that ends the trajectory early (deadlines: cancelled)
    starts: tuple[StartFlow, ...] = ()  # linked trajectories started on entering


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
    unless: str | None = None  # a data field: once it exists, entering again starts no new term


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
    #: The calls for a group this flow makes (engine.calls.Call), so that an answer page can
    #: find the open one. Typed loosely to keep the DSL free of the call module.
    calls: tuple[Any, ...] = ()
    #: One Dutch sentence that says when to start this flow (the start page shows it).
    description: str = ""

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
        return self._transitions

    @cached_property
    def _transitions(self) -> tuple[Transition, ...]:
        # computed once per flow: the history of every view asks for its events' labels
        own = tuple(t.from_states(s.name) for s in self.states for t in s.exits)
        open_states = tuple(s.name for s in self.states if not s.final)
        return own + tuple(t.from_states(*open_states) for t in self.anywhere)

    @cached_property
    def _labels(self) -> dict[str, str]:
        labels: dict[str, str] = {}
        for t in self.transitions():
            if t.label:
                labels.setdefault(t.event, t.label)
        return labels

    def events(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for t in self.transitions():
            seen.setdefault(t.event, None)
        return tuple(seen)

    def event_label(self, event: str) -> str:
        """The Dutch label people read for an event ('aanmelden' for sign_up)."""
        return self._labels.get(event, event)
