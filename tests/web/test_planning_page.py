"""The planning page: staff see the expected requests; the liaison and the secretariat add, change
and cancel them with CSRF-checked forms; a refusal stands beside its field and writes nothing;
another organisation's requests do not exist here."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from app import planning
from app.service import Service
from storage.tables import OutboxMessage, PlanningItem, Trajectory
from tests.helpers import ADVISER, LIAISON, SECRETARIAT, member, outbox, plain
from tests.web.conftest import TestClient, sign_in

CHAIR = "anna@example.org"
MD_LIAISON = "verbinding@voorbeeldveld.example.org"
MD_ADVISER = "beleid@voorbeeldveld.example.org"
GOOD = {"title": "Beleidsplan Sociaal Domein 2027", "expected": "2026-06-01",
        "policy_adviser": ADVISER, "flow": "asked_advice"}


def rows(engine: Engine) -> list[dict[str, Any]]:
    with Session(engine) as session:
        return [i.model_dump() for i in session.exec(select(PlanningItem).order_by(PlanningItem.id))]  # type: ignore[arg-type]


def chair_mails(engine: Engine) -> list[OutboxMessage]:
    return [m for m in outbox(engine) if m.template == "planning_changed"]


def refusal(page: str, field: str) -> str:
    found = re.search(rf'<p class="utrecht-form-field-error-message" id="{field}-fout">([^<]*)</p>', page)
    assert found is not None, f"geen foutmelding bij {field}"
    assert 'role="alert"' in page
    return html.unescape(found.group(1))


def test_the_liaison_adds_changes_and_cancels_a_request(web: TestClient, sqlite_engine: Engine) -> None:
    csrf = sign_in(web, sqlite_engine, LIAISON)
    page = web.get("/planning")
    assert page.status_code == 200
    assert "Er staat geen verwachte adviesaanvraag in de planning." in page.text
    assert 'href="/planning"' in page.text  # in the menu
    assert web.get("/planning/nieuw").status_code == 200

    added = web.post("/planning/nieuw", data={"csrf": csrf, **GOOD})
    assert added.status_code == 303
    assert added.headers["location"] == "/planning?gedaan=toegevoegd"
    [item] = rows(sqlite_engine)
    assert (item["title"], str(item["expected_on"]), item["flow"], item["status"]) == (
        GOOD["title"], "2026-06-01", "asked_advice", "planned")
    shown = web.get(added.headers["location"]).text
    assert "Het verzoek staat in de planning." in shown
    assert "maandag 1 juni 2026" in shown
    assert "Gevraagd advies" in shown
    assert [m.recipient for m in chair_mails(sqlite_engine)] == [CHAIR]

    form = web.get(f"/planning/{item['id']}").text
    assert 'value="2026-06-01"' in form
    changed = web.post(f"/planning/{item['id']}", data={"csrf": csrf, **GOOD, "expected": "2026-07-01",
                                                        "flow": ""})
    assert changed.status_code == 303
    [item] = rows(sqlite_engine)
    assert (str(item["expected_on"]), str(item["remind_on"]), item["flow"]) == (
        "2026-07-01", "2026-06-10", None)
    assert "Soort traject: Gevraagd advies wordt nog niet bekend" in plain(chair_mails(sqlite_engine)[-1])

    assert web.get(f"/planning/{item['id']}/schrappen").status_code == 200
    cancelled = web.post(f"/planning/{item['id']}/schrappen", data={"csrf": csrf, "note": "Komt niet."})
    assert cancelled.status_code == 303
    assert rows(sqlite_engine)[0]["status"] == "cancelled"
    assert "Reden: Komt niet." in plain(chair_mails(sqlite_engine)[-1])
    # a cancelled request cannot change any more
    assert web.get(f"/planning/{item['id']}").status_code == 403
    assert web.post(f"/planning/{item['id']}/schrappen", data={"csrf": csrf}).status_code == 403
    assert len(chair_mails(sqlite_engine)) == 3


def test_the_title_is_escaped(web: TestClient, sqlite_engine: Engine) -> None:
    csrf = sign_in(web, sqlite_engine, SECRETARIAT)
    assert web.post("/planning/nieuw", data={"csrf": csrf, **GOOD,
                                             "title": "<script>alert(1)</script>"}).status_code == 303
    page = web.get("/planning").text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@pytest.mark.parametrize(("field", "value", "words"), [
    ("title", "", "De titel mag niet leeg zijn."),
    ("title", "x" * 301, "De titel is te lang"),
    ("expected", "", "is geen datum"),
    ("expected", "2026-13-01", "is geen datum"),
    ("expected", "2026-03-01", "is al voorbij"),
    ("policy_adviser", "", "is geen geldig e-mailadres"),
    ("policy_adviser", CHAIR, "is geen beleidsadviseur van deze organisatie"),
    ("flow", "md_signal", "De stroom 'md_signal' kan niet"),
])
def test_bad_input_is_refused_beside_its_field(web: TestClient, sqlite_engine: Engine, field: str,
                                               value: str, words: str) -> None:
    csrf = sign_in(web, sqlite_engine, LIAISON)
    before = len(outbox(sqlite_engine))
    refused = web.post("/planning/nieuw", data={"csrf": csrf, **GOOD, field: value})
    assert refused.status_code == 400
    assert words in refusal(refused.text, field)
    assert rows(sqlite_engine) == []
    assert len(outbox(sqlite_engine)) == before


def test_a_change_that_changes_nothing_is_said_so(web: TestClient, sqlite_engine: Engine,
                                                  service: Service) -> None:
    item = planning.add(service, "demo", GOOD["title"], GOOD["expected"], ADVISER, "asked_advice", LIAISON)
    csrf = sign_in(web, sqlite_engine, LIAISON)
    before = (rows(sqlite_engine), len(outbox(sqlite_engine)))
    same = web.post(f"/planning/{item['id']}", data={"csrf": csrf, **GOOD})
    assert same.status_code == 400
    assert "Er verandert niets" in same.text
    assert (rows(sqlite_engine), len(outbox(sqlite_engine))) == before


def test_a_form_without_its_csrf_token_changes_nothing(web: TestClient, sqlite_engine: Engine,
                                                       service: Service) -> None:
    item = planning.add(service, "demo", GOOD["title"], GOOD["expected"], ADVISER, None, LIAISON)
    sign_in(web, sqlite_engine, LIAISON)
    before = (rows(sqlite_engine), len(outbox(sqlite_engine)))
    assert web.post("/planning/nieuw", data=GOOD).status_code == 403
    assert web.post("/planning/nieuw", data={**GOOD, "csrf": "vals"}).status_code == 403
    assert web.post(f"/planning/{item['id']}", data={**GOOD, "title": "Anders"}).status_code == 403
    assert web.post(f"/planning/{item['id']}/schrappen", data={}).status_code == 403
    assert (rows(sqlite_engine), len(outbox(sqlite_engine))) == before


def test_a_chair_sees_the_planning_but_cannot_change_it(web: TestClient, sqlite_engine: Engine,
                                                        service: Service) -> None:
    item = planning.add(service, "demo", GOOD["title"], GOOD["expected"], ADVISER, None, LIAISON)
    csrf = sign_in(web, sqlite_engine, CHAIR)
    page = web.get("/planning")
    assert page.status_code == 200
    assert GOOD["title"] in page.text
    assert "/planning/nieuw" not in page.text
    before = (rows(sqlite_engine), len(outbox(sqlite_engine)))
    for path in ("/planning/nieuw", f"/planning/{item['id']}", f"/planning/{item['id']}/schrappen"):
        assert web.get(path).status_code == 403, path
        assert web.post(path, data={"csrf": csrf, **GOOD, "title": "Anders"}).status_code == 403, path
    assert (rows(sqlite_engine), len(outbox(sqlite_engine))) == before


def test_a_member_gets_no_planning(web: TestClient, sqlite_engine: Engine) -> None:
    csrf = sign_in(web, sqlite_engine, member("bram"))
    assert web.get("/planning").status_code == 403
    assert web.post("/planning/nieuw", data={"csrf": csrf, **GOOD}).status_code == 403
    assert rows(sqlite_engine) == []


def test_signed_out_goes_to_sign_in(web: TestClient) -> None:
    assert web.get("/planning").status_code == 303
    assert web.post("/planning/nieuw", data=GOOD).status_code == 303


def test_another_organisations_request_does_not_exist(web: TestClient, sqlite_engine: Engine,
                                                      service: Service) -> None:
    elsewhere = planning.add(service, "demo-md", "Elders", "2026-06-01", MD_ADVISER, None, MD_LIAISON)
    csrf = sign_in(web, sqlite_engine, LIAISON)
    assert "Elders" not in web.get("/planning").text
    before = (rows(sqlite_engine), len(outbox(sqlite_engine)))
    for path in (f"/planning/{elsewhere['id']}", f"/planning/{elsewhere['id']}/schrappen"):
        assert web.get(path).status_code == 404
        assert web.post(path, data={"csrf": csrf, **GOOD}).status_code == 404
    for bad in ("0", "abc", "9" * 30, "-1"):
        assert web.get(f"/planning/{bad}").status_code == 404
    assert (rows(sqlite_engine), len(outbox(sqlite_engine))) == before


# --- starting a planned request from the start form -----------------------------------------

ASKED = {"title": "Beleidsplan Sociaal Domein 2027", "policy_adviser": ADVISER, "received_on": "2026-03-24"}


def trajectory_count(engine: Engine) -> int:
    with Session(engine) as session:
        return len(session.exec(select(Trajectory)).all())


def test_the_start_form_offers_the_planned_requests_and_links_the_chosen_one(
        web: TestClient, sqlite_engine: Engine, service: Service) -> None:
    item = planning.add(service, "demo", GOOD["title"], GOOD["expected"], ADVISER, "asked_advice", LIAISON)
    other_flow = planning.add(service, "demo", "Signaal", "2026-06-02", ADVISER, "unasked_advice", LIAISON)
    csrf = sign_in(web, sqlite_engine, SECRETARIAT)
    form = web.get("/starten/asked_advice").text
    assert "Uit de planning (niet verplicht)" in form
    assert f'<option value="{item["id"]}">maandag 1 juni 2026: {GOOD["title"]}</option>' in form
    assert f'<option value="{other_flow["id"]}">' not in form  # planned for another flow
    started = web.post("/starten/asked_advice", data={**ASKED, "planned": str(item["id"]), "csrf": csrf})
    assert started.status_code == 303
    [linked] = [r for r in rows(sqlite_engine) if r["id"] == item["id"]]
    assert (linked["status"], f"/trajecten/{linked['trajectory_id']}") == (
        "started", started.headers["location"])
    assert f'<option value="{item["id"]}">' not in web.get("/starten/asked_advice").text


@pytest.mark.parametrize("planned", ["abc", "0", "-3", "9" * 30])
def test_a_bad_planned_choice_starts_nothing(web: TestClient, sqlite_engine: Engine, planned: str) -> None:
    csrf = sign_in(web, sqlite_engine, SECRETARIAT)
    before = len(outbox(sqlite_engine))
    refused = web.post("/starten/asked_advice", data={**ASKED, "planned": planned, "csrf": csrf})
    assert refused.status_code == 400
    assert "Kies een verzoek uit de planning" in refused.text
    assert trajectory_count(sqlite_engine) == 0
    assert len(outbox(sqlite_engine)) == before


def test_another_organisations_request_cannot_be_started_here(web: TestClient, sqlite_engine: Engine,
                                                              service: Service) -> None:
    elsewhere = planning.add(service, "demo-md", "Elders", "2026-06-01", MD_ADVISER, None, MD_LIAISON)
    csrf = sign_in(web, sqlite_engine, SECRETARIAT)
    before = (rows(sqlite_engine), len(outbox(sqlite_engine)))
    refused = web.post("/starten/asked_advice", data={**ASKED, "planned": str(elsewhere["id"]), "csrf": csrf})
    assert refused.status_code == 400
    assert f"Verzoek {elsewhere['id']} staat niet in de planning van deze organisatie." in refused.text
    assert trajectory_count(sqlite_engine) == 0
    assert (rows(sqlite_engine), len(outbox(sqlite_engine))) == before


def test_started_and_cancelled_requests_are_listed_apart(web: TestClient, sqlite_engine: Engine,
                                                         service: Service) -> None:
    started = planning.add(service, "demo", GOOD["title"], GOOD["expected"], ADVISER, "asked_advice",
                           LIAISON)
    dropped = planning.add(service, "demo", "Nota armoede", "2026-07-01", ADVISER, None, LIAISON)
    waiting = planning.add(service, "demo", "Visie jeugd", "2026-08-03", ADVISER, None, LIAISON)
    tid = service.start("asked_advice", "demo", GOOD["title"], SECRETARIAT,
                        {"policy_adviser": ADVISER, "received_on": "2026-03-24"},
                        planned=int(started["id"]))["id"]
    planning.cancel(service, int(dropped["id"]), LIAISON)
    sign_in(web, sqlite_engine, LIAISON)

    page = web.get("/planning").text
    planned, past = page.split("Gestart en geschrapt")
    assert f"nummer {waiting['id']}" in planned
    assert f"nummer {started['id']}" not in planned
    assert f"nummer {dropped['id']}" not in planned
    assert f'gestart als <a class="utrecht-link" href="/trajecten/{tid}">traject {tid}</a>' in past
    assert "geschrapt</td>" in past
