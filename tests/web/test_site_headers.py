"""The signed-in pages carry the same safe headers as the answer page, and no script at all."""

from __future__ import annotations

from sqlalchemy import Engine

from app.service import Service
from tests.helpers import SECRETARIAT
from tests.web.conftest import TestClient, sign_in


def test_every_site_page_has_the_security_headers(web: TestClient, sqlite_engine: Engine) -> None:
    pages = [web.get("/inloggen"), web.get("/trajecten", follow_redirects=True)]
    sign_in(web, sqlite_engine, SECRETARIAT)
    pages += [web.get("/trajecten"), web.get("/trajecten/999999"), web.get("/bestaat-niet")]
    for response in pages:
        headers = response.headers
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["cache-control"] == "no-store"
        policy = headers["content-security-policy"]
        assert "default-src 'none'" in policy
        assert "frame-ancestors 'none'" in policy
        assert "unsafe-inline" not in policy
        assert "script-src" not in policy  # falls back to default-src 'none': no scripts
        assert "<script" not in response.text
        assert " style=" not in response.text


def test_an_unknown_page_is_a_dutch_404(web: TestClient, sqlite_engine: Engine) -> None:
    sign_in(web, sqlite_engine, SECRETARIAT)
    page = web.get("/bestaat-niet")
    assert page.status_code == 404
    assert "Deze pagina bestaat niet." in page.text


def test_bad_filters_are_refused_in_dutch(web: TestClient, sqlite_engine: Engine) -> None:
    sign_in(web, sqlite_engine, SECRETARIAT)
    for query, said in (("stroom=md_signal", "Kies een stroom"), ("fase=nergens", "Kies een fase"),
                        ("pagina=0", "paginanummer"), ("pagina=abc", "paginanummer"),
                        ("pagina=99999999999999999999", "paginanummer")):
        page = web.get(f"/trajecten?{query}")
        assert page.status_code == 400, query
        assert said in page.text


def test_the_overview_searches_and_pages(web: TestClient, sqlite_engine: Engine, service: Service) -> None:
    for number in range(30):
        service.start("asked_advice", "demo", f"Advies nummer {number:02d}", SECRETARIAT,
                      {"policy_adviser": "beleid@example.org", "received_on": "2026-03-24"})
    service.start("asked_advice", "demo", "Minima 100% regeling", SECRETARIAT,
                  {"policy_adviser": "beleid@example.org", "received_on": "2026-03-24"})
    sign_in(web, sqlite_engine, SECRETARIAT)
    first = web.get("/trajecten").text
    assert "31 trajecten gevonden, pagina 1 van 2" in first
    assert "Minima 100% regeling" in first
    second = web.get("/trajecten?pagina=2").text
    assert "Advies nummer 00" in second
    assert "Minima" not in second
    found = web.get("/trajecten?zoek=100%25").text
    assert "1 traject gevonden" in found
    assert "Minima 100% regeling" in found
    assert "0 trajecten gevonden" in web.get("/trajecten?zoek=_%25").text
    assert "31 trajecten gevonden" in web.get("/trajecten?stroom=asked_advice&fase=requested").text
    assert "0 trajecten gevonden" in web.get("/trajecten?stroom=asked_advice&fase=closed").text
