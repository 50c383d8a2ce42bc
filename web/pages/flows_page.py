"""The flows the organisation uses, with their versions: for each, the current version and how
many of the organisation's trajectories run (and ended) on each version. Read-only, for the
staff: moving trajectories to another version is the administrator's (`advies flows migrate`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.flow_migration import usage
from web.site import STAFF, Site

PAGE = "/stromen"


def router(site: Site) -> APIRouter:
    routes = APIRouter()

    @routes.get(PAGE, response_class=HTMLResponse)
    def flow_versions(request: Request) -> HTMLResponse:
        who = site.who_may(request, *STAFF)
        current = site.service.flows
        used = [name for name in who.flows if name in current]
        found = usage(site.service.engine, site.service.versions, used, who.org_id)
        rows = [{"name": name, "title": current[name].flow.title,
                 "current": current[name].flow.version, "versions": found[name]} for name in used]
        return site.render("site/flows.html", who, current="/organisatie",
                           heading="Stromen en hun versies", flows=rows)

    return routes
