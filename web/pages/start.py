"""Starting a trajectory: the flows the organisation uses, and the form of each one's start.

Only the secretariat starts trajectories here. The form has the fields the flow declares for
its start (engine.dsl: Flow.start_fields), each with its own widget; a refusal stands beside
its field and nothing is written. The trajectory is started by app.service.Service.start with
the signed-in person as the actor, exactly as `advies start` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from app import org_edit, planning
from app.sign_in import SignedIn
from engine import inputs
from engine.dsl import KNOWN_ROLES, Field, Flow
from engine.errors import InvalidInput, NotFound
from notifications.formatting import long_date
from web.site import MANAGERS, Site, redirect

NOTE = "note"
PLANNED = "planned"


@dataclass(frozen=True)
class PersonChoices:
    """The people a person field offers: first those with the role it asks for, then the rest
    of the organisation (only when the flow does not insist on the role)."""

    role_label: str | None
    preferred: list[org_edit.PersonView]
    others: list[org_edit.PersonView]


def router(site: Site) -> APIRouter:
    routes = APIRouter()
    _flows(routes, site)
    _form(routes, site)
    return routes


def _flows(routes: APIRouter, site: Site) -> None:
    @routes.get("/starten", response_class=HTMLResponse)
    def flows(request: Request) -> Response:
        who = site.who_may(request, *MANAGERS)
        found = [_summary(name, site.service.flow(name).flow) for name in who.flows]
        return site.render("site/start.html", who, current="/starten", heading="Traject starten",
                           flows=found)


def _summary(name: str, flow: Flow) -> dict[str, Any]:
    return {"name": name, "title": flow.title, "description": flow.description,
            "fields": [_label(f) for f in flow.start_fields]}


def _form(routes: APIRouter, site: Site) -> None:
    @routes.get("/starten/{flow}", response_class=HTMLResponse)
    def form(request: Request, flow: str) -> Response:
        who = site.who_may(request, *MANAGERS)
        found = _used(site, who, flow)
        return _page(site, who, found, {}, {})

    @routes.post("/starten/{flow}", response_class=HTMLResponse)
    async def start(request: Request, flow: str) -> Response:
        who = site.who_may(request, *MANAGERS)
        found = _used(site, who, flow)
        posted = await site.form(request, who)
        values = _values(found, posted)
        org = org_edit.view(site.service, who.org_slug)
        errors = _checked(found, values, org)
        note = _note(values.get(NOTE, ""), errors)
        planned = _planned(values.get(PLANNED, ""), errors)
        if errors:
            return _page(site, who, found, values, errors, org)
        raw = {f.name: values[f.name] for f in found.start_fields
               if f.name != "title" and values.get(f.name, "").strip()}
        try:
            started = site.service.start(found.name, who.org_slug, values.get("title", ""), who.email,
                                         raw, note, planned)
        except InvalidInput as error:  # also NotFound: a person or group that is not (or no longer) there
            return _page(site, who, found, values, _refusal(found, error.message), org)
        return redirect(f"/trajecten/{int(started['id'])}")


def _used(site: Site, who: SignedIn, name: str) -> Flow:
    """The flow `name` when this organisation uses it; 404 as for any page that is not there."""
    if name not in who.flows:
        raise NotFound("Deze soort traject bestaat niet of wordt door jouw organisatie niet gebruikt.")
    if name not in site.service.flows:
        raise NotFound("Deze soort traject bestaat niet.")
    return site.service.flow(name).flow


def _page(site: Site, who: SignedIn, flow: Flow, values: dict[str, str], errors: dict[str, str],
          org: org_edit.OrgView | None = None) -> HTMLResponse:
    org = org or org_edit.view(site.service, who.org_slug)
    return site.render("site/start_form.html", who, status=400 if errors else 200, current="/starten",
                       heading=("Niet gestart: " if errors else "") + f"{flow.title} starten",
                       flow=flow, fields=[_widget(f, org) for f in flow.start_fields],
                       values=values, errors=errors, note_max=inputs.MAX_NOTE,
                       planned=_planned_choices(site, who, flow))


def _label(f: Field) -> str:
    return f.label[:1].upper() + f.label[1:]


def _widget(f: Field, org: org_edit.OrgView) -> dict[str, Any]:
    """What the template needs to draw one field."""
    found: dict[str, Any] = {"field": f, "label": _label(f), "options": list(f.options)}
    if f.kind == "group":
        found["options"] = [g.name for g in org.groups] + list(f.options)
    if f.kind in ("person", "people"):
        found["people"] = _people(f, org)
    return found


def _people(f: Field, org: org_edit.OrgView) -> PersonChoices:
    role = f.role or (f.name if f.name in KNOWN_ROLES else None)
    if role is None:
        return PersonChoices(None, org.people, [])
    preferred = org.with_role(role)
    others = [] if f.role else [p for p in org.people if p not in preferred]
    return PersonChoices(org.role_label(role), preferred, others)


def _values(flow: Flow, posted: FormData) -> dict[str, str]:
    """What was typed, as text: the field names of the flow and the note; a list of people
    (checkboxes) as addresses separated by commas, as on the command line."""
    found: dict[str, str] = {}
    for f in flow.start_fields:
        given = [v for v in posted.getlist(f.name) if isinstance(v, str)]
        found[f.name] = ",".join(given) if f.kind == "people" else (given[0] if given else "")
    for name in (NOTE, PLANNED):
        extra = posted.get(name)
        found[name] = extra if isinstance(extra, str) else ""
    return found


def _checked(flow: Flow, values: dict[str, str], org: org_edit.OrgView) -> dict[str, str]:
    """Each field on its own, with the engine's checks, so that a refusal stands beside it."""
    people = {p.email: p for p in org.people}
    errors: dict[str, str] = {}
    for f in flow.start_fields:
        value = values.get(f.name, "")
        if not value.strip():
            if f.required:
                errors[f.name] = f"{_label(f)} ontbreekt: {'kies er een' if _chosen(f) else 'vul het in'}."
            continue
        try:
            inputs.coerce((f,), {f.name: value}, event="start", is_person=lambda e: e in people,
                          groups=[g.name for g in org.groups],
                          has_role=lambda e, role: e in people and role in people[e].roles)
        except InvalidInput as error:
            errors[f.name] = _plain(error.message, f)
    return errors


def _chosen(f: Field) -> bool:
    return f.kind in ("person", "people", "choice", "group", "date")


def _plain(message: str, f: Field) -> str:
    """The engine's sentence without the field's code name (people read the label)."""
    return message.replace(f" ({f.name})", "")


def _note(value: str, errors: dict[str, str]) -> str | None:
    if not value.strip():
        return None
    try:
        return inputs.check_note(value)
    except InvalidInput as error:
        errors[NOTE] = error.message
        return None


def _planned(value: str, errors: dict[str, str]) -> int | None:
    """The planning's request this trajectory starts, if one was chosen."""
    if not value.strip():
        return None
    if not value.isascii() or not value.isdigit() or len(value) > 18 or int(value) == 0:
        errors[PLANNED] = "Kies een verzoek uit de planning, of kies 'Geen'."
        return None
    return int(value)


def _planned_choices(site: Site, who: SignedIn, flow: Flow) -> list[tuple[str, str]]:
    """(id, 'date: title') of the organisation's planned requests this flow may start."""
    return [(str(i["id"]), f"{long_date(i['expected_on'])}: {i['title']}")
            for i in planning.listed(site.service.engine, who.org_slug)
            if i["flow"] in (None, flow.name)]


def _refusal(flow: Flow, message: str) -> dict[str, str]:
    """A refusal of the service beside the field it names; at the top when it names none."""
    named = next((f for f in flow.start_fields if f"({f.name})" in message), None)
    return {named.name: _plain(message, named)} if named else {"": message}
