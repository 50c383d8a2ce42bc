"""Check one row of an import file and plan its trajectory: the data, the state and the
deadlines the flow's own rules give from the row's dates (engine.deadline_rules.on_move, as if
the trajectory had entered its state here, on the day in `since`).

Every value is checked as the flow's start and events check it (engine.inputs with the flow's
Field definitions). A person must be in the organisation with the role the field names (a policy
adviser has the role policy_adviser, group members the role member). A row is refused (one Dutch
reason) when its state is final (only running trajectories come in), when a call for a group is
open in it (no one got a personal link from us: import it one step earlier and call again), or
when a date a deadline of its state counts from is missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from app import directory
from app.import_rows import NEEDED, Row, people_list
from engine import deadline_rules, effects, inputs
from engine.dsl import KNOWN_ROLES, Actor, Context, Field, Flow, OrgSettings, a_date, group, people, person
from engine.errors import AdviesError
from engine.machine import CompiledFlow
from engine.terms import TermError, format_date, latest_day
from storage.tables import Organisation

SINCE = a_date("since", "datum waarop de huidige stap begon", required=False)
ADVICE_SENT = a_date("advice_sent_on", "datum waarop het advies is verstuurd", required=False)
RESPONSE = a_date("response_received_on", "datum waarop de reactie binnenkwam", required=False)
FOLLOW_UP = a_date("follow_up_on", "datum voor de nazorg", required=False)
MEETING = a_date("meeting_on", "datum van het gesprek", required=False)
ANNOUNCED = a_date("announced_on", "datum van de aankondiging", required=False)
ADOPTED = a_date("adopted_on", "datum van de plenaire vergadering", required=False)
GROUP = people("group", "groepsleden", required=False)
CONTACT = person("contact_person", "centraal aanspreekpunt", required=False)
OFFICIAL = person("official", "ambtenaar", required=False, role="policy_adviser")
OFFICER = person("officer", "beleidsmedewerker", required=False, role="policy_adviser")
ASSIGNED = group("assigned_group", "themagroep of werkgroep", required=False, also=("werkgroep",))
PLATFORM = people("platform_group", "deelnemers van het Platform Inclusie", required=False)

#: The columns beyond the start fields each flow takes: what its trajectory knows in a later state.
LATER: dict[str, tuple[Field, ...]] = {
    "asked_advice": (SINCE, GROUP, CONTACT, ADVICE_SENT, RESPONSE, FOLLOW_UP),
    "unasked_advice": (SINCE, OFFICIAL, GROUP, CONTACT, ADVICE_SENT, RESPONSE, FOLLOW_UP),
    "md_signal": (SINCE, OFFICER, MEETING, ANNOUNCED, ADOPTED, ADVICE_SENT, RESPONSE),
    "md_asked_advice": (SINCE, ASSIGNED, GROUP, PLATFORM, ADOPTED, ADVICE_SENT, RESPONSE),
}


def _from(states: tuple[str, ...], *names: str) -> dict[str, tuple[str, ...]]:
    return dict.fromkeys(states, names)


MD_SIGNAL_MET = ("officer_meeting_planned", "awaiting_report", "assessing_report",
                 "alderman_meeting_requested", "assessing_alderman_outcome", "drafting_advice",
                 "awaiting_response", "forward_to_council")
UNASKED_CONTACTED = ("contacting", "deciding", "own_track", "awaiting_response", "monitoring")
MD_ASSIGNED = ("assigned", "drafting", "plenary", "sending", "awaiting_response",
               "forward_to_council")
#: The columns a state needs beyond the dates its deadlines count from (checked generically).
NEEDS: dict[str, dict[str, tuple[str, ...]]] = {
    "asked_advice": {**_from(("matching", "choosing_contact"), "group"),
                     **_from(("consulting", "advising"), "group", "contact_person")},
    "unasked_advice": _from(UNASKED_CONTACTED, "official"),
    "md_signal": _from(MD_SIGNAL_MET, "officer", "meeting_on"),
    "md_asked_advice": _from(MD_ASSIGNED, "assigned_group"),
}
#: Dates of what happened already: not after the day of the import.
PAST = ("since", "received_on", "advice_sent_on", "response_received_on", "announced_on",
        "adopted_on")
#: The roles the people of a list column must have.
LIST_ROLES = {"group": "member", "platform_group": "inclusion_platform"}
WORK_GROUP = "werkgroep"


def _every_column() -> frozenset[str]:
    from flows import all_flows

    names = set(NEEDED)
    for compiled in all_flows().values():
        names.update(f.name for f in compiled.flow.start_fields)
    names.update(f.name for fields in LATER.values() for f in fields)
    return frozenset(names)


COLUMNS = _every_column()


@dataclass(frozen=True)
class Planned:
    """One checked row: the trajectory to write and its deadlines."""

    line: int
    org: Organisation
    flow: CompiledFlow
    actor: Actor
    title: str
    state: str
    since: date
    data: dict[str, Any]
    deadlines: tuple[effects.StartDeadline, ...]


class RowProblem(Exception):
    """Why one row cannot be imported (Dutch, without its line number)."""


class Planner:
    """Plans the rows of one file against the organisations and flows it names."""

    def __init__(self, flows: Mapping[str, CompiledFlow], orgs: Mapping[str, Organisation],
                 actors: Mapping[str, tuple[Actor, directory.People]],
                 titles: set[tuple[int, str]], today: date, only_org: str | None = None) -> None:
        self.flows = flows
        self.only_org = only_org
        self.orgs = orgs
        self.actors = actors
        self.titles = set(titles)
        self.seen: dict[tuple[int, str], int] = {}
        self.computed: dict[tuple[Any, ...], tuple[effects.StartDeadline, ...]] = {}
        self.today = today
        self.latest = latest_day(today)
        self.settings = {slug: directory.settings_of(org) for slug, org in orgs.items()}

    def plan(self, row: Row) -> Planned | str:
        """The planned trajectory, or why the row is wrong."""
        try:
            return self._plan(row)
        except RowProblem as problem:
            return str(problem)
        except TermError as error:
            return str(error)
        except AdviesError as error:
            return error.message

    def _plan(self, row: Row) -> Planned:
        values = {k: v.strip() for k, v in row.values.items()}
        if "" in values:
            raise RowProblem(f"deze regel {values['']}.")
        compiled, org = self._flow(values), self._org(values)
        actor, people_ = self.actors[org.slug]
        flow = compiled.flow
        state = self._state(flow, values["state"])
        _only_own_columns(flow, values)
        start = self._checked(_start_fields(flow), values, people_, org)
        later = self._checked(LATER[flow.name], values, people_, org)
        title = start["title"]
        self._new_title(org, title, row.line)
        since = date.fromisoformat(later.pop("since")) if "since" in later else self.today
        settings = self.settings[org.slug]
        data = _data(compiled, state, start, later, Context(state, start, start, actor, settings,
                                                             since))
        _needs(flow, state, data, values)
        return Planned(row.line, org, compiled, actor, title, state, since, data,
                       self._deadlines(flow, state, data, actor, settings, since))

    def _deadlines(self, flow: Flow, state: str, data: dict[str, Any], actor: Actor,
                   settings: OrgSettings, since: date) -> tuple[effects.StartDeadline, ...]:
        """The deadlines of `_deadlines`, computed once for each set of the dates they count
        from (a spreadsheet of a year has many rows with the same dates)."""
        key = (flow.name, state, settings.slug, since,
               *(data.get(name) for spec in flow.deadlines
                 for name in (spec.base, spec.override) if name),
               *(spec.unless in data for spec in flow.deadlines if spec.unless))
        if key not in self.computed:
            self.computed[key] = _deadlines(flow, state, data, actor, settings, since)
        return self.computed[key]

    def _flow(self, values: dict[str, str]) -> CompiledFlow:
        name = values.get("flow", "")
        if name not in self.flows or name not in LATER:
            known = ", ".join(n for n in self.flows if n in LATER)
            raise RowProblem(f"de stroom '{name}' bestaat niet of kan niet worden geïmporteerd. "
                             f"Stromen: {known}.")
        return self.flows[name]

    def _org(self, values: dict[str, str]) -> Organisation:
        slug = values.get("organisation", "")
        if self.only_org and slug != self.only_org:
            raise RowProblem(f"hier importeer je alleen trajecten van je eigen organisatie "
                             f"({self.only_org}), niet van '{slug}'.")
        if slug not in self.orgs:
            raise RowProblem(f"de organisatie '{slug}' bestaat niet.")
        org = self.orgs[slug]
        if org.flows and values["flow"] not in org.flows:
            raise RowProblem(f"{org.name} gebruikt de stroom '{values['flow']}' niet.")
        return org

    @staticmethod
    def _state(flow: Flow, name: str) -> str:
        states = {s.name: s for s in flow.states}
        if name not in states:
            raise RowProblem(f"de stap '{name}' bestaat niet in {flow.name}. Stappen die kunnen: "
                             f"{', '.join(importable_states(flow))}.")
        if states[name].final:
            raise RowProblem(f"'{name}' is een eindstap: alleen lopende trajecten worden "
                             "geïmporteerd.")
        if name not in importable_states(flow):
            raise RowProblem(f"in de stap '{name}' loopt een oproep met persoonlijke links; "
                             "importeer het traject een stap eerder en roep daarna opnieuw op.")
        return name

    def _checked(self, fields: tuple[Field, ...], values: dict[str, str],
                 people_: directory.People, org: Organisation) -> dict[str, Any]:
        raw = {f.name: _raw(f, values.get(f.name, "")) for f in fields if values.get(f.name)}
        for f in fields:
            if f.required and f.name not in raw:
                raise RowProblem(f"de kolom {f.name} ({f.label}) is leeg.")
        checked = inputs.coerce(fields, raw, event="import", is_person=people_.is_person,
                                groups=list(directory.groups_of(org)), has_role=people_.has_role)
        self._dates_fit(fields, checked)
        _list_roles(checked, people_)
        return checked

    def _dates_fit(self, fields: tuple[Field, ...], checked: dict[str, Any]) -> None:
        for f in fields:
            if f.kind != "date" or f.name not in checked:
                continue
            day = date.fromisoformat(checked[f.name])
            if f.name in PAST and day > self.today:
                raise RowProblem(f"{f.label} ({f.name}) {format_date(day)} ligt in de toekomst.")
            if day > self.latest:
                raise RowProblem(f"{f.label} ({f.name}) {format_date(day)} ligt te ver vooruit.")

    def _new_title(self, org: Organisation, title: str, line: int) -> None:
        key = (org.id or 0, title.casefold())
        if key in self.titles:
            raise RowProblem(f"{org.name} heeft al een traject '{title}'; een titel komt één "
                             "keer voor (is dit bestand al eens geïmporteerd?).")
        if key in self.seen:
            raise RowProblem(f"de titel '{title}' staat ook op regel {self.seen[key]}.")
        self.seen[key] = line


def importable_states(flow: Flow) -> list[str]:
    """The states a trajectory may be imported in: not final, no call for a group open in it
    (a call's sign-up term that every entry starts)."""
    calling = {s for d in flow.deadlines if d.on_expiry and not d.unless for s in d.guards}
    return [s.name for s in flow.states if not s.final and s.name not in calling]


def _start_fields(flow: Flow) -> tuple[Field, ...]:
    """The flow's start fields; a field named after a role asks for a person with that role."""
    return tuple(replace(f, role=f.name) if f.kind == "person" and f.role is None
                 and f.name in KNOWN_ROLES else f for f in flow.start_fields)


def _raw(f: Field, value: str) -> str:
    return people_list(value) if f.kind == "people" else value


def _only_own_columns(flow: Flow, values: dict[str, str]) -> None:
    own = set(NEEDED) | {f.name for f in (*flow.start_fields, *LATER[flow.name])}
    unknown = sorted(k for k, v in values.items() if v and k not in COLUMNS)
    if unknown:
        raise RowProblem(f"de kolom '{unknown[0]}' is onbekend.")
    other = sorted(k for k, v in values.items() if v and k not in own)
    if other:
        raise RowProblem(f"de kolom {other[0]} hoort niet bij de stroom {flow.name}; laat haar leeg.")


def _list_roles(checked: dict[str, Any], people_: directory.People) -> None:
    for name, role in LIST_ROLES.items():
        for email in checked.get(name, []):
            if not people_.has_role(email, role):
                raise RowProblem(f"{email} in de kolom {name} heeft niet de rol {role}.")


def _data(compiled: CompiledFlow, state: str, start: dict[str, Any], later: dict[str, Any],
          ctx: Context) -> dict[str, Any]:
    """The trajectory's data: what the flow's start makes of the start fields, then what it
    knows in its state."""
    flow = compiled.flow
    data = dict(flow.start_action(ctx)) if flow.start_action else dict(start)
    assigned = later.pop("assigned_group", None)
    if assigned:
        data = _assign(compiled, replace(ctx, data=data), assigned, later)
    data.update(later)
    if "contact_person" in data and data["contact_person"] not in data.get("group", []):
        raise RowProblem("het centraal aanspreekpunt (contact_person) moet in de groep (group) "
                         "zitten.")
    if PLATFORM in LATER[flow.name] and state in MD_ASSIGNED:
        data.setdefault("platform_group", [])  # the Platform's call was done before the import
    return data


def _assign(compiled: CompiledFlow, ctx: Context, assigned: str,
            later: dict[str, Any]) -> dict[str, Any]:
    """The group as the flow's own `assign` makes it: a theme group's members, or the members
    of a work group (the column group)."""
    members = later.pop("group", None)
    if (assigned == WORK_GROUP) != bool(members):
        raise RowProblem("geef de leden in de kolom group alleen (en altijd) bij een werkgroep.")
    payload = {"group": assigned, **({"members": members} if members else {})}
    action = compiled.candidates("request_received", "assign")[0].action
    assert action is not None
    return dict(action(replace(ctx, payload=payload)))


def _needs(flow: Flow, state: str, data: dict[str, Any], values: dict[str, str]) -> None:
    """The columns the state needs: its own, and the dates its deadlines count from."""
    for name in NEEDS[flow.name].get(state, ()):
        if not data.get(name) and not values.get(name):
            raise RowProblem(f"in de stap '{state}' is de kolom {name} nodig.")
    for spec in flow.deadlines:
        if state not in spec.guards or (spec.unless and spec.unless in data):
            continue
        if spec.override and values.get(spec.override):
            continue
        base = spec.base or "since"
        if not values.get(base):
            raise RowProblem(f"de {spec.label} telt vanaf de kolom {base}, en die is leeg.")


def _deadlines(flow: Flow, state: str, data: dict[str, Any], actor: Actor,
               settings: OrgSettings, since: date) -> tuple[effects.StartDeadline, ...]:
    """The deadlines the flow starts on entering `state` (from nowhere), counted on `since`."""
    ctx = Context(state, data, {}, actor, settings, since)
    found = deadline_rules.on_move(flow, ctx, None, state)
    return tuple(e for e in found if isinstance(e, effects.StartDeadline))
