"""What every page of the signed-in web interface shares: the templates and their layout, who is
signed in, the role checks, CSRF on every form, and the Dutch refusal pages.

Pages are rendered on the server; no page needs JavaScript. Every form carries the session's
CSRF token and is refused (403, nothing written) without it or when the browser says it came
from another site. Trajectories of another organisation do not exist for a person: 404.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.datastructures import FormData

from app.service import Service
from app.sign_in import SignedIn, SignIn, SignInRefused
from engine import labels
from engine.errors import AdviesError, NotAllowed, NotFound
from notifications.formatting import long_date

TEMPLATES = Path(__file__).parent / "templates"
COOKIE = "advies_sessie"
#: Who sees every trajectory of the organisation; everyone else sees the ones they take part in.
STAFF = ("secretariat", "liaison", "chair")
#: Who may start trajectories and change the organisation's people, groups and terms.
MANAGERS = ("secretariat",)

PAGE_POLICY = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
               "frame-ancestors 'none'; base-uri 'none'")


class SignInNeeded(AdviesError):
    """No live session: the person is sent to the sign-in page."""

    def __init__(self) -> None:
        super().__init__("Log eerst in.")


class FormRefused(AdviesError):
    """A form without this session's CSRF token, or posted from another site."""

    exit_code = 3

    def __init__(self) -> None:
        super().__init__("Dit formulier is verlopen of kwam niet van deze site. Er is niets "
                         "veranderd. Laad de pagina opnieuw en probeer het nog eens.")


@dataclass(frozen=True)
class NavItem:
    href: str
    label: str


def navigation(who: SignedIn) -> list[NavItem]:
    items = []
    if who.has(*STAFF):
        items.append(NavItem("/trajecten", "Trajecten"))
        items.append(NavItem("/termijnen", "Termijnen"))
        items.append(NavItem("/planning", "Planning"))
    if who.has(*MANAGERS):
        items.append(NavItem("/starten", "Traject starten"))
        items.append(NavItem("/importeren", "Importeren"))
    if who.has(*STAFF):
        items.append(NavItem("/organisatie", "Organisatie"))
        items.append(NavItem("/jaarverslag", "Jaarverslag"))
        items.append(NavItem("/deelname", "Wie deed mee"))
    items.append(NavItem("/mijn", "Mijn trajecten"))
    items.append(NavItem("/agenda", "Agenda-abonnement"))
    return items


class Site:
    """The signed-in pages' shared parts. One per app."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.sign_in = SignIn(service)
        self.env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True,
                               undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
        self.env.globals["role_label"] = labels.role
        self.env.filters["long_date"] = long_date

    # --- who ---------------------------------------------------------------------------------

    def who(self, request: Request) -> SignedIn:
        found = self.sign_in.current(request.cookies.get(COOKIE))
        if found is None:
            raise SignInNeeded()
        return found

    def who_may(self, request: Request, *roles: str) -> SignedIn:
        """The signed-in person, when they have one of these roles; 403 otherwise."""
        who = self.who(request)
        if not who.has(*roles):
            raise NotAllowed("Deze pagina is niet voor jouw rol. Kies een pagina in het menu.")
        return who

    # --- forms -------------------------------------------------------------------------------

    async def form(self, request: Request, who: SignedIn) -> FormData:
        """The posted form, after its CSRF token and origin are checked."""
        if request.headers.get("sec-fetch-site") == "cross-site":
            raise FormRefused()
        form = await request.form()
        token = form.get("csrf")
        if not isinstance(token, str) or not secrets.compare_digest(token, who.csrf):
            raise FormRefused()
        return form

    # --- pages -------------------------------------------------------------------------------

    def render(self, name: str, who: SignedIn | None, status: int = 200,
               **context: Any) -> HTMLResponse:
        context.setdefault("current", "")
        html = self.env.get_template(name).render(
            who=who, nav=navigation(who) if who else [], words=who.words if who else None,
            csrf=who.csrf if who else "", **context)
        return HTMLResponse(html, status_code=status, headers={"Content-Security-Policy": PAGE_POLICY})

    def refused(self, request: Request, error: AdviesError) -> Response:
        if isinstance(error, SignInNeeded):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            if request.method not in ("GET", "HEAD"):  # a form cannot be sent again by a redirect
                target = "/"
            return RedirectResponse("/inloggen?" + urlencode({"terug": target}), status_code=303)
        who = self.sign_in.current(request.cookies.get(COOKIE))
        status, heading = _status_of(error)
        return self.render("site/refused.html", who, status, heading=heading, message=error.message)


def _status_of(error: AdviesError) -> tuple[int, str]:
    if isinstance(error, SignInRefused):
        return (410 if error.reason == "expired" else 400), "Deze inloglink werkt niet"
    if isinstance(error, FormRefused):
        return 403, "Niet verstuurd"
    if isinstance(error, NotFound):
        return 404, "Niet gevonden"
    if isinstance(error, NotAllowed):
        return 403, "Dit mag niet"
    return 400, "Dit klopt niet"


def attachment(text: str, media_type: str, filename: str, **headers: str) -> Response:
    """A file to download (UTF-8), never sniffed into something else by the browser."""
    return Response(text.encode("utf-8"), media_type=media_type, headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "X-Content-Type-Options": "nosniff", **headers})


def redirect(path: str, query: Mapping[str, str] | None = None) -> RedirectResponse:
    """After a POST: to a page of our own (a relative path, never from the request)."""
    assert path.startswith("/")
    assert not path.startswith("//")
    return RedirectResponse(path + (f"?{urlencode(query)}" if query else ""), status_code=303)


def safe_return(target: str | None) -> str:
    """Where to go after signing in: only a path of this site."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"
