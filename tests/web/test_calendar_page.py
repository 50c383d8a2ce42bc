"""The deadlines calendar (/termijnen): one month of the organisation's running, suspended and
overdue deadlines, per week and per day; only for the staff, only their own organisation."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import Engine

from app.service import Service
from engine.clock import AMSTERDAM, FrozenClock
from tests.helpers import SECRETARIAT, member
from tests.web.conftest import TestClient, sign_in

MD_SECRETARY = "secretaris@voorbeeldveld.example.org"


def called(service: Service, title: str = "Regiovisie beschermd wonen") -> int:
    """An asked advice whose call runs: sign-up closes 7 April, advice due 6 May 2026."""
    tid = int(service.start("asked_advice", "demo", title, SECRETARIAT,
                            {"policy_adviser": "beleid@example.org",
                             "received_on": "2026-03-24"})["id"])
    service.fire(tid, "call_participants", SECRETARIAT)
    return tid


def md_trajectory(service: Service) -> int:
    return int(service.start("md_asked_advice", "demo-md", "Geheime verordening Voorbeeldveld",
                             MD_SECRETARY, {"policy_adviser": "beleid@voorbeeldveld.example.org",
                                            "received_on": "2026-03-24",
                                            "document_type": "beleidsregel"})["id"])


def test_a_month_lists_its_deadlines_per_week_with_date_label_trajectory_and_status(
        web: TestClient, service: Service, sqlite_engine: Engine) -> None:
    tid = called(service)
    sign_in(web, sqlite_engine, SECRETARIAT)
    april = web.get("/termijnen", params={"maand": "2026-04"})
    assert april.status_code == 200
    assert "<h1 class=\"utrecht-heading-1\">Termijnen in april 2026</h1>" in april.text
    assert "Week 15: maandag 6 april 2026 tot en met zondag 12 april 2026" in april.text
    assert "dinsdag 7 april 2026" in april.text
    assert "aanmeldtermijn" in april.text
    assert f'href="/trajecten/{tid}">Regiovisie beschermd wonen</a>' in april.text
    assert "loopt" in april.text
    assert "6 mei" not in april.text  # only this month's deadlines
    assert 'href="/termijnen?maand=2026-03" rel="prev"' in april.text
    assert 'href="/termijnen?maand=2026-05" rel="next"' in april.text

    may = web.get("/termijnen?maand=2026-05").text
    assert "woensdag 6 mei 2026" in may
    assert "7 april" not in may


def test_without_a_month_the_current_month_by_the_clock(web: TestClient, service: Service,
                                                       sqlite_engine: Engine,
                                                       clock: FrozenClock) -> None:
    called(service)
    sign_in(web, sqlite_engine, SECRETARIAT)
    march = web.get("/termijnen")
    assert "Termijnen in maart 2026" in march.text
    assert "In maart 2026 loopt geen termijn af." in march.text
    clock.set(datetime(2026, 4, 2, 10, 0, tzinfo=AMSTERDAM))
    sign_in(web, sqlite_engine, SECRETARIAT)
    april = web.get("/termijnen")
    assert "Termijnen in april 2026" in april.text
    assert "1 termijn in april 2026." in april.text


def test_an_overdue_deadline_is_marked_by_text_and_earlier_ones_are_counted(
        web: TestClient, service: Service, sqlite_engine: Engine, clock: FrozenClock) -> None:
    tid = called(service)
    clock.set(datetime(2026, 5, 11, 10, 0, tzinfo=AMSTERDAM))  # no worker ran: both are past
    sign_in(web, sqlite_engine, SECRETARIAT)
    may = web.get("/termijnen").text
    assert '<span class="site-tag site-tag--overdue">Verlopen</span>' in may
    assert "ook 1 verlopen termijn van eerder" in may  # the sign-up term of 7 April
    assert f'href="/trajecten/{tid}"' in may


def test_a_suspended_deadline_says_so(web: TestClient, service: Service,
                                      sqlite_engine: Engine) -> None:
    tid = called(service)
    service.fire(tid, "suspend", SECRETARIAT, {"reason": "Wachten op stukken"})
    sign_in(web, sqlite_engine, SECRETARIAT)
    assert "opgeschort" in web.get("/termijnen?maand=2026-05").text


def test_a_met_deadline_is_not_shown(web: TestClient, service: Service, sqlite_engine: Engine,
                                     clock: FrozenClock) -> None:
    tid = called(service)
    for name in ("anna", "bram", "cor", "dewi", "els"):
        service.fire(tid, "sign_up", member(name))
    service.fire(tid, "close_signup", SECRETARIAT)
    sign_in(web, sqlite_engine, SECRETARIAT)
    april = web.get("/termijnen?maand=2026-04").text
    assert "aanmeldtermijn" not in april
    assert "In april 2026 loopt geen termijn af." in april


def test_another_organisations_deadlines_are_never_shown(web: TestClient, service: Service,
                                                         sqlite_engine: Engine) -> None:
    called(service, "Regiovisie Voorbeeldstad")
    md_trajectory(service)
    sign_in(web, sqlite_engine, SECRETARIAT)
    may = web.get("/termijnen?maand=2026-05").text
    assert "Regiovisie Voorbeeldstad" in may
    assert "Geheime verordening" not in may

    web.cookies.clear()
    sign_in(web, sqlite_engine, MD_SECRETARY)
    theirs = web.get("/termijnen?maand=2026-05").text
    assert "Geheime verordening Voorbeeldveld" in theirs
    assert "Regiovisie" not in theirs


@pytest.mark.parametrize("month", ["2026-13", "2026-00", "2026-4", "april", "2026-04-01",
                                   "１２３４-０１", "0000-01", "1900-01", "2099-01", "x" * 5000])
def test_a_bad_month_is_refused_in_dutch(web: TestClient, sqlite_engine: Engine,
                                         month: str) -> None:
    sign_in(web, sqlite_engine, SECRETARIAT)
    page = web.get("/termijnen", params={"maand": month})
    assert page.status_code == 400
    assert "Kies een maand" in page.text


@pytest.mark.parametrize("address", ["verbinding@example.org", "anna@example.org"])
def test_the_liaison_and_the_chair_see_the_calendar(web: TestClient, sqlite_engine: Engine,
                                                    address: str) -> None:
    sign_in(web, sqlite_engine, address)
    page = web.get("/termijnen")
    assert page.status_code == 200
    assert 'href="/termijnen" aria-current="page"' in page.text


@pytest.mark.parametrize("address", ["bram@example.org", "beleid@example.org",
                                     "wethouder@example.org"])
def test_members_and_officials_may_not_open_the_calendar(web: TestClient, sqlite_engine: Engine,
                                                         address: str) -> None:
    sign_in(web, sqlite_engine, address)
    page = web.get("/termijnen?maand=2026-04")
    assert page.status_code == 403
    assert "niet voor jouw rol" in page.text
    assert 'href="/termijnen"' not in web.get("/mijn").text  # not in their menu either


def test_signed_out_the_calendar_asks_to_sign_in(web: TestClient) -> None:
    page = web.get("/termijnen?maand=2026-04")
    assert page.status_code == 303
    assert page.headers["location"].startswith("/inloggen?terug=")
