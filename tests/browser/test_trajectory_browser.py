"""The trajectory page of an asked advice in real Chromium, in a few states, checked by axe-core
(WCAG 2.1 AA): the diagram, the forms, an error beside its field, the confirmation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.browser.conftest import LiveServer, assert_accessible, sign_in_as
from tests.helpers import SECRETARIAT, member, start, to_awaiting_response, to_matching


def test_a_call_with_its_diagram_forms_and_links_is_accessible(page: Any, live: LiveServer) -> None:
    tid = int(start(live.service)["id"])
    live.service.fire(tid, "call_participants", SECRETARIAT)
    sign_in_as(page, live, SECRETARIAT)
    page.goto(f"/trajecten/{tid}")
    diagram = page.get_by_role("img", name="Stroomschema Gevraagd advies. De huidige stap is: "
                                            "Oproep aan de deelnemers.")
    assert diagram.is_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Stuur de persoonlijke link opnieuw aan Cor Mulder").click()
    page.wait_for_load_state()
    assert "persoonlijke link opnieuw gestuurd" in page.get_by_role("status").inner_text()
    assert_accessible(page)


def test_an_error_beside_a_field_and_then_the_step_done_by_keyboard(page: Any,
                                                                     live: LiveServer) -> None:
    tid = to_matching(live.service, live.service.clock)  # type: ignore[arg-type]
    sign_in_as(page, live, SECRETARIAT)
    page.goto(f"/trajecten/{tid}")
    page.get_by_label("Plaats (niet verplicht)").fill("Stadhuis, kamer 2")
    page.get_by_role("button", name="Eerste bijeenkomst plannen").click()
    page.wait_for_load_state()
    error = page.locator("#plan_meeting-meeting_on-fout")
    assert "Datum eerste bijeenkomst ontbreekt: vul een datum in." in error.inner_text()
    assert page.get_by_label("Plaats (niet verplicht)").input_value() == "Stadhuis, kamer 2"
    assert page.get_by_role("alert").is_visible()
    assert_accessible(page)
    page.get_by_label("Datum eerste bijeenkomst").fill("2026-04-02")  # a date input, ISO inside
    page.get_by_role("button", name="Eerste bijeenkomst plannen").focus()
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert "eerste bijeenkomst plannen" in page.get_by_role("status").inner_text()
    assert live.service.show(tid)["data"]["meeting_on"] == "2026-04-02"
    assert_accessible(page)


def test_awaiting_the_response_overdue_as_the_contact_person_is_accessible(
        page: Any, live: LiveServer) -> None:
    clock: Any = live.service.clock
    tid = to_awaiting_response(live.service, clock)
    clock.advance(timedelta(weeks=8))
    sign_in_as(page, live, member("bram"))
    page.goto(f"/trajecten/{tid}")
    assert page.get_by_text("Verlopen").first.is_visible()
    assert page.get_by_role("heading", name="Wat kun je nu doen?").is_visible()
    assert_accessible(page)


def test_a_midden_drenthe_request_with_a_group_choice_and_checkboxes_is_accessible(
        page: Any, live: LiveServer) -> None:
    secretary = "secretaris@voorbeeldveld.example.org"
    tid = live.service.start("md_asked_advice", "demo-md", "Beleidskader Wmo", secretary,
                             {"policy_adviser": "beleid@voorbeeldveld.example.org",
                              "document_type": "beleidskader"})["id"]
    sign_in_as(page, live, secretary, org="demo-md")
    page.goto(f"/trajecten/{tid}")
    page.get_by_label("Themagroep of werkgroep").select_option("werkgroep")
    page.get_by_role("button", name="Toewijzen").click()
    page.wait_for_load_state()
    assert "werkgroep heeft leden nodig" in page.get_by_role("alert").inner_text()
    assert_accessible(page)
    page.get_by_role("group", name="Leden van de werkgroep (niet verplicht)") \
        .get_by_label("Aaltje Smit (aaltje@voorbeeldveld.example.org)").check()
    page.get_by_role("button", name="Toewijzen").click()
    page.wait_for_load_state()
    assert "toewijzen" in page.get_by_role("status").inner_text()
    assert_accessible(page)
