"""Importing running trajectories (/importeren), for the secretariat: upload a CSV or JSON-lines
file; the first POST checks it and shows what would be created (app.importer's dry run), the
second (the same file, carried in the form) imports it. A wrong file is shown with every wrong
row by its line; nothing is written then. Rows are imported into the person's own organisation
only; the signed-in person is the actor of the history entries, as `advies import` with --actor.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData, UploadFile

from app.importer import FileRefused, Importer, ImportResult
from app.sign_in import SignedIn
from engine.errors import InvalidInput
from engine.terms import format_date
from web.site import MANAGERS, Site, redirect

PAGE = "/importeren"
#: The largest file the page takes.
MAX_BYTES = 5 * 1024 * 1024
TOO_LARGE = f"Het bestand is groter dan {MAX_BYTES // (1024 * 1024)} MB. Verdeel het over meer bestanden."
#: Room in a posted form beyond the file itself (the CSRF token, the file name).
FORM_ROOM = 64 * 1024


def router(site: Site) -> APIRouter:
    routes = APIRouter()
    _form(routes, site)
    _check(routes, site)
    _confirm(routes, site)
    return routes


def _form(routes: APIRouter, site: Site) -> None:
    @routes.get(PAGE, response_class=HTMLResponse)
    def form(request: Request, gedaan: str = "") -> Response:
        who = site.who_may(request, *MANAGERS)
        done = int(gedaan) if gedaan.isdigit() else None
        return _page(site, who, done=done)


def _check(routes: APIRouter, site: Site) -> None:
    @routes.post(PAGE, response_class=HTMLResponse)
    async def check(request: Request) -> Response:
        who = site.who_may(request, *MANAGERS)
        try:
            posted = await _posted(request, site, who)
            upload = posted.get("bestand")
            if not isinstance(upload, UploadFile) or not upload.filename:
                return _page(site, who, status=400, error="Kies eerst een bestand.")
            content = await upload.read(MAX_BYTES + 1)
        finally:
            await request.close()  # the uploaded file's temporary copy
        if len(content) > MAX_BYTES:
            return _page(site, who, status=400, error=TOO_LARGE)
        return _run(site, who, upload.filename, content, dry_run=True)


def _confirm(routes: APIRouter, site: Site) -> None:
    @routes.post(PAGE + "/bevestigen", response_class=HTMLResponse)
    async def confirm(request: Request) -> Response:
        who = site.who_may(request, *MANAGERS)
        try:
            posted = await _posted(request, site, who)
        finally:
            await request.close()
        name, text = posted.get("naam"), posted.get("inhoud")
        if not isinstance(name, str) or not isinstance(text, str) or not name.strip():
            return _page(site, who, status=400, error="Kies eerst een bestand.")
        content = text.encode("utf-8")
        if len(content) > MAX_BYTES:
            return _page(site, who, status=400, error=TOO_LARGE)
        return _run(site, who, name, content, dry_run=False)


async def _posted(request: Request, site: Site, who: SignedIn) -> FormData:
    """The posted form (multipart: a file, or the checked file's text), CSRF checked."""
    try:
        await request.form(max_part_size=MAX_BYTES + FORM_ROOM, max_files=1, max_fields=10)
    except Exception as error:  # starlette's refusal of a part too large or too many parts
        raise InvalidInput(TOO_LARGE) from error
    return await site.form(request, who)


def _run(site: Site, who: SignedIn, name: str, content: bytes, *, dry_run: bool) -> Response:
    importer = Importer(site.service.engine, site.service.clock)
    try:
        result = importer.run(name, content, who.email, dry_run=dry_run, only_org=who.org_slug)
    except FileRefused as refused:
        return _page(site, who, status=400, error=refused.message, problems=refused.lines())
    except InvalidInput as error:
        return _page(site, who, status=400, error=error.message)
    if not dry_run:
        return redirect(PAGE, {"gedaan": str(result.created)})
    return _page(site, who, result=_shown(site, result), file_name=result.file,
                 text=content.decode("utf-8-sig"))


def _shown(site: Site, result: ImportResult) -> dict[str, Any]:
    """The dry run's counts and first rows, with the flows' and states' Dutch names."""
    def names(flow: str, state: str) -> tuple[str, str]:
        found = site.service.flow(flow).flow
        return found.title, found.state(state).label

    counts = [(*names(flow, state), number) for flow, states in result.counts.items()
              for state, number in states.items()]
    preview = [{**row, "names": names(row["flow"], row["state"]),
                "deadlines": [{**d, "due": format_date(date.fromisoformat(d["due"]))}
                              for d in row["deadlines"]]} for row in result.preview]
    return {"created": result.created, "counts": counts, "preview": preview}


def _page(site: Site, who: SignedIn, status: int = 200, **context: Any) -> HTMLResponse:
    values: dict[str, Any] = {"error": "", "problems": [], "result": None, "file_name": "", "text": "",
                              "done": None, **context}
    heading = "Niet geïmporteerd" if values["error"] else "Lopende trajecten importeren"
    return site.render("site/import.html", who, status=status, current=PAGE, heading=heading,
                       max_mb=MAX_BYTES // (1024 * 1024), **values)
