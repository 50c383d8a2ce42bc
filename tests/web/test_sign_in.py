"""Signing in by a link in the mail, sessions and signing out, as a person does it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine

from app.service import Service
from engine.clock import FrozenClock
from tests.helpers import SECRETARIAT
from tests.web.conftest import TestClient, csrf_of, sign_in, sign_in_mail_link


def test_a_signed_out_visitor_is_sent_to_sign_in(web: TestClient) -> None:
    page = web.get("/trajecten")
    assert page.status_code == 303
    assert page.headers["location"] == "/inloggen?terug=%2Ftrajecten"
    assert "E-mailadres" in web.get("/inloggen").text


def test_the_secretariat_signs_in_with_the_mailed_link(web: TestClient, sqlite_engine: Engine) -> None:
    sign_in(web, sqlite_engine, SECRETARIAT)
    overview = web.get("/trajecten")
    assert overview.status_code == 200
    assert "Ingelogd als" in overview.text


def test_an_unknown_address_gets_the_same_answer_and_no_mail(web: TestClient) -> None:
    known = web.post("/inloggen", data={"email": SECRETARIAT}).text
    unknown = web.post("/inloggen", data={"email": "vreemde@example.org"}).text
    assert known.replace(SECRETARIAT, "X") == unknown.replace("vreemde@example.org", "X")


def test_a_bad_address_is_refused_in_dutch(web: TestClient) -> None:
    page = web.post("/inloggen", data={"email": "geen adres"})
    assert page.status_code == 400
    assert "Vul je e-mailadres in" in page.text


def test_opening_the_link_does_not_sign_in_only_the_button_does(web: TestClient,
                                                                sqlite_engine: Engine) -> None:
    web.post("/inloggen", data={"email": SECRETARIAT})
    path = sign_in_mail_link(sqlite_engine, SECRETARIAT)
    web.get(path)
    web.head(path)
    assert "advies_sessie" not in web.cookies
    assert web.post(path).status_code == 303
    assert "advies_sessie" in web.cookies


def test_a_link_works_once(web: TestClient, sqlite_engine: Engine) -> None:
    web.post("/inloggen", data={"email": SECRETARIAT})
    path = sign_in_mail_link(sqlite_engine, SECRETARIAT)
    assert web.post(path).status_code == 303
    again = web.post(path)
    assert again.status_code == 400
    assert "al gebruikt" in again.text


def test_a_link_expires_after_fifteen_minutes(web: TestClient, sqlite_engine: Engine,
                                              clock: FrozenClock) -> None:
    web.post("/inloggen", data={"email": SECRETARIAT})
    path = sign_in_mail_link(sqlite_engine, SECRETARIAT)
    clock.advance(timedelta(minutes=16))
    page = web.get(path)
    assert page.status_code == 410
    assert "verlopen" in page.text
    assert web.post(path).status_code == 410


def test_a_tampered_link_is_refused(web: TestClient, sqlite_engine: Engine) -> None:
    web.post("/inloggen", data={"email": SECRETARIAT})
    path = sign_in_mail_link(sqlite_engine, SECRETARIAT)
    forged = path[:-3] + ("aaa" if not path.endswith("aaa") else "bbb")
    assert web.post(forged).status_code == 400
    assert "advies_sessie" not in web.cookies


def test_the_cookie_is_httponly_and_samesite(web: TestClient, sqlite_engine: Engine) -> None:
    web.post("/inloggen", data={"email": SECRETARIAT})
    used = web.post(sign_in_mail_link(sqlite_engine, SECRETARIAT))
    cookie = used.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie


def test_signing_out_ends_the_session_for_good(web: TestClient, sqlite_engine: Engine) -> None:
    csrf = sign_in(web, sqlite_engine, SECRETARIAT)
    kept = web.cookies.get("advies_sessie")
    assert web.post("/uitloggen", data={"csrf": csrf}).status_code == 303
    web.cookies.set("advies_sessie", kept)  # a copy of the old cookie does not bring it back
    assert web.get("/trajecten").status_code == 303


def test_signing_out_without_the_csrf_token_is_refused(web: TestClient, sqlite_engine: Engine) -> None:
    sign_in(web, sqlite_engine, SECRETARIAT)
    refused = web.post("/uitloggen", data={})
    assert refused.status_code == 403
    assert web.get("/trajecten").status_code == 200


def test_a_session_ends_after_twelve_hours(web: TestClient, sqlite_engine: Engine,
                                           clock: FrozenClock) -> None:
    sign_in(web, sqlite_engine, SECRETARIAT)
    clock.advance(timedelta(hours=12, minutes=1))
    assert web.get("/trajecten").status_code == 303


def test_a_member_does_not_see_the_secretariats_pages(web: TestClient, sqlite_engine: Engine) -> None:
    sign_in(web, sqlite_engine, "bram@example.org")
    assert web.get("/trajecten").status_code == 403


def test_the_csrf_token_differs_per_session(service: Service, sqlite_engine: Engine) -> None:
    from web.app import create_app
    with TestClient(create_app(service), follow_redirects=False) as one, \
            TestClient(create_app(service), follow_redirects=False) as two:
        assert sign_in(one, sqlite_engine, SECRETARIAT) != sign_in(two, sqlite_engine, SECRETARIAT)
        assert csrf_of(one.get("/trajecten").text) != csrf_of(two.get("/trajecten").text)


def test_the_access_log_hides_sign_in_and_calendar_links() -> None:
    import logging

    from web.app import RedactLinks
    for path, shown in (("/inloggen/eyJwIjo.abc", "/inloggen/[link]"),
                        ("/agenda/geheim123.ics", "/agenda/[link]")):
        record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                                   ("10.1.2.3:5000", "POST", path, "1.1", 303), None)
        assert RedactLinks().filter(record)
        assert record.getMessage() == f'- - "POST {shown} HTTP/1.1" 303'


def test_the_access_log_hides_what_was_searched() -> None:
    import logging

    from web.app import RedactLinks
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("10.1.2.3:5000", "GET", "/trajecten?stroom=md_signal&zoek=Anna%20de%20Vries",
                                "1.1", 200), None)
    assert RedactLinks().filter(record)
    assert record.getMessage() == '- - "GET /trajecten?stroom=md_signal&zoek=[…] HTTP/1.1" 200'
