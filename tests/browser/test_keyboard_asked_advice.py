"""An asked advice carried from start to close with the keyboard alone, in real Chromium: the
secretariat signs in, starts it, calls the members, who answer through the links in their mail,
and moves it on to the close. Every control is reached with Tab and used with Enter, Space or
typing; nothing is clicked. axe-core checks the pages on the way."""

from __future__ import annotations

import email
import email.policy
import re
from typing import Any

from app.service import Service
from tests.browser.conftest import LiveServer, assert_accessible
from tests.helpers import ADVISER, SECRETARIAT, member, outbox

TABS = 400


def tab_to(page: Any, target: Any) -> None:
    """Press Tab until `target` has the focus: proves it can be reached with the keyboard."""
    handle = target.element_handle()
    for _ in range(TABS):
        page.keyboard.press("Tab")
        if page.evaluate("(element) => element === document.activeElement", handle):
            return
    raise AssertionError(f"niet met Tab te bereiken: {target}")


def press(page: Any, target: Any, key: str = "Enter") -> None:
    """Reach `target` with Tab and press `key` on it, which opens the next page."""
    tab_to(page, target)
    with page.expect_navigation():
        page.keyboard.press(key)


def type_into(page: Any, target: Any, text: str) -> None:
    tab_to(page, target)
    page.keyboard.type(text)


def type_date(page: Any, target: Any, iso: str) -> None:
    """Type a date into a date input in the order its segments have in the browser's language."""
    year, month, day = iso.split("-")
    order = page.evaluate("""() => new Intl.DateTimeFormat(navigator.language)
        .formatToParts(new Date(2026, 2, 24)).map(p => p.type)
        .filter(t => ['day', 'month', 'year'].includes(t))""")
    type_into(page, target, "".join({"day": day, "month": month, "year": year}[part] for part in order))
    assert target.input_value() == iso


def mailed_path(service: Service, recipient: str, template: str) -> str:
    """The path of the newest link in the newest mail of this kind to this person."""
    row = [m for m in outbox(service.engine) if m.recipient == recipient and m.template == template][-1]
    body = email.message_from_bytes(row.raw, policy=email.policy.default).get_body(("plain",))
    assert body is not None
    found = re.search(r"https?://[^/\s]+(/\S+)", body.get_content())
    assert found is not None
    return found.group(1)


def step(page: Any, event: str) -> Any:
    """The submit button of one event's form on the trajectory page."""
    return page.locator(f'form[action$="/stap/{event}"] button[type="submit"]')


def sign_in_with_keyboard(page: Any, live: LiveServer, address: str) -> None:
    page.goto("/inloggen")
    type_into(page, page.get_by_label("E-mailadres"), address)
    with page.expect_navigation():
        page.keyboard.press("Enter")  # Enter in the field sends the form
    assert "Kijk in je e-mail" in page.content()
    page.goto(mailed_path(live.service, address, "common/sign_in"))
    press(page, page.get_by_role("button", name="Inloggen"))


def start_with_keyboard(page: Any) -> None:
    press(page, page.get_by_role("link", name="Traject starten"))
    press(page, page.get_by_role("link", name="Gevraagd advies", exact=True))
    assert_accessible(page)
    type_into(page, page.locator("#veld-title"), "Regiovisie beschermd wonen")
    type_into(page, page.locator("#veld-policy_adviser"), "Fatima")
    assert page.locator("#veld-policy_adviser").input_value() == ADVISER
    type_date(page, page.locator("#veld-received_on"), "2026-03-24")
    press(page, page.get_by_role("button", name="Start het traject"))


def answer_yes_with_keyboard(browser: Any, live: LiveServer, who: str) -> None:
    context = browser.new_context(base_url=live.url)
    try:
        page = context.new_page()
        page.goto(mailed_path(live.service, who, "asked_advice/call"))
        press(page, page.get_by_role("button", name="Ja, ik doe mee"))
        assert "Dank je wel" in page.content()
    finally:
        context.close()


def fill_and_fire(page: Any, event: str, fields: dict[str, str]) -> None:
    for name, text in fields.items():
        field = page.locator(f"#{event}-{name}")
        if field.get_attribute("type") == "date":
            type_date(page, field, text)
        else:
            type_into(page, field, text)
    press(page, step(page, event))
    alert = page.locator('[role="alert"]')
    assert alert.count() == 0, alert.first.inner_text()


def test_an_asked_advice_from_start_to_close_with_the_keyboard_alone(page: Any, browser: Any,
                                                                     live: LiveServer) -> None:
    sign_in_with_keyboard(page, live, SECRETARIAT)
    start_with_keyboard(page)
    assert "Aanvraag ontvangen" in page.content()
    assert_accessible(page)

    fill_and_fire(page, "call_participants", {})
    for name in ("anna", "bram", "cor", "dewi", "farid"):
        answer_yes_with_keyboard(browser, live, member(name))
    page.reload()
    fill_and_fire(page, "close_signup", {})
    fill_and_fire(page, "first_meeting_held", {})
    fill_and_fire(page, "choose_contact", {"contact_person": "Anna"})
    fill_and_fire(page, "consultation_done", {})
    fill_and_fire(page, "send_advice", {"document": "Ons advies: doe het samen met de inwoners."})
    assert_accessible(page)
    fill_and_fire(page, "record_response", {"received_on": "2026-03-24",
                                            "document": "Het college neemt het advies over."})
    fill_and_fire(page, "close", {})

    assert "Afgesloten" in page.locator("dl").inner_text()
    history = page.get_by_role("table", name="Wat er gebeurde, oudste eerst").inner_text()
    for done in ("Sanne Bakker", "Anna de Vries", "Farid Yilmaz"):
        assert done in history
    assert_accessible(page)
