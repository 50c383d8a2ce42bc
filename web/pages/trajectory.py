"""The trajectory page: the diagram with the current step, the events this person may fire now
(a form each), the history, the deadlines and the mail; and sending a member's personal link
again. Every POST checks the CSRF token; the actor is always the signed-in person."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from app.resend import LINK_RESENT, resend_link
from app.sign_in import SignedIn
from app.trajectory_page import NOTE, Page, Problem, fire_step, open_page, typed_values
from web.site import MANAGERS, Site, redirect


def router(site: Site) -> APIRouter:
    routes = APIRouter()
    _page(routes, site)
    _steps(routes, site)
    _links(routes, site)
    return routes


def show(site: Site, who: SignedIn, page: Page, *, status: int = 200, done: str = "",
         problem: Problem | None = None) -> HTMLResponse:
    typed = problem.typed if problem else {}
    return site.render("site/trajectory.html", who, status,
                       current="/trajecten" if page.staff else "/mijn",
                       heading=page.view["title"], page=page, view=page.view,
                       done=page.done(done) if done else None, problem=problem, typed=typed,
                       note_field=NOTE)


def _page(routes: APIRouter, site: Site) -> None:
    @routes.get("/trajecten/{number}", response_class=HTMLResponse)
    def trajectory(request: Request, number: str, gedaan: str = "") -> HTMLResponse:
        who = site.who(request)
        return show(site, who, open_page(site.service, who, number), done=gedaan[:40])


def _steps(routes: APIRouter, site: Site) -> None:
    @routes.post("/trajecten/{number}/stap/{event}", response_class=HTMLResponse)
    async def fire(request: Request, number: str, event: str) -> Response:
        who = site.who(request)
        page = open_page(site.service, who, number)
        form = await site.form(request, who)
        step = page.form_for(event)
        typed = typed_values(step, form.get, form.getlist)
        problem = fire_step(site.service, who, page, step, typed)
        if problem is not None:
            return show(site, who, open_page(site.service, who, number), status=problem.status,
                        problem=problem)
        return redirect(f"/trajecten/{page.id}", {"gedaan": step.event})


def _links(routes: APIRouter, site: Site) -> None:
    @routes.post("/trajecten/{number}/link-opnieuw", response_class=HTMLResponse)
    async def send_again(request: Request, number: str) -> Response:
        who = site.who_may(request, *MANAGERS)
        page = open_page(site.service, who, number)
        member = (await site.form(request, who)).get("lid")
        resend_link(site.service, who.org_id, who.email, page.id,
                    member[:254] if isinstance(member, str) else "")
        return redirect(f"/trajecten/{page.id}", {"gedaan": LINK_RESENT})
