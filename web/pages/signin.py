"""Signing in by a link in the mail, and signing out.

`GET /inloggen/<token>` only shows a button (mail scanners open links); the POST signs in.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from engine.errors import InvalidInput
from web.site import COOKIE, STAFF, Site, redirect, safe_return

SESSION_SECONDS = 12 * 3600


def router(site: Site) -> APIRouter:
    routes = APIRouter()
    _asking(routes, site)
    _session(routes, site)
    return routes


def _asking(routes: APIRouter, site: Site) -> None:

    @routes.get("/inloggen", response_class=HTMLResponse)
    def ask(request: Request, terug: str = "/") -> Response:
        if site.sign_in.current(request.cookies.get(COOKIE)) is not None:
            return redirect(safe_return(terug))
        return site.render("site/sign_in.html", None, back=safe_return(terug), error=None, email="")

    @routes.post("/inloggen", response_class=HTMLResponse)
    def send(request: Request, email: Annotated[str, Form()] = "",
             terug: Annotated[str, Form()] = "/") -> Response:
        if request.headers.get("sec-fetch-site") == "cross-site":
            return site.render("site/sign_in.html", None, 403, back="/", email="",
                               error="Dit formulier kwam niet van deze site.")
        try:
            site.sign_in.request(email)
        except InvalidInput:
            return site.render("site/sign_in.html", None, 400, back=safe_return(terug),
                               email=email[:200],
                               error="Vul je e-mailadres in, zoals naam@voorbeeld.nl.")
        return site.render("site/sign_in_sent.html", None, email=email.strip()[:200])



def _session(routes: APIRouter, site: Site) -> None:
    @routes.get("/inloggen/{token}", response_class=HTMLResponse)
    def confirm(token: str) -> Response:
        site.sign_in.check(token)
        return site.render("site/sign_in_confirm.html", None, token=token)

    @routes.post("/inloggen/{token}")
    def use(request: Request, token: str) -> Response:
        session_id = site.sign_in.use(token)
        response = redirect("/")
        response.set_cookie(COOKIE, session_id, max_age=SESSION_SECONDS, httponly=True,
                            samesite="lax", secure=_https(request, site), path="/")
        return response

    @routes.post("/uitloggen")
    async def sign_out(request: Request) -> Response:
        who = site.who(request)
        await site.form(request, who)
        site.sign_in.end(who)
        response = redirect("/inloggen", {"uitgelogd": "1"})
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax",
                               secure=_https(request, site))
        return response

    @routes.get("/", response_class=HTMLResponse)
    def home(request: Request) -> Response:
        who = site.sign_in.current(request.cookies.get(COOKIE))
        if who is None:
            return redirect("/inloggen")
        return redirect("/trajecten" if who.has(*STAFF) else "/mijn")


def _https(request: Request, site: Site) -> bool:
    """Secure cookies whenever the site is reached over HTTPS (directly or behind a proxy that
    the base URL names)."""
    return request.url.scheme == "https" or site.service.settings.base_url.startswith("https://")
