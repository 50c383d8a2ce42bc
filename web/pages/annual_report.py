"""The annual report (jaarverslag) and who took part, for the staff of the organisation:
`/jaarverslag?jaar=2026` with downloads as CSV and JSON, and `/deelname?jaar=2026`.

Each reads only the signed-in person's own organisation: another organisation's trajectories
cannot appear, whatever is asked.
"""

from __future__ import annotations

import json
from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from app.annual_report import AnnualReport, annual_report
from app.annual_report_csv import annual_report_csv
from app.annual_report_html import (
    annual_report_fragment,
    annual_report_heading,
    participation_fragment,
    participation_heading,
)
from app.participation import participation
from app.period import Period, check_year
from engine.clock import local_today
from engine.errors import InvalidInput
from engine.inputs import parse_day
from web.site import STAFF, Site, attachment


def router(site: Site) -> APIRouter:
    routes = APIRouter()

    def report(request: Request, jaar: str) -> AnnualReport:
        who = site.who_may(request, *STAFF)
        today = local_today(site.service.clock)
        return annual_report(site.service.engine, site.service.flows, who.org_slug,
                             chosen_year(jaar, today.year), today)

    @routes.get("/jaarverslag", response_class=HTMLResponse)
    def annual_report_page(request: Request, jaar: str = "") -> HTMLResponse:
        found = report(request, jaar)
        return site.render("site/annual_report.html", site.who(request), current="/jaarverslag",
                           heading=annual_report_heading(found), year=found.year,
                           body=annual_report_fragment(found))

    @routes.get("/jaarverslag.csv")
    def annual_report_as_csv(request: Request, jaar: str = "") -> Response:
        found = report(request, jaar)
        return attachment(annual_report_csv(found), "text/csv; charset=utf-8",
                         f"jaarverslag-{found.slug}-{found.year}.csv")

    @routes.get("/jaarverslag.json")
    def annual_report_as_json(request: Request, jaar: str = "") -> Response:
        found = report(request, jaar)
        return attachment(json.dumps(found.as_json(), ensure_ascii=False, indent=2),
                         "application/json", f"jaarverslag-{found.slug}-{found.year}.json")

    @routes.get("/deelname", response_class=HTMLResponse)
    def participation_page(request: Request, jaar: str = "", van: str = "",
                           tot: str = "") -> HTMLResponse:
        who = site.who_may(request, *STAFF)
        today = local_today(site.service.clock)
        period = chosen_period(jaar, van, tot, today)
        found = participation(site.service.engine, site.service.flows, who.org_slug, period)
        return site.render("site/participation.html", who, current="/deelname",
                           heading=participation_heading(found), year=period.first.year,
                           first=period.first, last=period.last, body=participation_fragment(found))

    return routes


def chosen_year(text: str, this_year: int) -> int:
    """`?jaar=2026`; empty: this year. Not four digits, or out of range: refused in Dutch."""
    value = text.strip()[:10]
    if not value:
        return this_year
    if len(value) != 4 or not value.isascii() or not value.isdigit():
        raise InvalidInput(f"'{value}' is geen jaartal: schrijf vier cijfers, zoals {this_year}.")
    check_year(int(value), date(this_year, 1, 1))
    return int(value)


def chosen_period(year: str, first: str, last: str, today: date) -> Period:
    """`?van=…&tot=…` (both), else `?jaar=` (empty: this year), as `advies report members`."""
    if not (first.strip() or last.strip()):
        return Period.year(chosen_year(year, today.year), today)
    if not (first.strip() and last.strip()):
        raise InvalidInput("Geef bij een periode zowel 'van' als 'tot', bijvoorbeeld van "
                           "2026-01-01 tot 2026-06-30.")
    return Period.between(parse_day(first[:20], "Van"), parse_day(last[:20], "Tot"))
