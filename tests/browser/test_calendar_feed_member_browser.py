"""The deadlines calendar, the calendar subscription and the members' page in real Chromium,
checked by axe-core (WCAG 2.1 AA); a member signs up with the keyboard alone."""

from __future__ import annotations

import re
from typing import Any

from tests.browser.conftest import LiveServer, assert_accessible, sign_in_as
from tests.helpers import SECRETARIAT, member

TITLE = "Regiovisie beschermd wonen"


def called(live: LiveServer) -> int:
    tid = int(live.service.start("asked_advice", "demo", TITLE, SECRETARIAT,
                                 {"policy_adviser": "beleid@example.org",
                                  "received_on": "2026-03-24"})["id"])
    live.service.fire(tid, "call_participants", SECRETARIAT)
    return tid


def test_the_deadlines_calendar_is_accessible(page: Any, live: LiveServer) -> None:
    tid = called(live)
    live.service.fire(tid, "suspend", SECRETARIAT, {"reason": "Wachten op stukken"})
    sign_in_as(page, live, SECRETARIAT)
    page.goto("/termijnen")
    assert page.get_by_role("heading", level=1).inner_text() == "Termijnen in maart 2026"
    page.get_by_role("link", name="Volgende maand: april 2026").click()
    assert page.url.endswith("/termijnen?maand=2026-04")
    assert page.get_by_role("heading", name=re.compile("^Week 15")).is_visible()
    assert page.get_by_role("link", name=TITLE).get_attribute("href") == f"/trajecten/{tid}"
    assert page.get_by_role("cell", name="opgeschort").is_visible()
    assert_accessible(page)


def test_the_calendar_subscription_page_without_and_with_an_address(page: Any,
                                                                   live: LiveServer) -> None:
    called(live)
    sign_in_as(page, live, member("bram"))
    page.goto("/agenda")
    assert "Je hebt nog geen agenda-adres." in page.content()
    assert_accessible(page)

    page.get_by_role("button", name="Maak een agenda-adres").click()
    address = page.get_by_label("Agenda-adres (kopieer dit)").input_value()
    assert re.fullmatch(re.escape(live.url) + r"/agenda/[A-Za-z0-9_-]{43}\.ics", address)
    assert_accessible(page)

    page.goto("/agenda")
    assert page.get_by_role("button", name="Stop het agenda-adres").is_visible()
    assert address not in page.content()
    assert_accessible(page)


def test_the_members_page_with_an_open_call_and_signing_up_by_keyboard(page: Any,
                                                                      live: LiveServer) -> None:
    tid = called(live)
    sign_in_as(page, live, member("bram"))
    assert page.url.endswith("/mijn")
    assert page.get_by_role("heading", name=TITLE).is_visible()
    assert_accessible(page)

    yes = page.get_by_role("button", name="Ja, ik doe mee")
    for _ in range(60):  # Tab through the page until the button has the focus
        page.keyboard.press("Tab")
        if yes.evaluate("button => button === document.activeElement"):
            break
    else:
        raise AssertionError("de knop 'Ja, ik doe mee' is met Tab niet te bereiken")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/mijn\?antwoord=signed_up"))
    assert page.get_by_role("heading", name="Dank je wel! Je doet mee").is_visible()
    assert page.get_by_text("Je doet mee.", exact=True).is_visible()
    assert live.service.show(tid)["data"]["signups"] == [member("bram")]
    assert_accessible(page)
