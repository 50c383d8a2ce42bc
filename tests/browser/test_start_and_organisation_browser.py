"""Starting a trajectory and changing the organisation in real Chromium, each page checked by
axe-core (WCAG 2.1 AA), refusals included."""

from __future__ import annotations

import re
from typing import Any

from sqlmodel import Session, select

from storage.tables import Organisation, Person, Trajectory
from tests.browser.conftest import LiveServer, assert_accessible, sign_in_as
from tests.browser.test_every_page import check_page
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


def test_the_name_and_words_forms_are_accessible(page: Any, live: LiveServer) -> None:
    sign_in_as(page, live, MD_SECRETARY, org="demo-md")
    page.goto("/organisatie")
    page.get_by_role("link", name="Naam wijzigen").click()
    assert_accessible(page)
    page.get_by_label("Naam van de organisatie").fill("   ")
    page.get_by_role("button", name="Naam opslaan").click()
    assert page.title().startswith("Niet opgeslagen")
    assert page.locator("#name-fout").inner_text() == "De naam mag niet leeg zijn."
    assert page.get_by_role("alert").is_visible()
    assert_accessible(page)
    page.get_by_label("Naam van de organisatie").fill("Adviesraad Sociaal Domein Midden-Drenthe")
    page.get_by_role("button", name="Naam opslaan").click()
    assert page.get_by_role("status").inner_text() == "De naam is opgeslagen."
    assert page.get_by_role("heading", level=1).inner_text() == "Adviesraad Sociaal Domein Midden-Drenthe"

    page.get_by_role("link", name="Woorden wijzigen").click()
    assert "We zoeken leden voor een themagroep." in page.locator("#members-uitleg").inner_text()
    assert_accessible(page)
    page.get_by_label("Een groep die aan een traject werkt").fill("werk\tgroep")
    page.get_by_role("button", name="Woorden opslaan").click()
    assert "stuurteken" in page.locator("#group-fout").inner_text()
    assert_accessible(page)
    page.get_by_label("Een groep die aan een traject werkt").fill("werkgroep")
    page.get_by_role("button", name="Woorden opslaan").click()
    assert page.get_by_role("status").inner_text().startswith("De woorden zijn opgeslagen.")
    assert page.get_by_role("link", name="Werkgroep toevoegen").is_visible()
    assert_accessible(page)


def test_the_flows_and_recess_forms_and_the_download_are_accessible(page: Any, live: LiveServer) -> None:
    sign_in_as(page, live, MD_SECRETARY, org="demo-md")
    page.goto("/organisatie")
    page.get_by_role("link", name="Soorten trajecten wijzigen").click()
    assert_accessible(page)
    for title in ("Signaal", "Gevraagd advies"):
        for box in page.get_by_role("checkbox", name=re.compile(title)).all():
            box.uncheck()
    page.get_by_role("button", name="Soorten opslaan").click()
    assert page.locator("#flows-fout").inner_text() == "Kies minstens één soort traject."
    assert_accessible(page)
    page.get_by_role("checkbox", name="Gevraagd advies, door een themagroep of werkgroep").check()
    page.get_by_role("button", name="Soorten opslaan").click()
    assert page.get_by_role("status").inner_text() == "De soorten trajecten zijn opgeslagen."

    page.get_by_role("link", name="Reces en herinneringen wijzigen").click()
    assert_accessible(page)
    page.get_by_label("Ja: kies hieronder de eerste en de laatste dag").check()
    first = page.get_by_role("group", name="Eerste dag van het reces")
    first.get_by_label("Dag").select_option("31")
    first.get_by_label("Maand").select_option(label="februari")
    last = page.get_by_role("group", name="Laatste dag van het reces")
    last.get_by_label("Dag").select_option("31")
    last.get_by_label("Maand").select_option(label="augustus")
    page.get_by_label("Momenten van de herinneringen").fill("-5 dagen")
    page.get_by_role("button", name="Reces en herinneringen opslaan").click()
    assert page.locator("#recess_start-fout").inner_text() == "31 februari bestaat niet. Kies een andere dag."
    assert "Onbekende stap" in page.locator("#reminders-fout").inner_text()
    assert_accessible(page)
    first.get_by_label("Dag").select_option("1")
    first.get_by_label("Maand").select_option(label="juli")
    page.get_by_label("Momenten van de herinneringen").fill("-5wd, 0, +1wd")
    page.get_by_role("button", name="Reces en herinneringen opslaan").click()
    assert page.get_by_role("status").inner_text().startswith("Het reces en de herinneringen zijn")
    assert "van 1 juli tot en met 31 augustus" in page.locator("#inhoud").inner_text()

    with page.expect_download() as download:
        page.get_by_role("link", name="Download als organisatiebestand").click()
    assert download.value.suggested_filename == "organisatie-demo-md.toml"
    with Session(live.service.engine) as session:
        org = session.exec(select(Organisation).where(Organisation.slug == "demo-md")).one()
    assert (org.flows, org.recess_start, org.recess_end, org.reminders) == (
        ["md_asked_advice"], "07-01", "08-31", ["-5wd", "0", "+1wd"])


def test_the_new_organisation_forms_reflow_at_200_and_400_percent(page: Any, live: LiveServer) -> None:
    sign_in_as(page, live, MD_SECRETARY, org="demo-md")
    for path in ("/organisatie", "/organisatie/naam", "/organisatie/woorden", "/organisatie/soorten",
                 "/organisatie/reces"):
        check_page(page, path)
