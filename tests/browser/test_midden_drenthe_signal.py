"""A Midden-Drenthe signal carried from start to close in real Chromium by the official
secretary, as a new user would: through the start form and the trajectory page's forms, from
the theme group's signal to the alderman, an unasked advice, the college's response and the
griffie. axe-core checks the pages on the way."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import LiveServer, assert_accessible, sign_in_as

SECRETARY = "secretaris@voorbeeldveld.example.org"
OFFICER = "beleid@voorbeeldveld.example.org"


def fill(page: Any, selector: str, value: str) -> None:
    """Type into a field, or choose in a list (`*` takes the first real choice)."""
    field = page.locator(selector)
    if field.evaluate("(element) => element.tagName") == "SELECT":
        if value == "*":
            field.select_option(index=1)
        else:
            field.select_option(value)
    else:
        field.fill(value)


def fire(page: Any, event: str, fields: dict[str, str] | None = None) -> None:
    for name, value in (fields or {}).items():
        fill(page, f"#{event}-{name}", value)
    page.locator(f'form[action$="/stap/{event}"] button[type="submit"]').click()
    page.wait_for_load_state()
    alert = page.locator('[role="alert"]')
    assert alert.count() == 0, alert.first.inner_text()
    assert page.locator('[role="status"]').count() == 1


def state(page: Any) -> str:
    return str(page.locator("dl").inner_text())


def test_a_signal_from_the_theme_group_to_the_griffie(page: Any, live: LiveServer) -> None:
    sign_in_as(page, live, SECRETARY, org="demo-md")
    page.get_by_role("link", name="Traject starten").click()
    page.get_by_role("link", name="Signaal", exact=True).click()
    fill(page, "#veld-title", "Wachtlijst huishoudelijke hulp")
    fill(page, "#veld-theme_group", "Zorg en welzijn")
    fill(page, "#veld-domain", "*")
    fill(page, "#veld-summary", "Inwoners wachten maanden op huishoudelijke hulp.")
    fill(page, "#veld-individual_case", "nee")
    page.get_by_role("button", name="Start het traject").click()
    assert "Signaal ingebracht" in state(page)
    assert_accessible(page)

    fire(page, "share_with_officer", {"officer": OFFICER, "meeting_on": "2026-03-30"})
    fire(page, "officer_meeting_held")
    fire(page, "record_report", {"document": "De gemeente zoekt extra aanbieders."})
    fire(page, "escalate_to_alderman")
    assert "Gesprek met de wethouder aangevraagd" in state(page)
    fire(page, "alderman_meeting_held", {"document": "De wethouder zegt niets toe."})
    fire(page, "escalate_to_unasked_advice")
    fire(page, "announce_advice", {"subject": "Huishoudelijke hulp",
                                   "explanation": "We adviseren ongevraagd over de wachtlijst."})
    fire(page, "adopt_advice", {"adopted_on": "2026-03-24"})
    fire(page, "send_advice", {"document": "Ons advies: maak de wachtlijst korter."})
    assert "Wachten op de reactie van het college" in state(page)
    assert_accessible(page)
    fire(page, "record_response", {"received_on": "2026-03-24",
                                   "document": "Het college neemt het advies over."})
    fire(page, "forwarded")

    assert "Afgesloten" in state(page)
    history = page.get_by_role("table", name="Wat er gebeurde, oudste eerst").inner_text()
    assert history.count("Marieke Wolters") >= 12  # every step, by the signed-in secretary
    assert_accessible(page)
