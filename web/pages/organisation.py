"""The organisation: its name, people and their roles, groups, terms, words, the kinds of
trajectories it uses, its recess and reminders, as the organisation file holds them. Staff see it
and may download it as an organisation file; the secretariat changes it, with the same checks as
the file (app.org_edit). Every change is a POST with the CSRF token that ends in a 303 back to the
organisation page with a confirmation, or the form again (400) with the refusal beside its
field and nothing written. A person is always of the signed-in person's own organisation:
an id of another one is a 404.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from app import org_edit
from app.sign_in import SignedIn
from engine.errors import NotFound
from engine.reminders import DEFAULT_STEPS
from web.site import MANAGERS, STAFF, Site, attachment, redirect

PAGE = "/organisatie"
MAX_ID = 2**62

#: The confirmation after each change (the redirect carries only its key: no names in a URL).
DONE = {
    "persoon-toegevoegd": "De persoon is toegevoegd.",
    "persoon-gewijzigd": "De gegevens van de persoon zijn opgeslagen.",
    "persoon-verwijderd": ("De persoon is verwijderd: hij of zij heeft geen rol meer en is uit de "
                           "groepen en lopende trajecten gehaald; de naam blijft in de geschiedenis. "
                           "{the_secretariat} krijgt een e-mail met wat er veranderd is."),
    "groep-toegevoegd": "De groep is toegevoegd.",
    "groep-gewijzigd": "De groep is opgeslagen.",
    "groep-verwijderd": "De groep is verwijderd.",
    "termijnen": "De termijnen zijn opgeslagen.",
    "naam": "De naam is opgeslagen.",
    "woorden": "De woorden zijn opgeslagen. Ze staan vanaf nu in elke e-mail en op elke pagina.",
    "soorten": "De soorten trajecten zijn opgeslagen.",
    "reces": "Het reces en de herinneringen zijn opgeslagen. Ze gelden voor termijnen die vanaf nu "
             "beginnen.",
}
RECESS_KEYS = ("recess", "recess_start_day", "recess_start_month", "recess_end_day", "recess_end_month",
               "reminders")


def router(site: Site) -> APIRouter:
    routes = APIRouter()
    _overview(routes, site)
    _new_person(routes, site)
    _person(routes, site)
    _remove_person(routes, site)
    _new_group(routes, site)
    _group(routes, site)
    _remove_group(routes, site)
    _terms(routes, site)
    _name(routes, site)
    _words(routes, site)
    _flows(routes, site)
    _recess(routes, site)
    _file(routes, site)
    return routes


def _overview(routes: APIRouter, site: Site) -> None:
    @routes.get(PAGE, response_class=HTMLResponse)
    def organisation(request: Request, gedaan: str = "") -> Response:
        who = site.who_may(request, *STAFF)
        org = org_edit.view(site.service, who.org_slug)
        return site.render("site/organisation.html", who, current=PAGE, heading="Organisatie", org=org,
                           done=_done(gedaan, who),
                           may_change=who.has(*MANAGERS),
                           flows=[c.label for c in org_edit.flow_choices(site.service)
                                  if c.name in who.flows])


def _done(key: str, who: SignedIn) -> str:
    the = who.words.the_secretariat
    return DONE.get(key, "").format(the_secretariat=the[:1].upper() + the[1:])


# --- people ----------------------------------------------------------------------------------


def _new_person(routes: APIRouter, site: Site) -> None:
    @routes.get(f"{PAGE}/personen/nieuw", response_class=HTMLResponse)
    def form(request: Request) -> Response:
        who = site.who_may(request, *MANAGERS)
        return _person_page(site, who, None, {"name": "", "email": "", "roles": []}, {})

    @routes.post(f"{PAGE}/personen/nieuw", response_class=HTMLResponse)
    async def add(request: Request) -> Response:
        who = site.who_may(request, *MANAGERS)
        posted = await site.form(request, who)
        name, email, roles = _text(posted, "name"), _text(posted, "email"), _texts(posted, "roles")
        return _attempt(lambda: org_edit.add_person(site.service, who.org_slug, name, email, roles),
                        "persoon-toegevoegd",
                        lambda errors: _person_page(site, who, None, {"name": name, "email": email,
                                                                      "roles": roles}, errors))


def _person(routes: APIRouter, site: Site) -> None:
    @routes.get(PAGE + "/personen/{person_id}", response_class=HTMLResponse)
    def form(request: Request, person_id: str) -> Response:
        who = site.who_may(request, *MANAGERS)
        person = org_edit.view(site.service, who.org_slug).person(_id(person_id))
        return _person_page(site, who, person,
                            {"name": person.name, "email": person.email, "roles": list(person.roles)}, {})

    @routes.post(PAGE + "/personen/{person_id}", response_class=HTMLResponse)
    async def change(request: Request, person_id: str) -> Response:
        who = site.who_may(request, *MANAGERS)
        person = org_edit.view(site.service, who.org_slug).person(_id(person_id))
        posted = await site.form(request, who)
        name, roles = _text(posted, "name"), _texts(posted, "roles")
        return _attempt(lambda: org_edit.change_person(site.service, who.org_slug, person.id, name, roles,
                                                       who.email),
                        "persoon-gewijzigd",
                        lambda errors: _person_page(site, who, person, {"name": name, "email": person.email,
                                                                        "roles": roles}, errors))


def _remove_person(routes: APIRouter, site: Site) -> None:
    @routes.get(PAGE + "/personen/{person_id}/verwijderen", response_class=HTMLResponse)
    def confirm(request: Request, person_id: str) -> Response:
        who = site.who_may(request, *MANAGERS)
        return _remove_person_page(site, who, _id(person_id), {})

    @routes.post(PAGE + "/personen/{person_id}/verwijderen", response_class=HTMLResponse)
    async def remove(request: Request, person_id: str) -> Response:
        who = site.who_may(request, *MANAGERS)
        number = _id(person_id)
        org_edit.view(site.service, who.org_slug).person(number)
        await site.form(request, who)
        return _attempt(lambda: org_edit.remove_person(site.service, who.org_slug, number, who.email),
                        "persoon-verwijderd",
                        lambda errors: _remove_person_page(site, who, number, errors))


def _person_page(site: Site, who: SignedIn, person: org_edit.PersonView | None, values: dict[str, Any],
                 errors: dict[str, str]) -> HTMLResponse:
    org = org_edit.view(site.service, who.org_slug)
    heading = f"{person.name} wijzigen" if person else "Persoon toevoegen"
    return site.render("site/organisation_person.html", who, status=400 if errors else 200, current=PAGE,
                       heading=("Niet opgeslagen: " if errors else "") + heading, title=heading,
                       org=org, person=person, values=values, errors=errors)


def _remove_person_page(site: Site, who: SignedIn, person_id: int, errors: dict[str, str]) -> HTMLResponse:
    org = org_edit.view(site.service, who.org_slug)
    person = org.person(person_id)
    groups = [g.name for g in org.groups if any(m.email == person.email for m in g.members)]
    return site.render("site/organisation_person_remove.html", who, status=400 if errors else 200,
                       current=PAGE, heading=f"{person.name} verwijderen", org=org, person=person,
                       groups=groups, errors=errors, is_self=person.email == who.email)


# --- groups ----------------------------------------------------------------------------------


def _new_group(routes: APIRouter, site: Site) -> None:
    @routes.get(f"{PAGE}/groepen/nieuw", response_class=HTMLResponse)
    def form(request: Request) -> Response:
        who = site.who_may(request, *MANAGERS)
        return _group_page(site, who, None, {"name": "", "members": [], "chair": ""}, {})

    @routes.post(f"{PAGE}/groepen/nieuw", response_class=HTMLResponse)
    async def add(request: Request) -> Response:
        who = site.who_may(request, *MANAGERS)
        posted = await site.form(request, who)
        values = _group_values(posted)
        return _attempt(lambda: org_edit.add_group(site.service, who.org_slug, values["name"],
                                                   values["members"], values["chair"]),
                        "groep-toegevoegd",
                        lambda errors: _group_page(site, who, None, values, errors))


def _group(routes: APIRouter, site: Site) -> None:
    @routes.get(f"{PAGE}/groepen/wijzigen", response_class=HTMLResponse)
    def form(request: Request, naam: str = "") -> Response:
        who = site.who_may(request, *MANAGERS)
        group = org_edit.view(site.service, who.org_slug).group(naam)
        return _group_page(site, who, group, {"name": group.name, "members": [m.email for m in group.members],
                                              "chair": group.chair.email if group.chair else ""}, {})

    @routes.post(f"{PAGE}/groepen/wijzigen", response_class=HTMLResponse)
    async def change(request: Request) -> Response:
        who = site.who_may(request, *MANAGERS)
        posted = await site.form(request, who)
        group = org_edit.view(site.service, who.org_slug).group(_text(posted, "oude_naam"))
        values = _group_values(posted)
        return _attempt(lambda: org_edit.change_group(site.service, who.org_slug, group.name, values["name"],
                                                      values["members"], values["chair"]),
                        "groep-gewijzigd",
                        lambda errors: _group_page(site, who, group, values, errors))


def _remove_group(routes: APIRouter, site: Site) -> None:
    @routes.get(f"{PAGE}/groepen/verwijderen", response_class=HTMLResponse)
    def confirm(request: Request, naam: str = "") -> Response:
        who = site.who_may(request, *MANAGERS)
        org = org_edit.view(site.service, who.org_slug)
        return site.render("site/organisation_group_remove.html", who, current=PAGE,
                           heading=f"{org.group(naam).name} verwijderen", org=org, group=org.group(naam))

    @routes.post(f"{PAGE}/groepen/verwijderen", response_class=HTMLResponse)
    async def remove(request: Request) -> Response:
        who = site.who_may(request, *MANAGERS)
        posted = await site.form(request, who)
        org_edit.remove_group(site.service, who.org_slug, _text(posted, "naam"))
        return redirect(PAGE, {"gedaan": "groep-verwijderd"})


def _group_values(posted: FormData) -> dict[str, Any]:
    return {"name": _text(posted, "name"), "members": _texts(posted, "members"),
            "chair": _text(posted, "chair")}


def _group_page(site: Site, who: SignedIn, group: org_edit.GroupView | None, values: dict[str, Any],
                errors: dict[str, str]) -> HTMLResponse:
    org = org_edit.view(site.service, who.org_slug)
    heading = f"{group.name} wijzigen" if group else f"{org.words.group.capitalize()} toevoegen"
    candidates = _candidates(org, group)
    return site.render("site/organisation_group.html", who, status=400 if errors else 200, current=PAGE,
                       heading=("Niet opgeslagen: " if errors else "") + heading, title=heading,
                       org=org, group=group, candidates=candidates, values=values, errors=errors,
                       options=[(p.email, f"{p.name} ({p.email})") for p in candidates])


def _candidates(org: org_edit.OrgView, group: org_edit.GroupView | None) -> list[org_edit.PersonView]:
    """Who may be ticked as a member: the organisation's members, and whoever is in the group now."""
    inside = {m.email for m in group.members} if group else set()
    return [p for p in org.people if "member" in p.roles or p.email in inside]


# --- terms -----------------------------------------------------------------------------------


def _terms(routes: APIRouter, site: Site) -> None:
    @routes.get(f"{PAGE}/termijnen", response_class=HTMLResponse)
    def form(request: Request) -> Response:
        who = site.who_may(request, *MANAGERS)
        org = org_edit.view(site.service, who.org_slug)
        values = {t.key: t.value for t in org.terms}
        values.update(group_min=str(org.group_min), group_max=str(org.group_max),
                      mail_retention_months=str(org.mail_retention_months))
        return _terms_page(site, who, values, {})

    @routes.post(f"{PAGE}/termijnen", response_class=HTMLResponse)
    async def change(request: Request) -> Response:
        who = site.who_may(request, *MANAGERS)
        posted = await site.form(request, who)
        keys = [t.key for t in org_edit.TERMS] + list(org_edit.NUMBERS)
        values = {key: _text(posted, key) for key in keys}
        return _attempt(lambda: org_edit.set_terms(site.service, who.org_slug, values), "termijnen",
                        lambda errors: _terms_page(site, who, values, errors))


def _terms_page(site: Site, who: SignedIn, values: dict[str, str], errors: dict[str, str]) -> HTMLResponse:
    org = org_edit.view(site.service, who.org_slug)
    return site.render("site/organisation_terms.html", who, status=400 if errors else 200, current=PAGE,
                       heading=("Niet opgeslagen: " if errors else "") + "Termijnen wijzigen", org=org,
                       values=values, errors=errors)


# --- the name and the words ------------------------------------------------------------------


def _name(routes: APIRouter, site: Site) -> None:
    @routes.get(f"{PAGE}/naam", response_class=HTMLResponse)
    def form(request: Request) -> Response:
        who = site.who_may(request, *MANAGERS)
        return _name_page(site, who, org_edit.view(site.service, who.org_slug).name, {})

    @routes.post(f"{PAGE}/naam", response_class=HTMLResponse)
    async def change(request: Request) -> Response:
        who = site.who_may(request, *MANAGERS)
        name = _text(await site.form(request, who), "name")
        return _attempt(lambda: org_edit.set_name(site.service, who.org_slug, name), "naam",
                        lambda errors: _name_page(site, who, name, errors))


def _name_page(site: Site, who: SignedIn, name: str, errors: dict[str, str]) -> HTMLResponse:
    org = org_edit.view(site.service, who.org_slug)
    return site.render("site/organisation_name.html", who, status=400 if errors else 200, current=PAGE,
                       heading=("Niet opgeslagen: " if errors else "") + "Naam wijzigen", org=org,
                       value=name, errors=errors)


def _words(routes: APIRouter, site: Site) -> None:
    @routes.get(f"{PAGE}/woorden", response_class=HTMLResponse)
    def form(request: Request) -> Response:
        who = site.who_may(request, *MANAGERS)
        return _words_page(site, who, org_edit.view(site.service, who.org_slug).own_words, {})

    @routes.post(f"{PAGE}/woorden", response_class=HTMLResponse)
    async def change(request: Request) -> Response:
        who = site.who_may(request, *MANAGERS)
        posted = await site.form(request, who)
        values = {spec.key: _text(posted, spec.key) for spec in org_edit.WORDS}
        return _attempt(lambda: org_edit.set_words(site.service, who.org_slug, values), "woorden",
                        lambda errors: _words_page(site, who, values, errors))


def _words_page(site: Site, who: SignedIn, values: dict[str, str], errors: dict[str, str]) -> HTMLResponse:
    org = org_edit.view(site.service, who.org_slug)
    return site.render("site/organisation_words.html", who, status=400 if errors else 200, current=PAGE,
                       heading=("Niet opgeslagen: " if errors else "") + "Woorden wijzigen", org=org,
                       values=values, errors=errors)


# --- flows, recess and reminders -------------------------------------------------------------


def _flows(routes: APIRouter, site: Site) -> None:
    @routes.get(f"{PAGE}/soorten", response_class=HTMLResponse)
    def form(request: Request) -> Response:
        who = site.who_may(request, *MANAGERS)
        used = org_edit.view(site.service, who.org_slug).flows
        return _flows_page(site, who, used or list(site.service.flows), {})

    @routes.post(f"{PAGE}/soorten", response_class=HTMLResponse)
    async def change(request: Request) -> Response:
        who = site.who_may(request, *MANAGERS)
        chosen = _texts(await site.form(request, who), "flows")
        return _attempt(lambda: org_edit.set_flows(site.service, who.org_slug, chosen), "soorten",
                        lambda errors: _flows_page(site, who, chosen, errors))


def _flows_page(site: Site, who: SignedIn, chosen: list[str], errors: dict[str, str]) -> HTMLResponse:
    org = org_edit.view(site.service, who.org_slug)
    choices = org_edit.flow_choices(site.service)
    options = [(c.name, c.label) for c in choices]
    about = [(c.label, c.description) for c in choices]
    return site.render("site/organisation_flows.html", who, status=400 if errors else 200, current=PAGE,
                       heading=("Niet opgeslagen: " if errors else "") + "Soorten trajecten wijzigen",
                       org=org, options=options, about=about, chosen=chosen, errors=errors)


def _recess(routes: APIRouter, site: Site) -> None:
    @routes.get(f"{PAGE}/reces", response_class=HTMLResponse)
    def form(request: Request) -> Response:
        who = site.who_may(request, *MANAGERS)
        return _recess_page(site, who, _recess_values(org_edit.view(site.service, who.org_slug)), {})

    @routes.post(f"{PAGE}/reces", response_class=HTMLResponse)
    async def change(request: Request) -> Response:
        who = site.who_may(request, *MANAGERS)
        posted = await site.form(request, who)
        values = {key: _text(posted, key) for key in RECESS_KEYS}
        return _attempt(lambda: org_edit.set_recess_and_reminders(site.service, who.org_slug, values),
                        "reces", lambda errors: _recess_page(site, who, values, errors))


def _recess_values(org: org_edit.OrgView) -> dict[str, str]:
    """The form's values for the recess and reminders as they are now."""
    values = {"recess": "wel" if org.recess else "geen",
              "reminders": org_edit.NO_STEPS if org.reminders == [] else ", ".join(org.reminders or [])}
    for key, day in zip(("recess_start", "recess_end"), org.recess or (), strict=False):
        month, _, number = day.partition("-")
        values.update({f"{key}_day": str(int(number)), f"{key}_month": str(int(month))})
    return values


def _recess_page(site: Site, who: SignedIn, values: dict[str, str], errors: dict[str, str]) -> HTMLResponse:
    org = org_edit.view(site.service, who.org_slug)
    return site.render("site/organisation_recess.html", who, status=400 if errors else 200, current=PAGE,
                       heading=("Niet opgeslagen: " if errors else "") + "Reces en herinneringen wijzigen",
                       org=org, values=values, errors=errors,
                       months=list(enumerate(org_edit.MONTHS, start=1)),
                       default_steps=", ".join(DEFAULT_STEPS))


# --- the organisation file -------------------------------------------------------------------


def _file(routes: APIRouter, site: Site) -> None:
    @routes.get(f"{PAGE}/bestand")
    def download(request: Request) -> Response:
        who = site.who_may(request, *STAFF)
        text = org_edit.file_text(site.service.engine, who.org_slug)
        return attachment(text, "application/toml; charset=utf-8", f"organisatie-{who.org_slug}.toml")


# --- shared ----------------------------------------------------------------------------------


def _attempt(change: Callable[[], Any], done: str,
             again: Callable[[dict[str, str]], HTMLResponse]) -> Response:
    """Make the change and go back to the organisation page; refused: the form again."""
    try:
        change()
    except org_edit.EditRefused as refused:
        return again(refused.errors)
    return redirect(PAGE, {"gedaan": done})


def _id(text: str) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > 18 or not 0 < int(text) < MAX_ID:
        raise NotFound("Deze persoon staat niet (meer) bij de organisatie.")
    return int(text)


def _text(posted: FormData, key: str) -> str:
    value = posted.get(key)
    return value if isinstance(value, str) else ""


def _texts(posted: FormData, key: str) -> list[str]:
    return [v for v in posted.getlist(key) if isinstance(v, str)]
