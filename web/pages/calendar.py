"""The deadlines calendar: the organisation's running, suspended and overdue deadlines of one
month, per week and per day, for the staff."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.calendar_view import month_calendar, parse_month
from engine.clock import local_today
from web.site import STAFF, Site


def router(site: Site) -> APIRouter:
    routes = APIRouter()

    @routes.get("/termijnen", response_class=HTMLResponse)
    def deadlines(request: Request, maand: str = "") -> HTMLResponse:
        who = site.who_may(request, *STAFF)
        month = parse_month(maand[:20], local_today(site.service.clock))
        found = month_calendar(site.service, who.org_id, month)
        return site.render("site/calendar.html", who, current="/termijnen",
                           heading=f"Termijnen in {month.label}", found=found)

    return routes
