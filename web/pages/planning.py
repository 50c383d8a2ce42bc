"""The half-year planning: the advice requests the organisation expects, by expected date.

Staff (secretariat, liaison, chair) see it; the liaison and the secretariat add, change and
cancel requests (app.planning, with the signed-in person as the actor, exactly as
`advies planning` does). Every change is a POST with the CSRF token that ends in a 303 back to
the planning with a confirmation, or the form again (400) with the refusal beside its field and
nothing written. A request of another organisation does not exist here: 404.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from app import planning
from app.sign_in import SignedIn
from engine.errors import InvalidInput, NotFound
from web.site import STAFF, Site, redirect

PAGE = "/planning"
MAX_ID = 2**62
FIELDS = ("title", "expected", "policy_adviser", "flow")
#: The confirmation after each change (the redirect carries only its key).
DONE = {
    "toegevoegd": "Het verzoek staat in de planning. De voorzitters krijgen de planning per e-mail.",
    "gewijzigd": "Het verzoek is gewijzigd. De voorzitters krijgen de planning per e-mail.",
    "geschrapt": "Het verzoek is geschrapt. De voorzitters krijgen de planning per e-mail.",
}


def router(site: Site) -> APIRouter:
    routes = APIRouter()
    _overview(routes, site)
    _new(routes, site)
    _change(routes, site)
    _cancel(routes, site)
    return routes


def _overview(routes: APIRouter, site: Site) -> None:
    @routes.get(PAGE, response_class=HTMLResponse)
    def overview(request: Request, gedaan: str = "") -> Response:
        who = site.who_may(request, *STAFF)
        every = planning.listed(site.service.engine, who.org_slug, everything=True)
        items = [_shown(site, who, i) for i in every if i["status"] == "planned"]
        past = [_shown(site, who, i) for i in every if i["status"] != "planned"]
        return site.render("site/planning.html", who, current=PAGE, heading="Planning",
                           items=items, past=past, done=DONE.get(gedaan, ""),
                           may_change=who.has(*planning.PLANNERS))


def _new(routes: APIRouter, site: Site) -> None:
    @routes.get(f"{PAGE}/nieuw", response_class=HTMLResponse)
    def form(request: Request) -> Response:
        who = site.who_may(request, *planning.PLANNERS)
        return _form_page(site, who, None, dict.fromkeys(FIELDS, ""), {})

    @routes.post(f"{PAGE}/nieuw", response_class=HTMLResponse)
    async def add(request: Request) -> Response:
        who = site.who_may(request, *planning.PLANNERS)
        values = _values(await site.form(request, who))
        return _attempt(lambda: planning.add(site.service, who.org_slug, values["title"], values["expected"],
                                             values["policy_adviser"], values["flow"], who.email),
                        "toegevoegd", lambda errors: _form_page(site, who, None, values, errors))


def _change(routes: APIRouter, site: Site) -> None:
    @routes.get(PAGE + "/{item_id}", response_class=HTMLResponse)
    def form(request: Request, item_id: str) -> Response:
        who = site.who_may(request, *planning.PLANNERS)
        item = _planned(site, who, item_id)
        values = {"title": item["title"], "expected": item["expected_on"],
                  "policy_adviser": item["policy_adviser"], "flow": item["flow"] or ""}
        return _form_page(site, who, item, values, {})

    @routes.post(PAGE + "/{item_id}", response_class=HTMLResponse)
    async def change(request: Request, item_id: str) -> Response:
        who = site.who_may(request, *planning.PLANNERS)
        item = _planned(site, who, item_id)
        values = _values(await site.form(request, who))
        changes = planning.Changes(values["title"], values["expected"], values["policy_adviser"],
                                   values["flow"])
        return _attempt(lambda: planning.edit(site.service, _number(item), who.email, changes, who.org_id),
                        "gewijzigd", lambda errors: _form_page(site, who, item, values, errors))


def _cancel(routes: APIRouter, site: Site) -> None:
    @routes.get(PAGE + "/{item_id}/schrappen", response_class=HTMLResponse)
    def confirm(request: Request, item_id: str) -> Response:
        who = site.who_may(request, *planning.PLANNERS)
        return _cancel_page(site, who, _planned(site, who, item_id), "", {})

    @routes.post(PAGE + "/{item_id}/schrappen", response_class=HTMLResponse)
    async def cancel(request: Request, item_id: str) -> Response:
        who = site.who_may(request, *planning.PLANNERS)
        item = _planned(site, who, item_id)
        note = _text(await site.form(request, who), "note")
        return _attempt(lambda: planning.cancel(site.service, _number(item), who.email, note or None,
                                                who.org_id),
                        "geschrapt", lambda errors: _cancel_page(site, who, item, note, errors))


# --- the pages -------------------------------------------------------------------------------


def _form_page(site: Site, who: SignedIn, item: dict[str, Any] | None, values: dict[str, str],
               errors: dict[str, str]) -> HTMLResponse:
    heading = "Verzoek wijzigen" if item else "Verwacht verzoek toevoegen"
    return site.render("site/planning_form.html", who, status=400 if errors else 200, current=PAGE,
                       heading=("Niet opgeslagen: " if errors else "") + heading, item=item,
                       values=values, errors=errors, advisers=_advisers(site, who),
                       flows=_flows(site, who))


def _cancel_page(site: Site, who: SignedIn, item: dict[str, Any], note: str,
                 errors: dict[str, str]) -> HTMLResponse:
    return site.render("site/planning_cancel.html", who, status=400 if errors else 200, current=PAGE,
                       heading=("Niet geschrapt: " if errors else "") + "Verzoek schrappen",
                       item=item, note=note, errors=errors)


def _shown(site: Site, who: SignedIn, item: dict[str, Any]) -> dict[str, Any]:
    advisers = dict(_advisers(site, who))
    titles = dict(_flows(site, who))
    return {**item, "adviser": advisers.get(item["policy_adviser"], item["policy_adviser"]),
            "flow_title": titles.get(item["flow"] or "", "nog niet bekend") if item["flow"] else
            "nog niet bekend"}


def _advisers(site: Site, who: SignedIn) -> list[tuple[str, str]]:
    return planning.advisers(site.service.engine, who.org_id)


def _flows(site: Site, who: SignedIn) -> list[tuple[str, str]]:
    """(name, title) of the flows the organisation uses."""
    titles = planning.flow_titles(site.service)
    return [(name, titles[name]) for name in who.flows if name in titles]


# --- shared ----------------------------------------------------------------------------------


def _attempt(change: Callable[[], Any], done: str,
             again: Callable[[dict[str, str]], HTMLResponse]) -> Response:
    """Make the change and go back to the planning; refused: the form again."""
    try:
        change()
    except planning.FieldRefused as refused:
        return again({refused.field: refused.message})
    except InvalidInput as refused:  # nothing changes, say
        return again({"": refused.message})
    return redirect(PAGE, {"gedaan": done})


def _planned(site: Site, who: SignedIn, text: str) -> dict[str, Any]:
    """A planned request of the signed-in person's organisation; any other does not exist, a
    started or cancelled one cannot change (403)."""
    if not text.isascii() or not text.isdigit() or len(text) > 18 or not 0 < int(text) < MAX_ID:
        raise NotFound("Dit verzoek staat niet in de planning.")
    return planning.still_open(site.service.engine, int(text), who.org_id)


def _number(item: dict[str, Any]) -> int:
    return int(item["id"])


def _values(posted: FormData) -> dict[str, str]:
    return {key: _text(posted, key) for key in FIELDS}


def _text(posted: FormData, key: str) -> str:
    value = posted.get(key)
    return value if isinstance(value, str) else ""
