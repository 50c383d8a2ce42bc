"""The personal calendar subscription: making, renewing and stopping one's secret address
(`/agenda`), and the calendar behind it (`/agenda/<secret>.ics`, no session: the secret is
the capability).

The secret is kept only as a hash, so the address is shown once: in the answer to the POST
that made it (rendered directly, never put in a redirect's URL; no page is cached)."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from app import feeds
from app.sign_in import SignedIn
from engine.errors import InvalidInput, NotFound
from web.site import STAFF, Site, redirect

ACTIONS = ("maken", "stoppen")
HEADING = "Agenda-abonnement"


def router(site: Site) -> APIRouter:
    routes = APIRouter()
    _page(routes, site)
    _calendar(routes, site)
    return routes


def _page(routes: APIRouter, site: Site) -> None:
    @routes.get("/agenda", response_class=HTMLResponse)
    def show(request: Request, gestopt: str = "") -> HTMLResponse:
        who = site.who(request)
        return _render(site, who, stopped=gestopt == "1")

    @routes.post("/agenda", response_class=HTMLResponse)
    async def change(request: Request) -> Response:
        who = site.who(request)
        form = await site.form(request, who)
        action = form.get("actie")
        if action not in ACTIONS:
            raise InvalidInput("Kies een van de knoppen op de pagina.")
        if action == "stoppen":
            feeds.revoke(site.service, who.person_id)
            return redirect("/agenda", {"gestopt": "1"})
        secret = feeds.make(site.service, who.person_id)
        return _render(site, who, address=feeds.feed_url(site.service, secret))


def _render(site: Site, who: SignedIn, address: str | None = None,
            stopped: bool = False) -> HTMLResponse:
    return site.render("site/feed.html", who, current="/agenda", heading=HEADING,
                       since=feeds.live_since(site.service, who.person_id), address=address,
                       staff=who.has(*STAFF),
                       webcal=_webcal(address), stopped=stopped)


def _webcal(address: str | None) -> str | None:
    """The same address with webcal://, which makes a phone or Outlook offer to subscribe."""
    if not address:
        return None
    parts = urlsplit(address)
    return None if parts.scheme not in ("http", "https") else "webcal://" + address.split("://", 1)[1]


def _calendar(routes: APIRouter, site: Site) -> None:
    @routes.get("/agenda/{secret}.ics")
    def ics(secret: str) -> Response:
        try:
            body = feeds.calendar(site.service, secret)
        except NotFound:
            return Response("Niet gevonden.\n", status_code=404,
                            media_type="text/plain; charset=utf-8")
        return Response(body, media_type="text/calendar; charset=utf-8",
                        headers={"Content-Disposition": 'inline; filename="termijnen.ics"'})
