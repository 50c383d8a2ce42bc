"""Starting a trajectory and changing the organisation in real Chromium, each page checked by
axe-core (WCAG 2.1 AA), refusals included."""

from __future__ import annotations

import re
from typing import Any

from sqlmodel import Session, select

from storage.tables import Person, Trajectory
from tests.browser.conftest import LiveServer, assert_accessible, sign_in_as
from tests.helpers import SECRETARIAT

MD_SECRETARY = "secretaris@voorbeeldveld.example.org"


def test_the_start_pages_are_accessible_also_with_a_refusal(page: Any, live: LiveServer) -> None:
    sign_in_as(page, live, SECRETARIAT)
    page.goto("/starten")
    assert page.title().startswith("Traject starten")
    assert_accessible(page)

    page.get_by_role("link", name="Gevraagd advies", exact=True).click()
    page.get_by_label("Beleidsadviseur").select_option("beleid@example.org")
    page.get_by_label("Datum van ontvangst (niet verplicht)").fill("2026-03-20")
    page.get_by_role("button", name="Start het traject").click()
    assert page.title().startswith("Niet gestart")
    assert "Titel ontbreekt" in page.locator("#veld-title-fout").inner_text()
    assert page.get_by_role("alert").is_visible()
    assert page.get_by_label("Beleidsadviseur").input_value() == "beleid@example.org"
    assert_accessible(page)

    page.get_by_label("Titel").fill("Regiovisie beschermd wonen")
    page.get_by_role("button", name="Start het traject").click()
    assert re.search(r"/trajecten/\d+$", page.url)
    with Session(live.service.engine) as session:
        [row] = session.exec(select(Trajectory)).all()
    assert (row.title, row.data["received_on"]) == ("Regiovisie beschermd wonen", "2026-03-20")


def test_a_signal_form_is_accessible(page: Any, live: LiveServer) -> None:
    sign_in_as(page, live, MD_SECRETARY, org="demo-md")
    page.goto("/starten/md_signal")
    page.get_by_label("Gaat het om één persoon (ja/nee)").select_option("ja")
    page.get_by_role("button", name="Start het traject").click()
    assert "individuele casussen" in page.locator("#veld-individual_case-fout").inner_text()
    assert_accessible(page)


def test_the_organisation_page_and_its_forms_are_accessible(page: Any, live: LiveServer) -> None:
    sign_in_as(page, live, MD_SECRETARY, org="demo-md")
    page.goto("/organisatie")
    assert_accessible(page)

    page.get_by_role("link", name="Persoon toevoegen").click()
    page.get_by_label("Naam").fill("Ine Dekker")
    page.get_by_label("E-mailadres").fill("geen adres")
    page.get_by_role("button", name="Persoon toevoegen").click()
    assert "geen geldig e-mailadres" in page.locator("#email-fout").inner_text()
    assert "Kies minstens één rol." in page.locator("#roles-fout").inner_text()
    assert_accessible(page)
    page.get_by_label("E-mailadres").fill("ine@example.org")
    page.get_by_label("lid", exact=True).check()
    page.get_by_role("button", name="Persoon toevoegen").click()
    assert page.get_by_role("status").inner_text() == "De persoon is toegevoegd."
    assert_accessible(page)

    page.get_by_role("link", name="Wijzig Ine Dekker").click()
    assert page.get_by_label("lid", exact=True).is_checked()
    assert_accessible(page)
    page.get_by_role("link", name="Ine Dekker verwijderen").click()
    assert_accessible(page)
    page.get_by_role("button", name="Ja, verwijder Ine Dekker").click()
    assert "De persoon is verwijderd" in page.get_by_role("status").inner_text()
    with Session(live.service.engine) as session:
        ine = session.exec(select(Person).where(Person.email == "ine@example.org")).one()
    assert ine.roles == []


def test_the_group_and_terms_forms_are_accessible(page: Any, live: LiveServer) -> None:
    sign_in_as(page, live, MD_SECRETARY, org="demo-md")
    page.goto("/organisatie/groepen/nieuw")
    page.get_by_label("Naam").fill("participeren")
    page.get_by_label("Voorzitter (niet verplicht)").select_option("kees@voorbeeldveld.example.org")
    page.get_by_role("button", name="Themagroep toevoegen").click()
    assert "Er is al een themagroep" in page.locator("#name-fout").inner_text()
    assert "Kies minstens één lid" in page.locator("#members-fout").inner_text()
    assert_accessible(page)

    page.goto("/organisatie/groepen/wijzigen?naam=Participeren")
    assert_accessible(page)
    page.get_by_role("link", name="Participeren verwijderen").click()
    assert_accessible(page)

    page.goto("/organisatie/termijnen")
    assert_accessible(page)
    page.get_by_label("Adviestermijn").fill("6 weken")
    page.get_by_label("Minimum aantal leden").fill("9")
    page.get_by_role("button", name="Termijnen opslaan").click()
    assert "is geen termijn" in page.locator("#advice_term-fout").inner_text()
    assert "mag niet groter zijn" in page.locator("#group_min-fout").inner_text()
    assert_accessible(page)
    page.get_by_label("Adviestermijn").fill("8w")
    page.get_by_label("Minimum aantal leden").fill("2")
    page.get_by_role("button", name="Termijnen opslaan").click()
    assert page.get_by_role("status").inner_text() == "De termijnen zijn opgeslagen."
