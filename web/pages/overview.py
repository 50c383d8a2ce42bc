"""The overview: trajectories per state, due this week, overdue, filtered and paginated."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.overview import Filters, overview
from engine.errors import InvalidInput
from web.site import STAFF, Site

MAX_PAGE = 100_000


def router(site: Site) -> APIRouter:
    routes = APIRouter()

    @routes.get("/trajecten", response_class=HTMLResponse)
    def trajectories(request: Request, stroom: str = "", fase: str = "", zoek: str = "",
                     pagina: str = "1") -> HTMLResponse:
        who = site.who_may(request, *STAFF)
        flows = {name: site.service.flow(name).flow for name in who.flows}
        if stroom and stroom not in flows:
            raise InvalidInput("Kies een stroom uit de lijst.")
        states = _states(flows, stroom)
        if fase and fase not in states:
            raise InvalidInput("Kies een fase uit de lijst.")
        if not pagina.isdigit() or not 1 <= int(pagina) <= MAX_PAGE:
            raise InvalidInput("Het paginanummer klopt niet.")
        found = overview(site.service, who.org_id,
                         Filters(stroom or None, fase or None, zoek.strip() or None, int(pagina)))
        return site.render("site/overview.html", who, current="/trajecten", heading="Trajecten",
                           found=found, flows=flows, states=states,
                           chosen={"stroom": stroom, "fase": fase, "zoek": zoek[:200]})

    return routes


def _states(flows: dict, chosen: str) -> dict[str, str]:  # type: ignore[type-arg]
    """The states to filter on: those of the chosen flow, or of every flow of the organisation."""
    found: dict[str, str] = {}
    for name, flow in flows.items():
        if chosen and name != chosen:
            continue
        for state in flow.states:
            found.setdefault(state.name, state.label)
    return found
