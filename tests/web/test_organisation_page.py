"""The organisation page: staff see the people, roles, groups and terms; the secretariat changes
them with the checks of the organisation file, and a refusal writes nothing."""

from __future__ import annotations

import html
import re
import threading
from datetime import UTC
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from app import org_edit, org_file
from app.service import Service
from engine.clock import FrozenClock
from settings import Settings
from storage.tables import HistoryEntry, Organisation, OutboxMessage, Person
from tests.helpers import LIAISON, SECRETARIAT, member, outbox, plain, start
from tests.web.conftest import TestClient, sign_in

MD_SECRETARY = "secretaris@voorbeeldveld.example.org"
MD = "voorbeeldveld.example.org"


def md(name: str) -> str:
    return f"{name}@{MD}"


def person(engine: Engine, email: str, slug: str = "demo") -> Person:
    with Session(engine) as session:
        return session.exec(select(Person).join(Organisation).where(
            Person.email == email, Organisation.slug == slug)).one()


def org(engine: Engine, slug: str = "demo") -> Organisation:
    with Session(engine) as session:
        return session.exec(select(Organisation).where(Organisation.slug == slug)).one()


def snapshot(engine: Engine) -> Any:
    """Everything a change of the organisation could touch."""
    with Session(engine) as session:
        orgs = [o.model_dump() for o in session.exec(select(Organisation).order_by(col(Organisation.id)))]
        people = [(p.organisation_id, p.email, p.name, p.roles)
                  for p in session.exec(select(Person).order_by(col(Person.id)))]
        mails = len(session.exec(select(OutboxMessage)).all())
        history = len(session.exec(select(HistoryEntry)).all())
    return orgs, people, mails, history


def refusal(page: str, field: str) -> str:
    """The refusal beside a field (and the field pointing to it), in the summary too."""
    found = re.search(rf'<p class="utrecht-form-field-error-message" id="{field}-fout">([^<]*)</p>', page)
    assert found is not None, f"geen foutmelding bij {field}"
    assert re.search(rf'aria-describedby="[^"]*{field}-fout"', page)
    assert 'role="alert"' in page
    return html.unescape(found.group(1))


def status(page: str) -> str:
    found = re.search(r'role="status"><p class="utrecht-paragraph">([^<]*)</p>', page)
    assert found is not None, "geen bevestiging"
    return html.unescape(found.group(1))


def remove(web: TestClient, csrf: str, person_id: int | None) -> str:
    removed = web.post(f"/organisatie/personen/{person_id}/verwijderen", data={"csrf": csrf})
    return done(web, removed, "persoon-verwijderd")


def done(web: TestClient, response: Any, key: str) -> str:
    """A change went through: 303 back to the organisation page, which confirms it."""
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/organisatie?gedaan={key}"
    return status(web.get(response.headers["location"]).text)


# --- seeing it -------------------------------------------------------------------------------


def test_the_secretariat_sees_people_roles_groups_and_terms(web: TestClient, sqlite_engine: Engine) -> None:
    sign_in(web, sqlite_engine, MD_SECRETARY)
    page = html.unescape(web.get("/organisatie").text)
    assert "<h1 class=\"utrecht-heading-1\">Adviesraad Sociaal Domein Voorbeeldveld</h1>" in page
    assert re.search(r"Kees Meijer</td>\s*<td[^>]*>kees@[^<]*</td>\s*<td[^>]*>voorzitter, lid</td>", page)
    assert re.search(r"Marieke Wolters</td>\s*<td[^>]*>[^<]*</td>\s*<td[^>]*>ambtelijk secretaris</td>", page)
    assert "Platform Inclusie" in page
    assert "verbindingsmedewerker" in page
    assert re.search(r"Participeren</td>\s*<td[^>]*>Aaltje Smit, Harm Boer</td>\s*<td[^>]*>Harm Boer</td>",
                     page)
    assert "4w, signaal" in page
    assert "minstens 1, hoogstens 4 leden" in page
    assert "Sanne Bakker" not in page  # demo's people are not demo-md's
    assert 'href="/organisatie/personen/nieuw"' in page


def test_the_liaison_and_a_chair_see_it_but_cannot_change_it(web: TestClient, sqlite_engine: Engine) -> None:
    for who in (LIAISON, member("anna")):
        csrf = sign_in(web, sqlite_engine, who)
        page = web.get("/organisatie")
        assert page.status_code == 200
        assert "Bram Jansen" in page.text
        assert "deelnemer" in page.text
        assert "stuurgroep" in page.text
        assert "/organisatie/personen/nieuw" not in page.text
        assert "Wijzig" not in page.text
        before = snapshot(sqlite_engine)
        bram = person(sqlite_engine, member("bram")).id
        for path, data in [("/organisatie/personen/nieuw", {"name": "X", "email": "x@example.org",
                                                            "roles": "member"}),
                           (f"/organisatie/personen/{bram}", {"name": "X", "roles": "member"}),
                           (f"/organisatie/personen/{bram}/verwijderen", {}),
                           ("/organisatie/termijnen", {"advice_term": "8w"}),
                           ("/organisatie/groepen/nieuw", {"name": "X", "members": member("bram")})]:
            assert web.get(path).status_code == 403
            assert web.post(path, data={**data, "csrf": csrf}).status_code == 403
        assert snapshot(sqlite_engine) == before


def test_a_member_gets_no_organisation_page(web: TestClient, sqlite_engine: Engine) -> None:
    csrf = sign_in(web, sqlite_engine, member("bram"))
    before = snapshot(sqlite_engine)
    assert web.get("/organisatie").status_code == 403
    cor = person(sqlite_engine, member("cor")).id
    for path in ("/organisatie/personen/nieuw", "/organisatie/termijnen", "/organisatie/groepen/nieuw",
                 "/organisatie/groepen/verwijderen", f"/organisatie/personen/{cor}"):
        refused = web.post(path, data={"csrf": csrf, "name": "X", "email": "x@example.org", "roles": "member",
                                       "advice_term": "8w", "naam": "X"})
        assert refused.status_code == 403, path
    assert snapshot(sqlite_engine) == before


def test_a_form_without_its_csrf_token_changes_nothing(web: TestClient, sqlite_engine: Engine) -> None:
    sign_in(web, sqlite_engine, SECRETARIAT)
    before = snapshot(sqlite_engine)
    data = {"name": "Ine", "email": "ine@example.org", "roles": "member"}
    assert web.post("/organisatie/personen/nieuw", data=data).status_code == 403
    assert web.post("/organisatie/personen/nieuw", data={**data, "csrf": "vals"}).status_code == 403
    bram = person(sqlite_engine, member("bram")).id
    assert web.post(f"/organisatie/personen/{bram}/verwijderen").status_code == 403
    assert web.post("/organisatie/termijnen", data={"advice_term": "8w"}).status_code == 403
    assert snapshot(sqlite_engine) == before


def test_another_organisation_is_never_seen_or_changed(web: TestClient, sqlite_engine: Engine) -> None:
    csrf = sign_in(web, sqlite_engine, MD_SECRETARY)
    before = snapshot(sqlite_engine)
    bram = person(sqlite_engine, member("bram")).id
    assert web.get(f"/organisatie/personen/{bram}").status_code == 404
    assert web.get(f"/organisatie/personen/{bram}/verwijderen").status_code == 404
    assert web.post(f"/organisatie/personen/{bram}", data={"csrf": csrf, "name": "X",
                                                           "roles": "member"}).status_code == 404
    assert web.post(f"/organisatie/personen/{bram}/verwijderen", data={"csrf": csrf}).status_code == 404
    for bad in ("0", "abc", "9" * 30, "-1"):
        assert web.get(f"/organisatie/personen/{bad}").status_code == 404
    assert web.post("/organisatie/personen/nieuw", data={
        "csrf": csrf, "name": "Bram", "email": member("bram"), "roles": "member"}).status_code == 303
    assert person(sqlite_engine, member("bram"), "demo").name == "Bram Jansen"  # demo's Bram untouched
    assert person(sqlite_engine, member("bram"), "demo-md").roles == ["member"]
    after = snapshot(sqlite_engine)
    assert after[0][0] == before[0][0]  # the demo organisation itself is as it was


# --- people ----------------------------------------------------------------------------------


def test_a_person_is_added_with_roles(web: TestClient, sqlite_engine: Engine) -> None:
    csrf = sign_in(web, sqlite_engine, SECRETARIAT)
    form = web.get("/organisatie/personen/nieuw").text
    assert 'value="inclusion_platform"> Platform Inclusie</label>' in form
    assert 'value="secretariat"> stuurgroep</label>' in form
    added = web.post("/organisatie/personen/nieuw", data={
        "csrf": csrf, "name": "  Ine Dekker ", "email": " Ine@Example.org", "roles": ["member", "chair"]})
    assert done(web, added, "persoon-toegevoegd") == "De persoon is toegevoegd."
    ine = person(sqlite_engine, "ine@example.org")
    assert (ine.name, ine.roles) == ("Ine Dekker", ["chair", "member"])
    assert "Ine Dekker" in web.get("/organisatie").text


@pytest.mark.parametrize(("field", "change", "said"), [
    ("email", {"email": "geen adres"}, "'geen adres' is geen geldig e-mailadres"),
    ("email", {"email": ""}, "is geen geldig e-mailadres"),
    ("email", {"email": "ine@exa mple.org"}, "geen geldig e-mailadres"),
    ("email", {"email": "Bram@Example.org"}, "bram@example.org staat al bij de personen van"),
    ("roles", {"roles": []}, "Kies minstens één rol."),
    ("roles", {"roles": ["member", "baas"]}, "De rol 'baas' bestaat niet."),
    ("name", {"name": ""}, "De naam mag niet leeg zijn."),
    ("name", {"name": "   "}, "De naam mag niet leeg zijn."),
    ("name", {"name": "x" * 301}, "De naam is te lang (meer dan 300 tekens)."),
    ("name", {"name": "Ine\x00Dekker"}, "De naam mag geen regelovergang of stuurteken bevatten."),
    ("name", {"name": "Ine\nDekker"}, "De naam mag geen regelovergang of stuurteken bevatten."),
    ("name", {"name": "Ine\u2028Dekker"}, "De naam mag geen regelovergang of stuurteken bevatten."),
])
def test_adding_a_person_refuses_bad_input(web: TestClient, sqlite_engine: Engine, field: str,
                                           change: dict[str, Any], said: str) -> None:
    csrf = sign_in(web, sqlite_engine, SECRETARIAT)
    before = snapshot(sqlite_engine)
    data = {"csrf": csrf, "name": "Ine Dekker", "email": "ine@example.org", "roles": ["member"], **change}
    page = web.post("/organisatie/personen/nieuw", data=data)
    assert page.status_code == 400
    assert said in refusal(page.text, field)
    assert snapshot(sqlite_engine) == before
    if field != "email":
        assert 'value="ine@example.org"' in page.text  # what was typed stays


def test_a_person_gets_a_new_name_and_roles(web: TestClient, sqlite_engine: Engine) -> None:
    csrf = sign_in(web, sqlite_engine, SECRETARIAT)
    cor = person(sqlite_engine, member("cor")).id
    form = web.get(f"/organisatie/personen/{cor}").text
    assert 'value="member" checked> deelnemer' in form
    changed = web.post(f"/organisatie/personen/{cor}", data={"csrf": csrf, "name": "Cor Mulder-Bakker",
                                                             "roles": ["member", "inclusion_platform"]})
    assert done(web, changed, "persoon-gewijzigd") == "De gegevens van de persoon zijn opgeslagen."
    found = person(sqlite_engine, member("cor"))
    assert (found.name, found.roles) == ("Cor Mulder-Bakker", ["member", "inclusion_platform"])


@pytest.mark.parametrize(("change", "field", "said"), [
    ({"roles": []}, "roles", "Kies minstens één rol."),
    ({"roles": ["koning"]}, "roles", "De rol 'koning' bestaat niet."),
    ({"name": ""}, "name", "De naam mag niet leeg zijn."),
    ({"name": "Cor\tMulder"}, "name", "stuurteken"),
])
def test_changing_a_person_refuses_bad_input(web: TestClient, sqlite_engine: Engine, change: dict[str, Any],
                                             field: str, said: str) -> None:
    csrf = sign_in(web, sqlite_engine, SECRETARIAT)
    before = snapshot(sqlite_engine)
    cor = person(sqlite_engine, member("cor")).id
    page = web.post(f"/organisatie/personen/{cor}", data={"csrf": csrf, "name": "Cor", "roles": ["member"],
                                                          **change})
    assert page.status_code == 400
    assert said in refusal(page.text, field)
    assert snapshot(sqlite_engine) == before


def test_the_secretariat_keeps_its_own_role(web: TestClient, sqlite_engine: Engine) -> None:
    csrf = sign_in(web, sqlite_engine, SECRETARIAT)
    before = snapshot(sqlite_engine)
    me = person(sqlite_engine, SECRETARIAT).id
    page = web.post(f"/organisatie/personen/{me}", data={"csrf": csrf, "name": "Sanne", "roles": ["member"]})
    assert page.status_code == 400
    assert "Je kunt je eigen rol stuurgroep niet weghalen" in refusal(page.text, "roles")
    removed = web.post(f"/organisatie/personen/{me}/verwijderen", data={"csrf": csrf})
    assert removed.status_code == 400
    assert "Je kunt jezelf niet verwijderen" in html.unescape(removed.text)
    assert snapshot(sqlite_engine) == before


def test_a_removed_person_leaves_groups_and_trajectories_and_the_secretariat_is_told(
        web: TestClient, sqlite_engine: Engine, service: Service) -> None:
    tid = int(start(service)["id"])
    service.fire(tid, "call_participants", SECRETARIAT)
    service.fire(tid, "sign_up", member("bram"))
    service.fire(tid, "sign_up", member("anna"))
    before_mail = len(outbox(sqlite_engine))
    csrf = sign_in(web, sqlite_engine, SECRETARIAT)
    bram = person(sqlite_engine, member("bram")).id

    confirm = web.get(f"/organisatie/personen/{bram}/verwijderen")
    assert confirm.status_code == 200
    assert "Ja, verwijder Bram Jansen" in confirm.text
    assert person(sqlite_engine, member("bram")).roles == ["member"]  # asking changes nothing

    removed = web.post(f"/organisatie/personen/{bram}/verwijderen", data={"csrf": csrf})
    assert "De persoon is verwijderd" in done(web, removed, "persoon-verwijderd")
    assert person(sqlite_engine, member("bram")).roles == []
    assert "Bram Jansen" not in web.get("/organisatie").text
    shown = service.show(tid)
    assert shown["data"]["signups"] == [member("anna")]
    assert any(h["event"] == "person_removed" for h in shown["history"])
    assert any(h["actor"] == SECRETARIAT and h["event"] == "call_participants" for h in shown["history"])
    new = [m for m in outbox(sqlite_engine)[before_mail:] if m.template != "common/sign_in"]
    assert [(m.template, m.recipient) for m in new] == [("common/people_removed", SECRETARIAT)]
    assert "Bram Jansen" in plain(new[0])
    assert web.get(f"/organisatie/personen/{bram}").status_code == 404  # gone from the page


def test_a_removed_group_member_leaves_the_group_and_its_chair_place(web: TestClient,
                                                                     sqlite_engine: Engine) -> None:
    csrf = sign_in(web, sqlite_engine, MD_SECRETARY)
    harm = person(sqlite_engine, md("harm"), "demo-md").id
    page = web.get(f"/organisatie/personen/{harm}/verwijderen").text
    assert "uit de themagroep Participeren" in page
    remove(web, csrf, harm)
    assert org(sqlite_engine, "demo-md").groups[0] == {"name": "Participeren", "members": [md("aaltje")],
                                                       "chair": None}


def test_the_only_member_of_a_group_cannot_be_removed_before_the_group(web: TestClient,
                                                                      sqlite_engine: Engine) -> None:
    csrf = sign_in(web, sqlite_engine, MD_SECRETARY)
    aaltje, harm = (person(sqlite_engine, md(n), "demo-md").id for n in ("aaltje", "harm"))
    remove(web, csrf, harm)
    before = snapshot(sqlite_engine)
    page = web.post(f"/organisatie/personen/{aaltje}/verwijderen", data={"csrf": csrf})
    assert page.status_code == 400
    assert "Aaltje Smit is het enige lid van de themagroep Participeren" in html.unescape(page.text)
    assert snapshot(sqlite_engine) == before


def test_someone_who_left_comes_back_with_their_history(web: TestClient, sqlite_engine: Engine) -> None:
    csrf = sign_in(web, sqlite_engine, SECRETARIAT)
    hamid = person(sqlite_engine, member("hamid")).id
    remove(web, csrf, hamid)
    back = web.post("/organisatie/personen/nieuw", data={"csrf": csrf, "name": "Hamid Rahimi",
                                                         "email": member("hamid"), "roles": "member"})
    done(web, back, "persoon-toegevoegd")
    assert person(sqlite_engine, member("hamid")).id == hamid


# --- groups ----------------------------------------------------------------------------------


def test_a_group_is_added_changed_and_removed(web: TestClient, sqlite_engine: Engine) -> None:
    csrf = sign_in(web, sqlite_engine, MD_SECRETARY)
    form = web.get("/organisatie/groepen/nieuw").text
    assert "Themagroep toevoegen" in form
    assert f'value="{md("kees")}"' in form
    assert f'value="{md("roos")}"' not in form  # only members are offered
    added = web.post("/organisatie/groepen/nieuw", data={
        "csrf": csrf, "name": "Wonen", "members": [md("kees"), md("wilma")], "chair": md("kees")})
    assert done(web, added, "groep-toegevoegd") == "De groep is toegevoegd."
    assert org(sqlite_engine, "demo-md").groups[-1] == {"name": "Wonen", "members": [md("kees"), md("wilma")],
                                                        "chair": md("kees")}

    assert 'value="Wonen"' in web.get("/organisatie/groepen/wijzigen?naam=Wonen").text
    changed = web.post("/organisatie/groepen/wijzigen", data={
        "csrf": csrf, "oude_naam": "Wonen", "name": "Wonen en leven", "members": [md("aaltje")], "chair": ""})
    done(web, changed, "groep-gewijzigd")
    assert org(sqlite_engine, "demo-md").groups[-1] == {"name": "Wonen en leven", "members": [md("aaltje")],
                                                        "chair": None}

    confirm = web.get("/organisatie/groepen/verwijderen?naam=Wonen%20en%20leven")
    assert "Ja, verwijder Wonen en leven" in confirm.text
    removed = web.post("/organisatie/groepen/verwijderen", data={"csrf": csrf, "naam": "Wonen en leven"})
    done(web, removed, "groep-verwijderd")
    assert [g["name"] for g in org(sqlite_engine, "demo-md").groups] == ["Participeren", "Zorg en welzijn"]
    assert web.get("/organisatie/groepen/wijzigen?naam=Wonen%20en%20leven").status_code == 404


def test_a_new_group_is_offered_when_a_signal_starts(web: TestClient, sqlite_engine: Engine) -> None:
    csrf = sign_in(web, sqlite_engine, MD_SECRETARY)
    web.post("/organisatie/groepen/nieuw", data={"csrf": csrf, "name": "Wonen", "members": md("kees")})
    assert '<option value="Wonen">Wonen</option>' in web.get("/starten/md_signal").text


@pytest.mark.parametrize(("change", "field", "said"), [
    ({"name": "participeren"}, "name", "Er is al een themagroep met de naam 'participeren'."),
    ({"name": ""}, "name", "De naam mag niet leeg zijn."),
    ({"name": "A\x1bB"}, "name", "stuurteken"),
    ({"name": "x" * 301}, "name", "te lang"),
    ({"members": []}, "members", "Kies minstens één lid voor de themagroep."),
    ({"members": [md("kees"), "vreemde@example.org"]}, "members",
     "vreemde@example.org staat niet bij de personen van Adviesraad Sociaal Domein Voorbeeldveld."),
    ({"members": [member("bram")]}, "members", "bram@example.org staat niet bij de personen"),
    ({"chair": md("wilma")}, "chair", "De voorzitter moet ook lid van de themagroep zijn"),
])
def test_a_group_with_bad_input_is_refused(web: TestClient, sqlite_engine: Engine, change: dict[str, Any],
                                           field: str, said: str) -> None:
    csrf = sign_in(web, sqlite_engine, MD_SECRETARY)
    before = snapshot(sqlite_engine)
    data = {"csrf": csrf, "name": "Wonen", "members": [md("kees")], "chair": md("kees"), **change}
    page = web.post("/organisatie/groepen/nieuw", data=data)
    assert page.status_code == 400
    assert said in refusal(page.text, field)
    assert snapshot(sqlite_engine) == before
    renamed = web.post("/organisatie/groepen/wijzigen", data={**data, "oude_naam": "Zorg en welzijn"})
    assert renamed.status_code == 400
    assert snapshot(sqlite_engine) == before


def test_a_group_keeps_its_own_name_in_another_case(web: TestClient, sqlite_engine: Engine) -> None:
    csrf = sign_in(web, sqlite_engine, MD_SECRETARY)
    changed = web.post("/organisatie/groepen/wijzigen", data={
        "csrf": csrf, "oude_naam": "Participeren", "name": "PARTICIPEREN",
        "members": [md("aaltje"), md("harm")], "chair": md("harm")})
    done(web, changed, "groep-gewijzigd")
    assert org(sqlite_engine, "demo-md").groups[0]["name"] == "PARTICIPEREN"


def test_an_unknown_group_is_not_there(web: TestClient, sqlite_engine: Engine) -> None:
    csrf = sign_in(web, sqlite_engine, MD_SECRETARY)
    before = snapshot(sqlite_engine)
    assert web.get("/organisatie/groepen/wijzigen?naam=Bestaat%20niet").status_code == 404
    assert web.get("/organisatie/groepen/verwijderen?naam=").status_code == 404
    assert web.post("/organisatie/groepen/verwijderen", data={"csrf": csrf, "naam": "X"}).status_code == 404
    assert web.post("/organisatie/groepen/wijzigen", data={"csrf": csrf, "oude_naam": "Niet", "name": "X",
                                                           "members": md("kees")}).status_code == 404
    assert snapshot(sqlite_engine) == before


# --- terms -----------------------------------------------------------------------------------

TERMS = {"advice_term": "6w", "response_term": "6w", "signup_window": "10d", "appointment_term": "",
         "report_term": "4w", "alderman_meeting_term": "6w", "group_min": "1", "group_max": "4",
         "mail_retention_months": "24"}


def test_the_terms_are_changed(web: TestClient, sqlite_engine: Engine) -> None:
    csrf = sign_in(web, sqlite_engine, MD_SECRETARY)
    form = web.get("/organisatie/termijnen").text
    assert 'id="report_term" name="report_term" type="text" value="4w"' in form
    changed = web.post("/organisatie/termijnen", data={
        **TERMS, "csrf": csrf, "advice_term": " 8W ", "signup_window": "10wd", "report_term": "",
        "appointment_term": "2m", "group_min": "2", "group_max": "6", "mail_retention_months": "12"})
    assert done(web, changed, "termijnen") == "De termijnen zijn opgeslagen."
    found = org(sqlite_engine, "demo-md")
    assert (found.advice_term, found.signup_window, found.group_min, found.group_max,
            found.mail_retention_months) == ("8W", "10wd", 2, 6, 12)
    assert found.terms == {"appointment_term": "2m", "alderman_meeting_term": "6w"}  # report_term: default
    assert "4w (standaard)" in web.get("/organisatie").text


def test_saving_the_terms_as_they_are_changes_nothing_else(web: TestClient, sqlite_engine: Engine) -> None:
    csrf = sign_in(web, sqlite_engine, MD_SECRETARY)
    before = snapshot(sqlite_engine)
    done(web, web.post("/organisatie/termijnen", data={**TERMS, "csrf": csrf}), "termijnen")
    assert snapshot(sqlite_engine) == before


@pytest.mark.parametrize(("change", "field", "said"), [
    ({"advice_term": "6 weken"}, "advice_term", "Adviestermijn: '6 weken' is geen termijn."),
    ({"advice_term": ""}, "advice_term", "Adviestermijn mag niet leeg zijn."),
    ({"response_term": "0w"}, "response_term", "is geen termijn"),
    ({"signup_window": "99999d"}, "signup_window", "is geen termijn"),
    ({"report_term": "2026-06-15"}, "report_term", "schrijf een duur, geen datum"),
    ({"alderman_meeting_term": "6w\x00"}, "alderman_meeting_term", "stuurteken"),
    ({"appointment_term": "x" * 400}, "appointment_term", "te lang"),
    ({"group_min": "5", "group_max": "4"}, "group_min", "Het minimum aantal leden (5) mag niet groter zijn "
                                                        "dan het maximum (4)."),
    ({"group_min": "0"}, "group_min", "Het minimum aantal leden moet een geheel getal van 1 tot 100 zijn."),
    ({"group_max": "veel"}, "group_max", "geheel getal van 1 tot 100"),
    ({"group_max": "٣"}, "group_max", "geheel getal van 1 tot 100"),
    ({"mail_retention_months": "121"}, "mail_retention_months", "geheel getal van 1 tot 120"),
    ({"mail_retention_months": ""}, "mail_retention_months", "geheel getal van 1 tot 120"),
])
def test_bad_terms_are_refused(web: TestClient, sqlite_engine: Engine, change: dict[str, str], field: str,
                               said: str) -> None:
    csrf = sign_in(web, sqlite_engine, MD_SECRETARY)
    before = snapshot(sqlite_engine)
    page = web.post("/organisatie/termijnen", data={**TERMS, "csrf": csrf, **change})
    assert page.status_code == 400
    assert said in refusal(page.text, field)
    assert snapshot(sqlite_engine) == before


# --- the same checks as the file -------------------------------------------------------------


def test_what_the_web_wrote_reads_back_as_an_organisation_file(web: TestClient, sqlite_engine: Engine,
                                                              service: Service) -> None:
    csrf = sign_in(web, sqlite_engine, MD_SECRETARY)
    web.post("/organisatie/personen/nieuw", data={"csrf": csrf, "name": "Ine", "email": "ine@example.org",
                                                  "roles": ["member"]})
    web.post("/organisatie/groepen/nieuw", data={"csrf": csrf, "name": "Wonen",
                                                 "members": ["ine@example.org"], "chair": "ine@example.org"})
    with Session(sqlite_engine) as session:
        raw = org_edit.export(session, org(sqlite_engine, "demo-md"))
    checked = org_file.check(raw)
    assert {"name": "Ine", "email": "ine@example.org", "roles": ["member"]} in checked["people"]
    assert checked["groups"][-1] == {"name": "Wonen", "members": ["ine@example.org"],
                                     "chair": "ine@example.org"}
    assert checked["terms"] == {"report_term": "4w", "alderman_meeting_term": "6w"}
    assert org_edit.view(service, "demo-md").group("Wonen").chair is not None


def test_the_file_checks_refuse_what_the_form_checks_let_through(service: Service) -> None:
    """A change the field checks do not know is still refused by the file's own checks."""
    with pytest.raises(org_edit.EditRefused) as refused:
        org_edit._edit(service, "demo", lambda _s, _o, raw: raw.update(recess=["13-01", "08-31"]))
    assert "recess" in refused.value.errors


def test_changes_at_the_same_time_are_all_kept(any_engine: Engine, settings: Settings,
                                              clock: FrozenClock) -> None:
    """Each change reads the organisation and writes it whole: two at once must not undo each
    other (the second waits for the first), on SQLite and on PostgreSQL."""
    service = Service(any_engine, settings, clock)
    added: list[str] = [f"nieuw{n}@example.org" for n in range(8)]
    failures: list[BaseException] = []

    def add(emails: list[str]) -> None:
        try:
            for email in emails:
                org_edit.add_person(service, "demo", "Nieuw", email, ["member"])
        except BaseException as error:  # reported below, in the test's thread
            failures.append(error)

    threads = [threading.Thread(target=add, args=(added[i::2],)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == []
    people = {p.email for p in org_edit.view(service, "demo").people}
    assert set(added) <= people
    assert member("bram") in people


def test_a_departure_on_both_databases(any_engine: Engine, settings: Settings, clock: FrozenClock) -> None:
    service = Service(any_engine, settings, clock)
    tid = int(start(service)["id"])
    service.fire(tid, "call_participants", SECRETARIAT)
    service.fire(tid, "sign_up", member("cor"))
    cor = org_edit.view(service, "demo")
    cor_id = next(p.id for p in cor.people if p.email == member("cor"))
    assert org_edit.remove_person(service, "demo", cor_id, SECRETARIAT) == "Cor Mulder"
    assert member("cor") not in service.show(tid)["data"].get("signups", [])
    removed = [h for h in service.show(tid)["history"] if h["event"] == "person_removed"]
    assert removed[0]["at"] == clock.now().astimezone(UTC).isoformat()  # the service's clock
    assert [m.recipient for m in outbox(any_engine) if m.template == "common/people_removed"] == [SECRETARIAT]


# --- the name, words, flows, recess and reminders --------------------------------------------

#: Every new form, with good input: (path, data, confirmation key).
FORMS: list[tuple[str, dict[str, Any], str]] = [
    ("/organisatie/naam", {"name": "Adviesgroep Nieuwstad"}, "naam"),
    ("/organisatie/woorden", {"council": "raad", "member": "lid", "members": "", "group": "werkgroep",
                              "secretariat": "kernteam"}, "woorden"),
    ("/organisatie/soorten", {"flows": ["asked_advice", "md_signal"]}, "soorten"),
    ("/organisatie/reces", {"recess": "wel", "recess_start_day": "15", "recess_start_month": "7",
                            "recess_end_day": "15", "recess_end_month": "8", "reminders": "-3d, 0"}, "reces"),
]


def test_the_liaison_a_chair_and_a_member_cannot_change_the_rest(web: TestClient,
                                                                 sqlite_engine: Engine) -> None:
    for who in (LIAISON, member("anna"), member("bram")):
        csrf = sign_in(web, sqlite_engine, who)
        before = snapshot(sqlite_engine)
        for path, data, _key in FORMS:
            assert web.get(path).status_code == 403, (who, path)
            assert web.post(path, data={**data, "csrf": csrf}).status_code == 403, (who, path)
        assert snapshot(sqlite_engine) == before


def test_the_rest_without_its_csrf_token_changes_nothing(web: TestClient, sqlite_engine: Engine) -> None:
    sign_in(web, sqlite_engine, SECRETARIAT)
    before = snapshot(sqlite_engine)
    for path, data, _key in FORMS:
        assert web.post(path, data=data).status_code == 403, path
        assert web.post(path, data={**data, "csrf": "vals"}).status_code == 403, path
    assert snapshot(sqlite_engine) == before


@pytest.mark.parametrize("secretary", [SECRETARIAT, MD_SECRETARY])
def test_each_form_saved_as_it_is_changes_nothing(web: TestClient, sqlite_engine: Engine,
                                                  secretary: str) -> None:
    csrf = sign_in(web, sqlite_engine, secretary)
    before = snapshot(sqlite_engine)
    for path in ("/organisatie/naam", "/organisatie/woorden", "/organisatie/soorten", "/organisatie/reces",
                 "/organisatie/termijnen"):
        data = form_values(web.get(path).text)
        response = web.post(path, data={**data, "csrf": csrf})
        assert response.status_code == 303, (path, response.text)
    assert snapshot(sqlite_engine) == before


def form_values(page: str) -> dict[str, Any]:
    """What a browser would post from the page's form as it is shown."""
    values: dict[str, Any] = {}
    for tag in re.findall(r"<input [^>]*>", page):
        name, value = re.search(r'name="([^"]*)"', tag), re.search(r'value="([^"]*)"', tag)
        if name is None or name.group(1) == "csrf":
            continue
        if 'type="checkbox"' in tag or 'type="radio"' in tag:
            if " checked" not in tag:
                continue
        found = html.unescape(value.group(1)) if value else ""
        values.setdefault(name.group(1), []).append(found)
    for name, options in re.findall(r'<select [^>]*name="([^"]*)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', options)
        values[name] = [html.unescape(chosen.group(1)) if chosen else ""]
    return values


# --- the name --------------------------------------------------------------------------------


def test_the_name_is_changed(web: TestClient, sqlite_engine: Engine) -> None:
    csrf = sign_in(web, sqlite_engine, MD_SECRETARY)
    assert 'href="/organisatie/naam"' in web.get("/organisatie").text
    form = web.get("/organisatie/naam").text
    assert 'value="Adviesraad Sociaal Domein Voorbeeldveld"' in form
    changed = web.post("/organisatie/naam", data={"csrf": csrf,
                                                  "name": "  Adviesraad Sociaal Domein Midden-Drenthe "})
    assert done(web, changed, "naam") == "De naam is opgeslagen."
    assert org(sqlite_engine, "demo-md").name == "Adviesraad Sociaal Domein Midden-Drenthe"
    page = web.get("/organisatie").text
    assert '<h1 class="utrecht-heading-1">Adviesraad Sociaal Domein Midden-Drenthe</h1>' in page
    assert "Adviesraad Sociaal Domein Midden-Drenthe</span>" in page  # the header, from the session


@pytest.mark.parametrize(("name", "said"), [
    ("", "De naam mag niet leeg zijn."),
    ("   ", "De naam mag niet leeg zijn."),
    ("x" * 301, "De naam is te lang (meer dan 300 tekens)."),
    ("Raad\nNieuw", "De naam mag geen regelovergang of stuurteken bevatten."),
    ("Raad\x00", "De naam mag geen regelovergang of stuurteken bevatten."),
])
def test_a_bad_name_is_refused(web: TestClient, sqlite_engine: Engine, name: str, said: str) -> None:
    csrf = sign_in(web, sqlite_engine, MD_SECRETARY)
    before = snapshot(sqlite_engine)
    page = web.post("/organisatie/naam", data={"csrf": csrf, "name": name})
    assert page.status_code == 400
    assert said in refusal(page.text, "name")
    assert snapshot(sqlite_engine) == before


# --- words -----------------------------------------------------------------------------------


def test_the_words_are_explained_and_changed(web: TestClient, sqlite_engine: Engine) -> None:
    csrf = sign_in(web, sqlite_engine, SECRETARIAT)
    form = html.unescape(web.get("/organisatie/woorden").text)
    assert "We zoeken deelnemers voor een projectgroep." in form
    assert "Vragen? Neem contact op met de stuurgroep." in form
    assert 'id="member" name="member" type="text" value="deelnemer"' in form
    changed = web.post("/organisatie/woorden", data={
        "csrf": csrf, "council": " adviesraad ", "member": "lid", "members": "", "group": "werkgroep",
        "secretariat": "kernteam"})
    assert done(web, changed, "woorden").startswith("De woorden zijn opgeslagen.")
    assert org(sqlite_engine).words == {"council": "adviesraad", "member": "lid", "members": "leden",
                                        "group": "werkgroep", "secretariat": "kernteam"}
    page = html.unescape(web.get("/organisatie").text)
    assert "We zoeken leden voor een werkgroep." in page
    assert "Neem contact op met het kernteam." in page  # the footer, in the new words
    assert "Werkgroep toevoegen" in page


def test_a_word_left_empty_takes_its_default(web: TestClient, sqlite_engine: Engine) -> None:
    csrf = sign_in(web, sqlite_engine, SECRETARIAT)
    changed = web.post("/organisatie/woorden", data={"csrf": csrf, "council": "", "member": "", "members": "",
                                                     "group": "", "secretariat": ""})
    done(web, changed, "woorden")
    assert org(sqlite_engine).words == {}
    assert "Neem contact op met het secretariaat." in web.get("/organisatie").text


@pytest.mark.parametrize(("field", "value", "said"), [
    ("council", "raad\nvan", "De raad mag geen regelovergang of stuurteken bevatten."),
    ("member", "lid\x1b", "mag geen regelovergang of stuurteken bevatten."),
    ("members", "x" * 301, "te lang (meer dan 300 tekens)."),
    ("group", "groep\u2028werk", "stuurteken"),
    ("secretariat", "x" * 400, "te lang"),
])
def test_a_bad_word_is_refused(web: TestClient, sqlite_engine: Engine, field: str, value: str,
                               said: str) -> None:
    csrf = sign_in(web, sqlite_engine, SECRETARIAT)
    before = snapshot(sqlite_engine)
    data = {"csrf": csrf, "council": "raad", "member": "lid", "members": "leden", "group": "groep",
            "secretariat": "bureau", field: value}
    page = web.post("/organisatie/woorden", data=data)
    assert page.status_code == 400
    assert said in refusal(page.text, field)
    assert snapshot(sqlite_engine) == before


# --- flows -----------------------------------------------------------------------------------


def test_the_flows_are_chosen_by_their_dutch_titles(web: TestClient, sqlite_engine: Engine,
                                                    service: Service) -> None:
    csrf = sign_in(web, sqlite_engine, SECRETARIAT)
    form = web.get("/organisatie/soorten").text
    assert 'value="asked_advice" checked> Gevraagd advies, met een oproep aan alle deelnemers' in form
    assert 'value="md_asked_advice"> Gevraagd advies, door een themagroep of werkgroep' in form
    assert 'value="md_signal"> Signaal</label>' in form
    for name, compiled in service.flows.items():
        assert f'value="{name}"' in form
        assert html.escape(compiled.flow.description, quote=False) in form
    changed = web.post("/organisatie/soorten", data={"csrf": csrf, "flows": ["unasked_advice", "md_signal"]})
    assert done(web, changed, "soorten") == "De soorten trajecten zijn opgeslagen."
    assert org(sqlite_engine).flows == ["unasked_advice", "md_signal"]
    start_page = web.get("/starten").text
    assert "/starten/md_signal" in start_page
    assert "/starten/asked_advice" not in start_page


@pytest.mark.parametrize(("flows", "said"), [
    ([], "Kies minstens één soort traject."),
    (["   "], "Kies minstens één soort traject."),
    (["asked_advice", "hacken"], "De soort traject 'hacken' bestaat niet. Kies uit de lijst."),
    (["x" * 500], "bestaat niet"),
])
def test_bad_flows_are_refused(web: TestClient, sqlite_engine: Engine, flows: list[str], said: str) -> None:
    csrf = sign_in(web, sqlite_engine, SECRETARIAT)
    before = snapshot(sqlite_engine)
    page = web.post("/organisatie/soorten", data={"csrf": csrf, "flows": flows})
    assert page.status_code == 400
    assert said in refusal(page.text, "flows")
    assert snapshot(sqlite_engine) == before


# --- recess and reminders --------------------------------------------------------------------

RECESS = {"recess": "wel", "recess_start_day": "1", "recess_start_month": "7", "recess_end_day": "31",
          "recess_end_month": "8", "reminders": ""}


def test_the_recess_and_the_reminders_are_changed(web: TestClient, sqlite_engine: Engine) -> None:
    csrf = sign_in(web, sqlite_engine, SECRETARIAT)
    page = web.get("/organisatie").text
    assert "van 1 juli tot en met 31 augustus: die dagen tellen niet mee" in page
    assert ("5 werkdagen voor het einde; op de laatste dag; 1 werkdag na het einde, daarna elke week "
            "(standaard)") in page
    form = web.get("/organisatie/reces").text
    assert 'id="recess-wel" name="recess" value="wel" checked' in form
    assert '<option value="31" selected>31</option>' in form
    assert '<option value="8" selected>augustus</option>' in form
    changed = web.post("/organisatie/reces", data={
        **RECESS, "csrf": csrf, "recess_start_day": "20", "recess_start_month": "12", "recess_end_day": "05",
        "recess_end_month": "1", "reminders": " -10WD, -2d;0  +2wd "})
    assert done(web, changed, "reces").startswith("Het reces en de herinneringen zijn opgeslagen.")
    found = org(sqlite_engine)
    assert (found.recess_start, found.recess_end, found.reminders) == ("12-20", "01-05",
                                                                      ["-10wd", "-2d", "0", "+2wd"])
    page = web.get("/organisatie").text
    assert "van 20 december tot en met 5 januari" in page
    assert ("10 werkdagen voor het einde; 2 dagen voor het einde; op de laatste dag; 2 werkdagen na het "
            "einde") in page
    assert 'value="-10wd, -2d, 0, +2wd"' in web.get("/organisatie/reces").text


def test_no_recess_and_no_reminders(web: TestClient, sqlite_engine: Engine) -> None:
    csrf = sign_in(web, sqlite_engine, SECRETARIAT)
    changed = web.post("/organisatie/reces", data={**RECESS, "csrf": csrf, "recess": "geen",
                                                   "reminders": "Geen"})
    done(web, changed, "reces")
    found = org(sqlite_engine)
    assert (found.recess_start, found.recess_end, found.reminders) == (None, None, [])
    page = web.get("/organisatie").text
    assert re.search(r"Reces</dt>\s*<dd[^>]*>geen</dd>", page)
    assert re.search(r"Herinneringen</dt>\s*<dd[^>]*>geen</dd>", page)
    assert 'value="geen"' in web.get("/organisatie/reces").text
    back = web.post("/organisatie/reces", data={**RECESS, "csrf": csrf, "reminders": ""})
    done(web, back, "reces")
    assert org(sqlite_engine).reminders is None  # the default again


@pytest.mark.parametrize(("change", "field", "said"), [
    ({"recess": ""}, "recess", "Kies of er een reces is."),
    ({"recess": "misschien"}, "recess", "Kies of er een reces is."),
    ({"recess_start_day": ""}, "recess_start", "Kies de dag en de maand waarop het reces begint."),
    ({"recess_end_month": "13"}, "recess_end", "Kies de dag en de maand waarop het reces eindigt."),
    ({"recess_end_month": "٣"}, "recess_end", "Kies de dag en de maand"),
    ({"recess_start_day": "0"}, "recess_start", "Kies de dag en de maand"),
    ({"recess_start_day": "31", "recess_start_month": "2"}, "recess_start",
     "31 februari bestaat niet. Kies een andere dag."),
    ({"recess_end_day": "31", "recess_end_month": "4"}, "recess_end", "31 april bestaat niet."),
    ({"recess_start_day": "1", "recess_start_month": "1", "recess_end_day": "31", "recess_end_month": "12"},
     "recess_end", "beslaat het hele jaar; dan loopt een termijn nooit af."),
    ({"reminders": "-5x"}, "reminders", "Onbekende stap '-5x': schrijf bijvoorbeeld -5wd, 0, +1wd"),
    ({"reminders": "vijf dagen"}, "reminders", "Onbekende stap 'vijf'"),
    ({"reminders": "0, 0"}, "reminders", "De stap '0' staat er twee keer in."),
    ({"reminders": "+1wd, +2wd"}, "reminders", "Er mag één stap na het einde zijn"),
    ({"reminders": "-40wd"}, "reminders", "De stap '-40wd' moet 1 tot en met 30 dagen van het einde liggen."),
    ({"reminders": "-5wd\x00"}, "reminders", "De herinneringen mag geen regelovergang of stuurteken"),
    ({"reminders": "0," * 200}, "reminders", "te lang"),
])
def test_a_bad_recess_or_bad_reminders_are_refused(web: TestClient, sqlite_engine: Engine,
                                                   change: dict[str, str], field: str, said: str) -> None:
    csrf = sign_in(web, sqlite_engine, SECRETARIAT)
    before = snapshot(sqlite_engine)
    page = web.post("/organisatie/reces", data={**RECESS, "csrf": csrf, **change})
    assert page.status_code == 400
    assert said in refusal(page.text, field)
    assert snapshot(sqlite_engine) == before


def test_29_february_may_start_a_recess(web: TestClient, sqlite_engine: Engine) -> None:
    csrf = sign_in(web, sqlite_engine, SECRETARIAT)
    changed = web.post("/organisatie/reces", data={**RECESS, "csrf": csrf, "recess_start_day": "29",
                                                   "recess_start_month": "2"})
    done(web, changed, "reces")
    assert org(sqlite_engine).recess_start == "02-29"


# --- the organisation file -------------------------------------------------------------------


def test_staff_download_the_organisation_as_a_file(web: TestClient, sqlite_engine: Engine) -> None:
    csrf = sign_in(web, sqlite_engine, SECRETARIAT)
    web.post("/organisatie/naam", data={"csrf": csrf, "name": 'Adviesgroep "Nieuw"'})
    page = web.get("/organisatie").text
    assert 'href="/organisatie/bestand"' in page
    assert "Download als organisatiebestand" in page
    assert "advies org export demo" in page  # the warning about loading the file tells to export first
    for who in (SECRETARIAT, LIAISON, member("anna")):
        sign_in(web, sqlite_engine, who)
        got = web.get("/organisatie/bestand")
        assert got.status_code == 200
        assert got.headers["content-type"] == "application/toml; charset=utf-8"
        assert got.headers["content-disposition"] == 'attachment; filename="organisatie-demo.toml"'
        [read] = org_file.parse(got.content.decode("utf-8"))
        with Session(sqlite_engine) as session:
            assert read == org_file.check(org_edit.export(session, org(sqlite_engine)))
        assert read["name"] == 'Adviesgroep "Nieuw"'
        assert MD not in got.text  # only the own organisation
    sign_in(web, sqlite_engine, member("bram"))
    assert web.get("/organisatie/bestand").status_code == 403
    assert "Download als organisatiebestand" not in web.get("/organisatie").text
