"""Starting a trajectory in the browser-less client, as the secretariat does it: the flows of the
organisation, the form of each start, refusals beside their field, and who may not start."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from app.service import Service
from flows.midden_drenthe import INDIVIDUAL_CASE
from storage.tables import Trajectory
from tests.helpers import ADVISER, LIAISON, SECRETARIAT, member, outbox
from tests.web.conftest import TestClient, sign_in

MD_SECRETARY = "secretaris@voorbeeldveld.example.org"
ASKED = {"title": "Regiovisie beschermd wonen", "policy_adviser": ADVISER, "received_on": "2026-03-20",
         "advice_due": "", "note": ""}


def trajectories(engine: Engine) -> list[Trajectory]:
    with Session(engine) as session:
        return list(session.exec(select(Trajectory)).all())


def text_of(page: str) -> str:
    """The page's text as a person reads it (entities decoded)."""
    return html.unescape(page)


def error_beside(page: str, field: str) -> str:
    """The refusal shown beside a field, checking that the field points to it."""
    found = re.search(rf'<p class="utrecht-form-field-error-message" id="veld-{field}-fout">([^<]*)</p>',
                      page)
    assert found is not None, f"geen foutmelding bij {field}"
    assert re.search(rf'aria-describedby="[^"]*veld-{field}-fout"', page)
    assert 'role="alert"' in page
    return html.unescape(found.group(1))


# --- the list and the forms ------------------------------------------------------------------


def test_the_secretariat_sees_the_flows_its_organisation_uses(web: TestClient, sqlite_engine: Engine) -> None:
    sign_in(web, sqlite_engine, SECRETARIAT)
    page = web.get("/starten")
    assert page.status_code == 200
    assert 'href="/starten/asked_advice">Gevraagd advies</a>' in page.text
    assert 'href="/starten/unasked_advice">Ongevraagd advies</a>' in page.text
    assert "/starten/md_signal" not in page.text
    assert "Je vult in: titel, beleidsadviseur" in page.text
    assert "De adviesraad geeft uit zichzelf advies aan het college." in page.text


def test_the_form_has_a_widget_for_each_start_field(web: TestClient, sqlite_engine: Engine) -> None:
    sign_in(web, sqlite_engine, SECRETARIAT)
    page = web.get("/starten/asked_advice").text
    assert '<label class="utrecht-form-label" for="veld-title">Titel</label>' in page
    assert 'id="veld-received_on" name="received_on" type="date"' in page
    assert "Datum van ontvangst (niet verplicht)" in page
    begin = page.index('id="veld-policy_adviser"')
    adviser = page[begin:page.index("</select>", begin)]
    assert adviser.index("Fatima El Amrani (beleid@example.org)") < adviser.index("Bram Jansen")
    assert '<optgroup label="Met de rol beleidsadviseur">' in adviser
    assert 'name="note"' in page


def test_a_midden_drenthe_signal_has_its_groups_and_choices(web: TestClient, sqlite_engine: Engine) -> None:
    sign_in(web, sqlite_engine, MD_SECRETARY)
    page = web.get("/starten")
    assert "/starten/md_signal" in page.text
    assert "/starten/asked_advice" not in page.text
    form = web.get("/starten/md_signal").text
    assert '<option value="Participeren">Participeren</option>' in form
    assert '<option value="Zorg en welzijn">Zorg en welzijn</option>' in form
    assert '<option value="Wmo">Wmo</option>' in form
    assert '<textarea class="utrecht-textarea utrecht-textarea--html-textarea" id="veld-summary"' in form


# --- starting --------------------------------------------------------------------------------


def test_an_asked_advice_starts_with_the_signed_in_person_in_the_history(
        web: TestClient, sqlite_engine: Engine, service: Service) -> None:
    csrf = sign_in(web, sqlite_engine, SECRETARIAT)
    started = web.post("/starten/asked_advice", data={**ASKED, "note": "Via de mail van Fatima.",
                                                      "csrf": csrf})
    assert started.status_code == 303
    [row] = trajectories(sqlite_engine)
    assert started.headers["location"] == f"/trajecten/{row.id}"
    shown = service.show(int(row.id or 0))
    assert shown["title"] == "Regiovisie beschermd wonen"
    assert shown["state"] == "requested"
    assert shown["data"]["policy_adviser"] == ADVISER
    assert shown["data"]["received_on"] == "2026-03-20"
    [first] = shown["history"]
    assert (first["actor"], first["note"]) == (SECRETARIAT, "Via de mail van Fatima.")
    assert any(m.recipient == ADVISER for m in outbox(sqlite_engine, row.id))


def test_a_midden_drenthe_signal_starts_for_its_theme_group(web: TestClient, sqlite_engine: Engine,
                                                          service: Service) -> None:
    csrf = sign_in(web, sqlite_engine, MD_SECRETARY)
    started = web.post("/starten/md_signal", data={
        "csrf": csrf, "title": "Wachtlijst huishoudelijke hulp", "theme_group": "Participeren",
        "domain": "Wmo", "summary": "Inwoners wachten\r\nmaanden op een indicatie.",
        "individual_case": "nee"})
    assert started.status_code == 303, started.text
    [row] = trajectories(sqlite_engine)
    assert started.headers["location"] == f"/trajecten/{row.id}"
    shown = service.show(int(row.id or 0))
    assert shown["flow"] == "md_signal"
    assert shown["data"]["group"] == ["aaltje@voorbeeldveld.example.org", "harm@voorbeeldveld.example.org"]
    assert shown["data"]["summary"] == "Inwoners wachten\nmaanden op een indicatie."
    assert shown["history"][0]["actor"] == MD_SECRETARY


# --- refusals: beside the field, typed values kept, nothing written ---------------------------


@pytest.mark.parametrize(("field", "value", "said"), [
    ("title", "", "Titel ontbreekt"),
    ("title", "   ", "Titel ontbreekt"),
    ("title", "Regel\neen", "regelovergang of stuurteken"),
    ("title", "Bel\x07", "regelovergang of stuurteken"),
    ("title", "x" * 301, "te lang"),
    ("policy_adviser", "", "Beleidsadviseur ontbreekt: kies er een."),
    ("policy_adviser", "geen adres", "geen geldig e-mailadres"),
    ("policy_adviser", "vreemde@example.org", "staat niet in het bestand van de organisatie"),
    ("policy_adviser", "secretaris@voorbeeldveld.example.org", "staat niet in het bestand"),
    ("received_on", "2026-13-01", "is geen datum"),
    ("received_on", "1999-12-31", "kan niet kloppen"),
    ("advice_due", "2040-01-01", "meer dan 5 jaar na vandaag"),
])
def test_bad_input_is_refused_beside_its_field(web: TestClient, sqlite_engine: Engine, field: str,
                                               value: str, said: str) -> None:
    csrf = sign_in(web, sqlite_engine, SECRETARIAT)
    page = web.post("/starten/asked_advice", data={**ASKED, field: value, "csrf": csrf})
    assert page.status_code == 400
    assert said in error_beside(page.text, field)
    assert "(policy_adviser)" not in page.text
    assert "--set" not in page.text
    assert trajectories(sqlite_engine) == []
    if field != "title":
        assert 'value="Regiovisie beschermd wonen"' in page.text  # what was typed stays


def test_several_refusals_are_shown_at_once_and_the_choices_stay(web: TestClient,
                                                                  sqlite_engine: Engine) -> None:
    csrf = sign_in(web, sqlite_engine, SECRETARIAT)
    page = web.post("/starten/asked_advice", data={**ASKED, "title": "", "received_on": "morgen",
                                                   "csrf": csrf})
    assert page.status_code == 400
    assert "Titel ontbreekt" in error_beside(page.text, "title")
    assert "geen datum" in error_beside(page.text, "received_on")
    assert '<option value="beleid@example.org" selected>' in page.text
    assert "<title>Niet gestart: Gevraagd advies starten" in page.text


def test_a_note_that_is_too_long_is_refused(web: TestClient, sqlite_engine: Engine) -> None:
    csrf = sign_in(web, sqlite_engine, SECRETARIAT)
    page = web.post("/starten/asked_advice", data={**ASKED, "note": "x" * 2001, "csrf": csrf})
    assert page.status_code == 400
    assert "tussen 1 en 2000 tekens" in error_beside(page.text, "note")
    assert trajectories(sqlite_engine) == []


def test_a_signal_about_one_person_is_refused(web: TestClient, sqlite_engine: Engine) -> None:
    csrf = sign_in(web, sqlite_engine, MD_SECRETARY)
    signal = {"csrf": csrf, "title": "Mevrouw X", "theme_group": "Participeren", "domain": "Wmo",
              "summary": "Eén inwoner.", "individual_case": "ja"}
    page = web.post("/starten/md_signal", data=signal)
    assert page.status_code == 400
    assert error_beside(page.text, "individual_case") == INDIVIDUAL_CASE
    for field, value, said in (("theme_group", "Onbekend", "bestaat niet"), ("domain", "Sport", "kan niet"),
                               ("summary", "", "Samenvatting ontbreekt"),
                               ("summary", "a\x00b", "stuurteken")):
        page = web.post("/starten/md_signal", data={**signal, "individual_case": "nee", field: value})
        assert page.status_code == 400
        assert said in error_beside(page.text, field)
    assert trajectories(sqlite_engine) == []


# --- who may not -----------------------------------------------------------------------------


@pytest.mark.parametrize("flow", ["md_signal", "geen_stroom", "asked%20advice"])
def test_a_flow_the_organisation_does_not_use_is_not_there(web: TestClient, sqlite_engine: Engine,
                                                           flow: str) -> None:
    csrf = sign_in(web, sqlite_engine, SECRETARIAT)
    assert web.get(f"/starten/{flow}").status_code == 404
    posted = web.post(f"/starten/{flow}", data={"csrf": csrf, "title": "X", "theme_group": "Participeren",
                                                "domain": "Wmo", "summary": "X", "individual_case": "nee"})
    assert posted.status_code == 404
    assert trajectories(sqlite_engine) == []


@pytest.mark.parametrize("who", [member("bram"), LIAISON, member("anna")])
def test_only_the_secretariat_starts(web: TestClient, sqlite_engine: Engine, who: str) -> None:
    csrf = sign_in(web, sqlite_engine, who)
    assert web.get("/starten").status_code == 403
    assert web.get("/starten/asked_advice").status_code == 403
    refused = web.post("/starten/asked_advice", data={**ASKED, "csrf": csrf})
    assert refused.status_code == 403
    assert "niet voor jouw rol" in refused.text
    assert trajectories(sqlite_engine) == []


def test_a_form_without_its_csrf_token_starts_nothing(web: TestClient, sqlite_engine: Engine) -> None:
    sign_in(web, sqlite_engine, SECRETARIAT)
    assert web.post("/starten/asked_advice", data=ASKED).status_code == 403
    assert web.post("/starten/asked_advice", data={**ASKED, "csrf": "vals"}).status_code == 403
    assert web.post("/starten/asked_advice", data={**ASKED, "csrf": sign_in_token(web)},
                    headers={"sec-fetch-site": "cross-site"}).status_code == 403
    assert trajectories(sqlite_engine) == []


def sign_in_token(web: TestClient) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', web.get("/starten").text)
    assert found is not None
    return found.group(1)


def test_signed_out_the_start_page_asks_to_sign_in(web: TestClient) -> None:
    page = web.get("/starten/asked_advice")
    assert page.status_code == 303
    assert page.headers["location"].startswith("/inloggen?terug=")
    assert web.post("/starten/asked_advice", data=ASKED).status_code == 303
