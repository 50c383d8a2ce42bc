"""The personal calendar feed: /agenda makes, renews and stops a secret address; the address
gives an iCalendar file (read here by icalendar and by vobject) with the deadlines that concern
the person. Only a hash of the secret is stored; an ended or unknown address is a bare 404."""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime

import icalendar
import pytest
import vobject
from sqlalchemy import Engine
from sqlmodel import Session, select

from app import feeds
from app.service import Service
from engine.clock import AMSTERDAM, FrozenClock
from engine.errors import NotFound
from settings import Settings
from storage.tables import CalendarFeed, DeadlineRow, Person
from tests.helpers import SECRETARIAT, member
from tests.web.conftest import TestClient, sign_in

ADDRESS = re.compile(r'value="http://testserver/agenda/([A-Za-z0-9_-]{43})\.ics"')
DEMO_NAME = "Adviesgroep Sociaal Domein Voorbeeldstad"
MD_SECRETARY = "secretaris@voorbeeldveld.example.org"


def asked(service: Service, title: str) -> int:
    tid = int(service.start("asked_advice", "demo", title, SECRETARIAT,
                            {"policy_adviser": "beleid@example.org",
                             "received_on": "2026-03-24"})["id"])
    service.fire(tid, "call_participants", SECRETARIAT)
    return tid


def make_address(web: TestClient, csrf: str) -> str:
    made = web.post("/agenda", data={"csrf": csrf, "actie": "maken"})
    assert made.status_code == 200, made.text
    found = ADDRESS.search(made.text)
    assert found is not None, "geen agenda-adres op de pagina"
    return found.group(1)


def fetch(web: TestClient, secret: str) -> str:
    """The calendar as a calendar app fetches it: no session cookie."""
    kept = dict(web.cookies)
    web.cookies.clear()
    try:
        got = web.get(f"/agenda/{secret}.ics")
    finally:
        for name, value in kept.items():
            web.cookies.set(name, value)
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == "text/calendar; charset=utf-8"
    assert "set-cookie" not in got.headers
    return got.text


def status_of(web: TestClient, secret: str) -> int:
    kept = dict(web.cookies)
    web.cookies.clear()
    got = web.get(f"/agenda/{secret}.ics")
    for name, value in kept.items():
        web.cookies.set(name, value)
    return got.status_code


def summaries(text: str) -> dict[str, str]:
    """UID -> SUMMARY, read by icalendar."""
    calendar = icalendar.Calendar.from_ical(text)
    return {str(e["UID"]): str(e["SUMMARY"]) for e in calendar.walk("VEVENT")}


def deadline_ids(engine: Engine, trajectory_id: int) -> list[int]:
    with Session(engine) as session:
        return [int(d.id or 0) for d in session.exec(
            select(DeadlineRow).where(DeadlineRow.trajectory_id == trajectory_id)).all()]


def test_making_an_address_shows_it_once_and_the_feed_parses_with_two_parsers(
        web: TestClient, service: Service, sqlite_engine: Engine) -> None:
    tid = asked(service, "Regiovisie beschermd wonen")
    csrf = sign_in(web, sqlite_engine, SECRETARIAT)
    before = web.get("/agenda")
    assert before.status_code == 200
    assert "Je hebt nog geen agenda-adres." in before.text
    assert "Maak een agenda-adres" in before.text
    assert "Outlook" in before.text
    assert "Je ziet alle lopende, opgeschorte en verlopen termijnen" in before.text

    secret = make_address(web, csrf)
    later = web.get("/agenda").text
    assert secret not in later  # shown once: only its hash is kept
    assert "Je hebt een agenda-adres sinds dinsdag 24 maart 2026" in later
    assert "Maak een nieuw adres (het oude werkt dan niet meer)" in later
    assert "Stop het agenda-adres" in later

    text = fetch(web, secret)
    calendar = icalendar.Calendar.from_ical(text)
    assert str(calendar["X-WR-CALNAME"]) == f"Termijnen {DEMO_NAME}"
    events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    signup, advice = sorted(deadline_ids(sqlite_engine, tid))[::-1]  # newest first: the call
    assert set(events) == {f"termijn-{advice}@example.org", f"termijn-{signup}@example.org"}
    closes = events[f"termijn-{signup}@example.org"]
    assert str(closes["SUMMARY"]) == "Aanmeldtermijn: Regiovisie beschermd wonen"
    assert closes.decoded("DTSTART") == date(2026, 4, 7)
    assert closes.decoded("DTEND") == date(2026, 4, 8)
    assert f"http://testserver/trajecten/{tid}" in str(closes["DESCRIPTION"])
    assert "Status: loopt." in str(closes["DESCRIPTION"])

    parsed = vobject.readOne(text)
    assert parsed.x_wr_calname.value == f"Termijnen {DEMO_NAME}"
    by_uid = {e.uid.value: e for e in parsed.vevent_list}
    assert by_uid[f"termijn-{advice}@example.org"].dtstart.value == date(2026, 5, 6)
    assert by_uid[f"termijn-{advice}@example.org"].summary.value.endswith("Regiovisie beschermd wonen")


def test_only_a_hash_of_the_secret_is_stored(web: TestClient, sqlite_engine: Engine) -> None:
    csrf = sign_in(web, sqlite_engine, SECRETARIAT)
    secret = make_address(web, csrf)
    with Session(sqlite_engine) as session:
        rows = session.exec(select(CalendarFeed)).all()
    assert len(rows) == 1
    assert rows[0].secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in repr(rows[0].model_dump())


def test_uids_stay_the_same_and_an_overdue_deadline_says_so(
        web: TestClient, service: Service, sqlite_engine: Engine, clock: FrozenClock) -> None:
    asked(service, "Regiovisie beschermd wonen")
    csrf = sign_in(web, sqlite_engine, SECRETARIAT)
    secret = make_address(web, csrf)
    first = summaries(fetch(web, secret))
    clock.set(datetime(2026, 4, 9, 10, 0, tzinfo=AMSTERDAM))  # the sign-up term ended 7 April
    second = summaries(fetch(web, secret))
    assert set(first) == set(second)
    assert "Verlopen: Aanmeldtermijn: Regiovisie beschermd wonen" in second.values()


def test_the_staff_get_every_deadline_a_member_only_those_of_their_trajectories(
        web: TestClient, service: Service, sqlite_engine: Engine) -> None:
    joined = asked(service, "Waar Bram aan meedoet")
    other = asked(service, "Waar Bram niet aan meedoet")
    service.fire(joined, "sign_up", member("bram"))
    service.start("md_asked_advice", "demo-md", "Verordening Voorbeeldveld", MD_SECRETARY,
                  {"policy_adviser": "beleid@voorbeeldveld.example.org",
                   "received_on": "2026-03-24", "document_type": "beleidsregel"})

    staff = sign_in(web, sqlite_engine, "verbinding@example.org")
    of_staff = " ".join(summaries(fetch(web, make_address(web, staff))).values())
    assert "Waar Bram aan meedoet" in of_staff
    assert "Waar Bram niet aan meedoet" in of_staff
    assert "Voorbeeldveld" not in of_staff

    web.cookies.clear()
    bram = sign_in(web, sqlite_engine, member("bram"))
    of_bram = summaries(fetch(web, make_address(web, bram)))
    assert set(of_bram) == {f"termijn-{i}@example.org" for i in deadline_ids(sqlite_engine, joined)}
    assert not {f"termijn-{i}@example.org" for i in deadline_ids(sqlite_engine, other)} & set(of_bram)


def test_a_member_without_trajectories_gets_an_empty_calendar(web: TestClient, service: Service,
                                                              sqlite_engine: Engine) -> None:
    asked(service, "Regiovisie beschermd wonen")
    csrf = sign_in(web, sqlite_engine, member("cor"))
    assert "Je ziet de termijnen van de trajecten waar je aan meedoet." in web.get("/agenda").text
    text = fetch(web, make_address(web, csrf))
    assert summaries(text) == {}
    assert vobject.readOne(text).x_wr_calname.value == f"Termijnen {DEMO_NAME}"


def test_stopping_the_address_makes_it_a_404(web: TestClient, sqlite_engine: Engine) -> None:
    csrf = sign_in(web, sqlite_engine, SECRETARIAT)
    secret = make_address(web, csrf)
    stopped = web.post("/agenda", data={"csrf": csrf, "actie": "stoppen"})
    assert stopped.status_code == 303
    assert stopped.headers["location"] == "/agenda?gestopt=1"
    page = web.get(stopped.headers["location"]).text
    assert "Je agenda-adres is gestopt." in page
    assert "Je hebt nog geen agenda-adres." in page
    assert status_of(web, secret) == 404


def test_a_new_address_ends_the_old_one(web: TestClient, sqlite_engine: Engine) -> None:
    csrf = sign_in(web, sqlite_engine, SECRETARIAT)
    old = make_address(web, csrf)
    new = make_address(web, csrf)
    assert old != new
    assert status_of(web, old) == 404
    assert status_of(web, new) == 200


@pytest.mark.parametrize("secret", ["abc", "A" * 43, "A" * 44, "%2E%2E", "a.b" * 15])
def test_an_unknown_or_malformed_address_is_a_bare_404(web: TestClient, secret: str) -> None:
    got = web.get(f"/agenda/{secret}.ics")
    assert got.status_code == 404
    assert got.text == "Niet gevonden.\n"


def test_a_person_who_lost_every_role_has_no_calendar(web: TestClient, sqlite_engine: Engine) -> None:
    csrf = sign_in(web, sqlite_engine, member("bram"))
    secret = make_address(web, csrf)
    with Session(sqlite_engine) as session:
        person = session.exec(select(Person).where(Person.email == member("bram"))).one()
        person.roles = []
        session.add(person)
        session.commit()
    assert status_of(web, secret) == 404


def test_a_post_without_the_csrf_token_changes_nothing(web: TestClient,
                                                      sqlite_engine: Engine) -> None:
    csrf = sign_in(web, sqlite_engine, SECRETARIAT)
    assert web.post("/agenda", data={"actie": "maken"}).status_code == 403
    with Session(sqlite_engine) as session:
        assert session.exec(select(CalendarFeed)).all() == []
    secret = make_address(web, csrf)
    refused = web.post("/agenda", data={"actie": "stoppen", "csrf": "vals"})
    assert refused.status_code == 403
    assert status_of(web, secret) == 200
    cross = web.post("/agenda", data={"actie": "maken", "csrf": csrf},
                     headers={"sec-fetch-site": "cross-site"})
    assert cross.status_code == 403
    assert status_of(web, secret) == 200


@pytest.mark.parametrize("action", ["", "verwijderen", "x" * 500])
def test_an_unknown_action_is_refused_in_dutch(web: TestClient, sqlite_engine: Engine,
                                               action: str) -> None:
    csrf = sign_in(web, sqlite_engine, SECRETARIAT)
    refused = web.post("/agenda", data={"csrf": csrf, "actie": action})
    assert refused.status_code == 400
    assert "Kies een van de knoppen" in refused.text
    with Session(sqlite_engine) as session:
        assert session.exec(select(CalendarFeed)).all() == []


def test_signed_out_the_page_asks_to_sign_in_and_nothing_can_be_made(web: TestClient,
                                                                    sqlite_engine: Engine) -> None:
    assert web.get("/agenda").status_code == 303
    assert web.post("/agenda", data={"actie": "maken"}).status_code == 303
    with Session(sqlite_engine) as session:
        assert session.exec(select(CalendarFeed)).all() == []


def test_the_address_is_never_in_a_redirect_or_cached(web: TestClient, sqlite_engine: Engine) -> None:
    csrf = sign_in(web, sqlite_engine, SECRETARIAT)
    made = web.post("/agenda", data={"csrf": csrf, "actie": "maken"})
    assert made.status_code == 200
    secret = ADDRESS.search(made.text)
    assert secret is not None
    assert f'href="webcal://testserver/agenda/{secret.group(1)}.ics"' in made.text
    assert "location" not in made.headers
    assert made.headers["cache-control"] == "no-store"
    assert made.headers["referrer-policy"] == "no-referrer"


def test_the_calendar_is_built_alike_on_sqlite_and_postgresql(any_engine: Engine,
                                                             settings: Settings,
                                                             clock: FrozenClock) -> None:
    service = Service(any_engine, settings, clock)
    tid = asked(service, "Regiovisie beschermd wonen")
    service.fire(tid, "sign_up", member("bram"))
    with Session(any_engine) as session:
        bram = session.exec(select(Person).where(Person.email == member("bram"))).first()
        assert bram is not None
        assert bram.id is not None
    secret = feeds.make(service, bram.id)
    got = summaries(feeds.calendar(service, secret).decode())
    assert set(got) == {f"termijn-{i}@example.org" for i in deadline_ids(any_engine, tid)}
    assert feeds.revoke(service, bram.id)
    with pytest.raises(NotFound):
        feeds.calendar(service, secret)
