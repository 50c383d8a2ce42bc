"""The dossier of a trajectory as a download (app.dossier): for the staff of the trajectory's
organisation only. Another organisation's trajectory does not exist here (404), as on the
trajectory page; someone who is not staff is refused (403)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app import dossier_file
from app.dossier import read
from app.trajectory_page import GONE, trajectory_id
from engine.errors import NotFound
from web.site import STAFF, Site, attachment

#: The file forbids everything but its own inline style, also when a browser shows it.
FILE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


def router(site: Site) -> APIRouter:
    routes = APIRouter()

    @routes.get("/trajecten/{number}/dossier")
    def dossier(request: Request, number: str) -> Response:
        who = site.who_may(request, *STAFF)
        service = site.service
        try:
            made = read(service.engine, service.compiled_for, trajectory_id(number),
                        service.clock.now(), org_id=who.org_id)
        except NotFound:
            raise NotFound(GONE) from None
        return attachment(dossier_file.html(made), "text/html; charset=utf-8",
                          dossier_file.file_name(made), **{"Content-Security-Policy": FILE_POLICY,
                                                           "Cache-Control": "no-store"})

    return routes
