"""The members' page (/mijn): the calls open to the person now, answered with "Ja" or "Nee" as
the signed-in person, and the trajectories that name them."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from app.my_work import naming
from app.service import Service
from engine.clock import FrozenClock
from settings import Settings
from storage.tables import Organisation
from tests.helpers import MEMBERS, SECRETARIAT, mails_to, member
from tests.web.conftest import TestClient, sign_in

BRAM = member("bram")
MD_SECRETARY = "secretaris@voorbeeldveld.example.org"
ROOS = "roos@voorbeeldveld.example.org"
AALTJE = "aaltje@voorbeeldveld.example.org"


def called(service: Service, title: str = "Regiovisie beschermd wonen") -> int:
    tid = int(service.start("asked_advice", "demo", title, SECRETARIAT,
                            {"policy_adviser": "beleid@example.org",
                             "received_on": "2026-03-24"})["id"])
    service.fire(tid, "call_participants", SECRETARIAT)
    return tid


def answer(web: TestClient, csrf: str, tid: int | str, choice: str) -> str:
    """Press a button; the page the person lands on."""
    sent = web.post(f"/mijn/oproep/{tid}", data={"csrf": csrf, "antwoord": choice})
    assert sent.status_code == 303, sent.text
    assert urlsplit(sent.headers["location"]).path == "/mijn"
    return web.get(sent.headers["location"]).text


def signups(service: Service, tid: int) -> list[str]:
    return list(service.show(tid)["data"].get("signups", []))


def test_an_open_call_is_shown_with_its_closing_date_and_both_buttons(
        web: TestClient, service: Service, sqlite_engine: Engine) -> None:
    tid = called(service)
    sign_in(web, sqlite_engine, BRAM)
    page = web.get("/mijn")
    assert page.status_code == 200
    assert "Oproepen voor jou" in page.text
    assert "Regiovisie beschermd wonen" in page.text
    assert "We zoeken deelnemers voor een projectgroep." in page.text
    assert "De aanmelding sluit op dinsdag 7 april 2026." in page.text
    assert "Je hebt nog niet geantwoord." in page.text
    assert f'action="/mijn/oproep/{tid}"' in page.text
    assert 'value="sign_up"' in page.text
    assert "Ja, ik doe mee" in page.text
    assert 'value="withdraw_signup"' in page.text
    assert "Nee, ik doe niet mee" in page.text
    assert "Je doet nog niet mee aan een traject." in page.text


def test_signing_up_and_withdrawing_through_the_page(web: TestClient, service: Service,
                                                     sqlite_engine: Engine) -> None:
    tid = called(service)
    csrf = sign_in(web, sqlite_engine, BRAM)
    page = answer(web, csrf, tid, "sign_up")
    assert "Dank je wel! Je doet mee" in page
    assert "Je bent aangemeld voor \u201cRegiovisie beschermd wonen\u201d" in page
    assert "Je doet mee." in page
    assert signups(service, tid) == [BRAM]
    history = service.show(tid)["history"]
    assert (history[-1]["event"], history[-1]["actor"]) == ("sign_up", BRAM)
    assert BRAM in mails_to(sqlite_engine, "call/signup_confirmed")
    assert "Trajecten waar je aan meedoet" in page
    assert f'href="/trajecten/{tid}">Regiovisie beschermd wonen</a>' in page
    assert "aangemeld" in page

    again = answer(web, csrf, tid, "sign_up")
    assert "Je was al aangemeld" in again
    assert signups(service, tid) == [BRAM]

    gone = answer(web, csrf, tid, "withdraw_signup")
    assert "Je bent afgemeld" in gone
    assert signups(service, tid) == []
    assert BRAM in mails_to(sqlite_engine, "call/signup_withdrawn")
    assert "Je hebt nog niet geantwoord." in gone

    declined = answer(web, csrf, tid, "withdraw_signup")
    assert "Dank je wel voor je antwoord" in declined
    assert [h["event"] for h in service.show(tid)["history"]].count("withdraw_signup") == 1


def test_a_full_group_puts_the_next_one_on_the_reserve_list_and_says_so(
        web: TestClient, service: Service, sqlite_engine: Engine) -> None:
    tid = called(service)  # demo: group_max 6
    for name in [n for n in MEMBERS if n != "hamid"][:6]:
        service.fire(tid, "sign_up", member(name))
    csrf = sign_in(web, sqlite_engine, member("hamid"))
    page = answer(web, csrf, tid, "sign_up")
    assert "Je staat op de reservelijst" in page
    assert "De projectgroep voor \u201cRegiovisie beschermd wonen\u201d is al vol." in page
    assert "Je staat op de reservelijst (plaats 1)." in page
    assert member("hamid") in mails_to(sqlite_engine, "call/signup_reserve")


def test_once_the_group_is_formed_the_call_is_gone_and_the_group_is_shown(
        web: TestClient, service: Service, sqlite_engine: Engine) -> None:
    tid = called(service)
    for name in MEMBERS[:5]:
        service.fire(tid, "sign_up", member(name))
    service.fire(tid, "close_signup", SECRETARIAT)
    csrf = sign_in(web, sqlite_engine, BRAM)
    page = web.get("/mijn").text
    assert "Er is nu geen oproep voor jou." in page
    assert "Ja, ik doe mee" not in page
    assert f'href="/trajecten/{tid}"' in page
    assert "in de projectgroep" in page

    refused = web.post(f"/mijn/oproep/{tid}", data={"csrf": csrf, "antwoord": "withdraw_signup"})
    assert refused.status_code == 403
    assert "De aanmelding voor dit traject is gesloten." in refused.text
    assert BRAM in service.show(tid)["data"]["group"]


def test_a_suspended_call_shows_no_buttons_and_takes_no_answer(
        web: TestClient, service: Service, sqlite_engine: Engine) -> None:
    tid = called(service)
    service.fire(tid, "suspend", SECRETARIAT, {"reason": "Even wachten"})
    csrf = sign_in(web, sqlite_engine, BRAM)
    page = web.get("/mijn").text
    assert "Regiovisie beschermd wonen" in page
    assert "Dit traject is opgeschort." in page
    assert "Ja, ik doe mee" not in page
    refused = web.post(f"/mijn/oproep/{tid}", data={"csrf": csrf, "antwoord": "sign_up"})
    assert refused.status_code == 403
    assert "opgeschort" in refused.text
    assert signups(service, tid) == []


def test_someone_of_another_organisation_cannot_answer_a_demo_call(
        web: TestClient, service: Service, sqlite_engine: Engine) -> None:
    tid = called(service)
    csrf = sign_in(web, sqlite_engine, AALTJE)
    assert "Regiovisie" not in web.get("/mijn").text
    refused = web.post(f"/mijn/oproep/{tid}", data={"csrf": csrf, "antwoord": "sign_up"})
    assert refused.status_code == 404
    assert "bestaat niet" in refused.text
    assert signups(service, tid) == []


@pytest.mark.parametrize("number", ["999999", "0", "abc", "-1", "1e3", "９", "9" * 30])
def test_a_trajectory_that_does_not_exist_is_a_404(web: TestClient, sqlite_engine: Engine,
                                                   number: str) -> None:
    csrf = sign_in(web, sqlite_engine, BRAM)
    refused = web.post(f"/mijn/oproep/{number}", data={"csrf": csrf, "antwoord": "sign_up"})
    assert refused.status_code == 404


@pytest.mark.parametrize("choice", ["", "ja", "close_signup", "withdraw", "x" * 1000])
def test_an_answer_that_is_not_yes_or_no_is_refused_in_dutch(
        web: TestClient, service: Service, sqlite_engine: Engine, choice: str) -> None:
    tid = called(service)
    csrf = sign_in(web, sqlite_engine, BRAM)
    refused = web.post(f"/mijn/oproep/{tid}", data={"csrf": csrf, "antwoord": choice})
    assert refused.status_code == 400
    assert "Kies \u201cJa, ik doe mee\u201d of \u201cNee, ik doe niet mee\u201d." in refused.text
    assert len(service.show(tid)["history"]) == 2


def test_an_answer_without_the_csrf_token_changes_nothing(web: TestClient, service: Service,
                                                         sqlite_engine: Engine) -> None:
    tid = called(service)
    csrf = sign_in(web, sqlite_engine, BRAM)
    assert web.post(f"/mijn/oproep/{tid}", data={"antwoord": "sign_up"}).status_code == 403
    assert web.post(f"/mijn/oproep/{tid}",
                    data={"antwoord": "sign_up", "csrf": csrf[:-2] + "xx"}).status_code == 403
    assert signups(service, tid) == []


def test_a_call_to_another_role_is_not_shown_and_cannot_be_answered(
        web: TestClient, service: Service, sqlite_engine: Engine) -> None:
    tid = called(service)
    csrf = sign_in(web, sqlite_engine, SECRETARIAT)
    assert "Er is nu geen oproep voor jou." in web.get("/mijn").text
    refused = web.post(f"/mijn/oproep/{tid}", data={"csrf": csrf, "antwoord": "sign_up"})
    assert refused.status_code == 403
    assert "Deze oproep is niet voor jou." in refused.text
    assert signups(service, tid) == []


def test_the_platform_inclusie_sees_its_own_call_and_the_theme_group_its_trajectory(
        web: TestClient, service: Service, sqlite_engine: Engine) -> None:
    tid = int(service.start("md_asked_advice", "demo-md", "Beleidsregel leerlingenvervoer",
                            MD_SECRETARY, {"policy_adviser": "beleid@voorbeeldveld.example.org",
                                           "received_on": "2026-03-24",
                                           "document_type": "beleidsregel"})["id"])
    service.fire(tid, "assign", MD_SECRETARY, {"group": "Participeren"})
    csrf = sign_in(web, sqlite_engine, ROOS)
    page = web.get("/mijn").text
    assert "We vragen het Platform Inclusie om mee te kijken" in page
    done = answer(web, csrf, tid, "sign_up")
    assert "Dank je wel! Je doet mee" in done
    assert service.show(tid)["data"]["platform_signups"] == [ROOS]
    assert "aangemeld voor het Platform Inclusie" in done

    web.cookies.clear()
    csrf = sign_in(web, sqlite_engine, AALTJE)
    theirs = web.get("/mijn").text
    assert "Er is nu geen oproep voor jou." in theirs
    assert f'href="/trajecten/{tid}">Beleidsregel leerlingenvervoer</a>' in theirs
    assert "in de themagroep" in theirs
    refused = web.post(f"/mijn/oproep/{tid}", data={"csrf": csrf, "antwoord": "sign_up"})
    assert refused.status_code == 403


def test_the_policy_adviser_sees_the_trajectories_that_name_them(
        web: TestClient, service: Service, sqlite_engine: Engine) -> None:
    tid = called(service)
    sign_in(web, sqlite_engine, "beleid@example.org")
    page = web.get("/mijn").text
    assert f'href="/trajecten/{tid}">Regiovisie beschermd wonen</a>' in page
    assert "beleidsadviseur" in page
    assert "Oproep aan de deelnemers" in page  # the state, in words


def test_a_title_that_mentions_an_address_does_not_count(web: TestClient, service: Service,
                                                         sqlite_engine: Engine) -> None:
    called(service, 'Vraag van "bram@example.org" over vervoer')
    sign_in(web, sqlite_engine, BRAM)
    assert "Je doet nog niet mee aan een traject." in web.get("/mijn").text


def test_a_member_sees_only_their_own_pages_in_the_menu(web: TestClient,
                                                       sqlite_engine: Engine) -> None:
    sign_in(web, sqlite_engine, BRAM)
    page = web.get("/mijn").text
    assert 'href="/mijn" aria-current="page"' in page
    assert 'href="/agenda"' in page
    for staff_only in ('href="/trajecten"', 'href="/termijnen"', 'href="/starten"',
                       'href="/organisatie"'):
        assert staff_only not in page
    assert web.get("/termijnen").status_code == 403


def test_the_message_after_an_answer_is_only_shown_when_it_is_true(
        web: TestClient, service: Service, sqlite_engine: Engine) -> None:
    tid = called(service)
    other = int(service.start("md_asked_advice", "demo-md", "Geheim Voorbeeldveld", MD_SECRETARY,
                              {"policy_adviser": "beleid@voorbeeldveld.example.org",
                               "received_on": "2026-03-24", "document_type": "beleidsregel"})["id"])
    sign_in(web, sqlite_engine, BRAM)
    for outcome, number in (("signed_up", tid), ("reserve", tid), ("already", tid),
                            ("signed_up", other), ("<script>", tid), ("signed_up", "x")):
        page = web.get("/mijn", params={"antwoord": outcome, "traject": str(number)})
        assert page.status_code == 200
        assert "Dank je wel" not in page.text
        assert "Geheim" not in page.text
        assert 'role="status"' not in page.text
    assert "Dank je wel voor je antwoord" in web.get(
        "/mijn", params={"antwoord": "declined", "traject": str(tid)}).text


def test_who_takes_part_is_found_alike_on_sqlite_and_postgresql(any_engine: Engine,
                                                               settings: Settings,
                                                               clock: FrozenClock) -> None:
    service = Service(any_engine, settings, clock)
    joined = called(service, "Met bram_ en 100% vervoer")
    mentioned = called(service, 'Vraag van "bram@example.org"')
    service.fire(joined, "sign_up", BRAM)
    service.fire(mentioned, "sign_up", member("cor"))
    with Session(any_engine) as session:
        org = session.exec(select(Organisation).where(Organisation.slug == "demo")).one()
        assert org.id is not None
        assert [row.id for row in naming(session, org.id, BRAM)] == [joined]
        assert [row.id for row in naming(session, org.id, member("cor"))] == [mentioned]
        assert naming(session, org.id, "bram_example.org") == []  # LIKE wildcards are escaped
        assert naming(session, org.id, "%") == []
