"""The page behind a member's personal link, a start page and a health check.

The token in the path is the capability: whoever holds the link may answer, once. A GET never
changes anything (mail scanners and link previews open links); only a POST to the same link
records an answer, through `Service.answer`, with the member as the actor.

An answer that matches what is already recorded ("no" while not signed up, "yes" while signed
up) changes nothing and leaves the link usable, so a member can still change their mind while
the call is open.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Form, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.directory import words_of
from app.service import Service, link_holder
from engine import tokens
from engine.dsl import Words
from engine.errors import AdviesError, Conflict, InvalidInput, NotAllowed, NotFound
from notifications.formatting import long_date
from storage.tables import ACTIVE_DEADLINE, Organisation, Person, Trajectory, UsedToken
from web.pages import site_routers
from web.site import Site

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
SIGN_UP, WITHDRAW = "sign_up", "withdraw_signup"
CONTACT = "Neem contact op met het secretariaat van je adviesraad."

BASE_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "X-Robots-Tag": "noindex, nofollow",
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; "
                               "form-action 'none'",
}

ASKED = {"asked_advice": "De gemeente vraagt ons om advies.",
         "md_asked_advice": "De gemeente vraagt ons om advies.",
         "unasked_advice": "We schrijven uit onszelf een advies aan de gemeente."}
ASKED_DEFAULT = "De adviesraad werkt aan een advies."


# --- refusals: every way a link can fail, with its status and a next step -----------------


@dataclass(frozen=True)
class Refusal:
    status: int
    heading: str
    advice: str


REFUSALS = {
    "tampered": Refusal(400, "Deze link werkt niet",
                        "Open de link opnieuw vanuit je e-mail. Staat de link op twee regels? "
                        "Kopieer dan de hele link."),
    "expired": Refusal(410, "Deze link is verlopen", f"Wil je toch meedoen? {CONTACT}"),
    "used": Refusal(409, "Deze link is al gebruikt",
                    f"Je antwoord is vastgelegd. Wil je iets veranderen? {CONTACT}"),
    "closed": Refusal(409, "De aanmelding is gesloten", f"Wil je toch meedoen? {CONTACT}"),
    "not_allowed": Refusal(409, "Dit kan nu niet", CONTACT),
    "conflict": Refusal(409, "Probeer het nog eens", "Open de link opnieuw vanuit je e-mail."),
    "not_found": Refusal(404, "Niet gevonden", CONTACT),
    "cross_site": Refusal(403, "Dit antwoord is niet vastgelegd",
                          "Open de link uit je e-mail en kies daar je antwoord."),
    "invalid": Refusal(400, "Dit klopt niet", "Open de link opnieuw vanuit je e-mail."),
}


class CallClosed(NotAllowed):
    """The trajectory no longer takes answers (the call is closed, or it is suspended)."""

    def __init__(self) -> None:
        super().__init__("De aanmelding voor dit traject is gesloten. Je kunt niet meer antwoorden.")


class CrossSite(AdviesError):
    """A POST sent by another site's page (the browser says so in Sec-Fetch-Site)."""

    def __init__(self) -> None:
        super().__init__("Dit antwoord kwam niet van de pagina achter je persoonlijke link.")


def refusal_kind(error: AdviesError) -> str:
    if isinstance(error, tokens.TokenRefused):
        return error.reason
    kinds: list[tuple[type[AdviesError], str]] = [
        (CallClosed, "closed"), (CrossSite, "cross_site"), (NotAllowed, "not_allowed"),
        (Conflict, "conflict"), (NotFound, "not_found"),
    ]
    return next((kind for cls, kind in kinds if isinstance(error, cls)), "invalid")


# --- the call a link answers, read without changing anything -------------------------------


@dataclass(frozen=True)
class Call:
    claims: tokens.Claims
    email: str
    view: dict[str, Any]
    org_name: str
    group_max: int
    member_name: str
    words: Words

    @property
    def signups(self) -> list[str]:
        return list((self.view.get("call") or {}).get("signups", []))

    @property
    def intro(self) -> str:
        if (self.view.get("call") or {}).get("role") == "inclusion_platform":
            return "We vragen het Platform Inclusie om mee te kijken: zijn er drempels om mee te doen?"
        return f"We zoeken {self.words.members} voor een {self.words.group}."

    @property
    def signed_up(self) -> bool:
        return self.email in self.signups

    @property
    def is_open(self) -> bool:
        return SIGN_UP in self.view["allowed_events"]

    @property
    def closes(self) -> str | None:
        window = (self.view.get("call") or {}).get("window")
        found = [d for d in self.view["deadlines"]
                 if d["name"] == window and d["status"] in ACTIVE_DEADLINE]
        return long_date(found[-1]["due"]) if found else None


def read_call(service: Service, token: str) -> Call:
    """The call behind a genuine, unused link whose call is still open (until the end of the
    last day of its sign-up term, also after an extension); TokenRefused otherwise."""
    claims = service.verify_link(token)
    with Session(service.engine) as session:
        if session.get(UsedToken, claims.jti) is not None:
            raise tokens.USED
        org = _organisation(session, claims.trajectory_id)
        email = link_holder(session, claims)
        person = session.get(Person, claims.person_id)
        org_name, group_max, name = org.name, org.group_max, person.name if person else ""
        words = words_of(org)
    view = service.show(claims.trajectory_id)
    return Call(claims, email, view, org_name, group_max, name, words)


def open_call(service: Service, token: str) -> Call:
    call = read_call(service, token)
    if not call.is_open:
        raise CallClosed()
    return call


def _organisation(session: Session, trajectory_id: int) -> Organisation:
    row = session.get(Trajectory, trajectory_id)
    if row is None:
        raise NotFound("Dit traject bestaat niet (meer).")
    org = session.get(Organisation, row.organisation_id)
    assert org is not None
    return org


# --- answering ----------------------------------------------------------------------------

OUTCOMES: dict[str, tuple[str, tuple[str, ...]]] = {
    "signed_up": ("Dank je wel! Je doet mee", (
        "Je bent aangemeld voor de groep. Je krijgt hierover ook een e-mail.",
        "Als de aanmelding sluit, hoor je wie er in de groep zitten en wanneer de eerste "
        "bijeenkomst is.",
        f"Wil je je later toch afmelden? {CONTACT}",
    )),
    "reserve": ("Dank je wel! Je staat op de reservelijst", (
        "De groep is al vol. Je staat nu op de reservelijst. Je krijgt hierover ook een "
        "e-mail.",
        "Valt er iemand af? Dan hoor je dat van ons.",
    )),
    "withdrawn": ("Je bent afgemeld", (
        "Jammer dat je niet meedoet. Misschien een volgende keer! Je krijgt hierover ook een "
        "e-mail.",
    )),
    "declined": ("Dank je wel voor je antwoord", (
        "Je doet deze keer niet mee. Daarvoor hoeft niets te veranderen.",
        "Bedenk je je? Open de link dan opnieuw en kies \u201cJa\u201d, zolang de aanmelding "
        "open is.",
    )),
    "already": ("Je was al aangemeld", (
        "Er is niets veranderd: je doet al mee.",
        "Wil je je toch afmelden? Open de link dan opnieuw en kies \u201cNee\u201d.",
    )),
}


def unchanged(call: Call, answer: str) -> str | None:
    """The outcome of an answer that matches what is already recorded; None when it changes."""
    if answer == WITHDRAW and not call.signed_up:
        return "declined"
    if answer == SIGN_UP and call.signed_up:
        return "already"
    return None


def record(service: Service, token: str, answer: str, call: Call) -> str:
    view = service.answer(token, answer)
    if answer == WITHDRAW:
        return "withdrawn"
    signups = list((view.get("call") or {}).get("signups", []))
    place = signups.index(call.email) if call.email in signups else 0
    return "reserve" if place >= call.group_max else "signed_up"


def refuse_cross_site(request: Request) -> None:
    if request.headers.get("sec-fetch-site") == "cross-site":
        raise CrossSite()


# --- pages and headers ----------------------------------------------------------------------


class Pages:
    """HTML from the templates (autoescaped), each with a fresh CSP nonce for its <style>."""

    def __init__(self) -> None:
        self.env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True,
                               undefined=StrictUndefined)

    def render(self, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        nonce = secrets.token_urlsafe(16)
        html = self.env.get_template(name).render(nonce=nonce, **context)
        return HTMLResponse(html, status_code=status,
                            headers={"Content-Security-Policy": page_policy(nonce)})

    def question(self, call: Call) -> HTMLResponse:
        return self.render("answer.html", view=call.view, org_name=call.org_name,
                           member_name=call.member_name, closes=call.closes,
                           signed_up=call.signed_up, intro=call.intro,
                           asked=ASKED.get(call.view["flow"], ASKED_DEFAULT))

    def answered(self, call: Call, outcome: str) -> HTMLResponse:
        heading, lines = OUTCOMES[outcome]
        return self.render("answered.html", heading=heading, lines=lines,
                           title=call.view["title"], org_name=call.org_name)

    def refused(self, error: AdviesError) -> HTMLResponse:
        found = REFUSALS[refusal_kind(error)]
        return self.render("refused.html", found.status, heading=found.heading,
                           message=error.message, advice=found.advice)


def page_policy(nonce: str) -> str:
    return (f"default-src 'none'; style-src 'nonce-{nonce}'; img-src 'self'; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


class SecurityHeaders:
    """Pure ASGI middleware: the same safe headers on every response, unless a page set its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in BASE_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


# --- the app --------------------------------------------------------------------------------


class HeadAsGet:
    """Pure ASGI middleware: a HEAD is answered as its GET would be (same status and headers),
    without the body. Link checkers and mail scanners send HEAD; GET changes nothing, so HEAD
    does not either."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_headers_only)


#: Paths a trailing slash may be taken off (a link copied with one); anything else is a 404.
SLASHED = re.compile(r"^/(?:gezond|antwoord/[A-Za-z0-9_.\-]+)$")
NOT_FOUND = Refusal(404, "Niet gevonden", "Open de link opnieuw vanuit je e-mail. " + CONTACT)
WRONG_METHOD = Refusal(405, "Dit kan hier niet", "Open de link opnieuw vanuit je e-mail.")
INCOMPLETE = "Kies \u201cJa, ik doe mee\u201d of \u201cNee, ik doe niet mee\u201d."


def create_app(service: Service) -> FastAPI:
    app = FastAPI(title="Adviestraject", docs_url=None, redoc_url=None, openapi_url=None)
    app.router.redirect_slashes = False  # its redirect is built from the Host header: ours is not
    pages = Pages()
    site = Site(service)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(HeadAsGet)
    app.add_exception_handler(AdviesError, _refusal_handler(pages, site))
    app.add_exception_handler(RequestValidationError, _incomplete_handler(pages, site))
    app.add_exception_handler(HTTPException, _http_handler(pages, site))
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _add_routes(app, service, pages)
    for routes in site_routers(site):
        app.include_router(routes)
    app.api_route("/{path:path}/", methods=["GET", "POST"], include_in_schema=False)(without_slash)
    return app


def _on_site(request: Request) -> bool:
    """The signed-in interface, as against the pages behind a member's personal link."""
    return not request.url.path.startswith("/antwoord/")


def _incomplete_handler(pages: Pages, site: Site) -> Any:
    """A form without its field, or a JSON body: the Dutch page, never FastAPI's 422 JSON."""

    def handle(request: Request, _error: Exception) -> Response:
        if _on_site(request):
            return site.refused(request, InvalidInput("Dit formulier is niet compleet. Vul het opnieuw in."))
        return pages.refused(InvalidInput(INCOMPLETE))

    return handle


def _http_handler(pages: Pages, site: Site) -> Any:
    """Starlette's own 404 and 405 as a Dutch page (405 keeps its Allow header)."""

    def handle(request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        if _on_site(request) and error.status_code == 404:
            return site.refused(request, NotFound("Deze pagina bestaat niet."))
        found = WRONG_METHOD if error.status_code == 405 else NOT_FOUND
        page = pages.render("refused.html", error.status_code, heading=found.heading,
                            message="Deze pagina bestaat niet." if error.status_code == 404
                            else "Deze pagina kan zo niet worden opgevraagd.", advice=found.advice)
        page.headers.update(error.headers or {})
        return page

    return handle


def without_slash(request: Request, path: str) -> Response:
    """`/antwoord/<token>/` to `/antwoord/<token>`, as a relative redirect: the Host header (which
    anyone can set) never decides where a person is sent."""
    target = "/" + path.strip("/")
    if not SLASHED.match(target):
        raise HTTPException(404)
    query = request.url.query
    return RedirectResponse(target + (f"?{query}" if query else ""), status_code=307)


def _refusal_handler(pages: Pages, site: Site) -> Any:
    def handle(request: Request, error: Exception) -> Response:
        assert isinstance(error, AdviesError)
        return site.refused(request, error) if _on_site(request) else pages.refused(error)

    return handle


def _add_routes(app: FastAPI, service: Service, pages: Pages) -> None:
    @app.get("/gezond")
    def health() -> JSONResponse:
        return _health(service)

    @app.get("/antwoord/{token}", response_class=HTMLResponse)
    def question(token: str) -> HTMLResponse:
        return pages.question(open_call(service, token))

    @app.post("/antwoord/{token}", response_class=HTMLResponse)
    def answer(request: Request, token: str, antwoord: Annotated[str, Form()]) -> HTMLResponse:
        refuse_cross_site(request)
        call = open_call(service, token)
        if antwoord not in (SIGN_UP, WITHDRAW):
            raise InvalidInput(INCOMPLETE)
        outcome = unchanged(call, antwoord) or record(service, token, antwoord, call)
        return pages.answered(call, outcome)


def _health(service: Service) -> JSONResponse:
    try:
        with service.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return JSONResponse({"status": "database onbereikbaar"}, status_code=503)
    return JSONResponse({"status": "ok"})


# --- logging without personal data ---------------------------------------------------------

#: Paths whose last part is a secret: a member's answer link, a sign-in link, a calendar feed.
LINK = re.compile(r"/(antwoord|inloggen|agenda)/[^\s?#\"/]+")
#: What someone searched for may be a name: the log keeps that they searched, not for what.
SEARCH = re.compile(r"([?&](?:zoek|terug)=)[^&#\s\"]*")


class RedactLinks(logging.Filter):
    """Access-log lines without the personal link (it names the member) or the client address."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5:
            _client, method, path, version, status = args
            shown = SEARCH.sub(r"\1[…]", LINK.sub(r"/\1/[link]", str(path)))
            record.args = ("-", method, shown, version, status)
        return True
