"""The annual report (/jaarverslag, its CSV and JSON) and who took part (/deelname): for the
staff of the organisation only, and only their own organisation's trajectories and people."""

from __future__ import annotations

import csv
import io

import pytest
from markupsafe import escape
from sqlalchemy import Engine

from app.service import Service
from tests.helpers import ADVISER, SECRETARIAT, member
from tests.web.conftest import TestClient, sign_in

MD_SECRETARY = "secretaris@voorbeeldveld.example.org"
PAGES = ["/jaarverslag", "/jaarverslag.csv", "/jaarverslag.json", "/deelname"]


def trajectories(service: Service) -> tuple[int, int]:
    """One of the demo organisation with a call answered, one of demo-md (24 March 2026)."""
    own = int(service.start("asked_advice", "demo", "Regiovisie beschermd wonen", SECRETARIAT,
                            {"policy_adviser": ADVISER, "received_on": "2026-03-24"})["id"])
    service.fire(own, "call_participants", SECRETARIAT)
    service.fire(own, "sign_up", member("bram"))
    other = int(service.start("md_asked_advice", "demo-md", "Geheime verordening Voorbeeldveld",
                              MD_SECRETARY, {"policy_adviser": "beleid@voorbeeldveld.example.org",
                                             "received_on": "2026-03-24",
                                             "document_type": "beleidsregel"})["id"])
    return own, other


def test_staff_see_the_report_of_their_own_organisation(web: TestClient, service: Service,
                                                        sqlite_engine: Engine) -> None:
    own, other = trajectories(service)
    sign_in(web, sqlite_engine, SECRETARIAT)
    page = web.get("/jaarverslag", params={"jaar": "2026"})
    assert page.status_code == 200
    assert "Jaarverslag 2026: Adviesgroep Sociaal Domein Voorbeeldstad" in page.text
    assert f"Regiovisie beschermd wonen (traject {own})" in page.text
    assert "Aanvraag of begin" in page.text
    assert "24 maart 2026" in page.text
    assert "6 mei 2026" in page.text  # the advice term's end, still running
    assert 'href="/jaarverslag.csv?jaar=2026"' in page.text
    assert 'href="/jaarverslag" aria-current="page"' in page.text
    assert 'action="/jaarverslag" aria-label="Jaar kiezen"' in page.text
    assert 'name="jaar" inputmode="numeric" value="2026"' in page.text
    assert "Geheime verordening" not in page.text
    assert f"traject {other})" not in page.text
    assert "<script" not in page.text

    last_year = web.get("/jaarverslag?jaar=2025").text
    assert "In 2025 liep er geen traject." in last_year


def test_the_downloads_hold_the_same_trajectories(web: TestClient, service: Service,
                                                   sqlite_engine: Engine) -> None:
    own, _other = trajectories(service)
    sign_in(web, sqlite_engine, SECRETARIAT)
    as_csv = web.get("/jaarverslag.csv?jaar=2026")
    assert as_csv.status_code == 200
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert "jaarverslag-demo-2026.csv" in as_csv.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(as_csv.content.decode("utf-8-sig")), delimiter=";"))
    assert [row["nummer"] for row in rows] == [str(own)]
    assert rows[0]["adviestermijn"] == "loopt"
    as_json = web.get("/jaarverslag.json?jaar=2026").json()
    assert [t["id"] for t in as_json["trajectories"]] == [own]
    assert as_json["slug"] == "demo"


def test_who_took_part_lists_the_members_of_the_own_organisation(
        web: TestClient, service: Service, sqlite_engine: Engine) -> None:
    trajectories(service)
    sign_in(web, sqlite_engine, SECRETARIAT)
    page = web.get("/deelname?jaar=2026")
    assert page.status_code == 200
    assert "Wie deed mee: Adviesgroep Sociaal Domein Voorbeeldstad" in page.text
    assert 'action="/deelname" aria-label="Jaar kiezen"' in page.text
    assert 'name="jaar" inputmode="numeric" value="2026"' in page.text
    assert "aangemeld voor Regiovisie beschermd wonen op 24 maart 2026" in page.text
    assert "Hamid Rahimi (hamid@example.org)" in page.text  # in no group yet: took part in none
    assert "Aaltje" not in page.text  # a member of demo-md


@pytest.mark.parametrize("path", PAGES)
def test_a_member_is_refused(web: TestClient, service: Service, sqlite_engine: Engine,
                             path: str) -> None:
    trajectories(service)
    sign_in(web, sqlite_engine, member("bram"))
    refused = web.get(path)
    assert refused.status_code == 403
    assert "Deze pagina is niet voor jouw rol" in refused.text
    assert "Regiovisie" not in refused.text


@pytest.mark.parametrize("path", PAGES)
def test_without_signing_in_the_sign_in_page(web: TestClient, path: str) -> None:
    found = web.get(path)
    assert found.status_code == 303
    assert found.headers["location"].startswith("/inloggen?terug=")


def test_the_other_organisation_sees_only_its_own(web: TestClient, service: Service,
                                                  sqlite_engine: Engine) -> None:
    _own, other = trajectories(service)
    sign_in(web, sqlite_engine, MD_SECRETARY)
    page = web.get("/jaarverslag?jaar=2026").text
    assert f"Geheime verordening Voorbeeldveld (traject {other})" in page
    assert "Regiovisie" not in page
    assert [t["id"] for t in web.get("/jaarverslag.json?jaar=2026").json()["trajectories"]] == [other]
    people = web.get("/deelname?jaar=2026").text
    assert "Niet meegedaan" in people
    assert "Hamid" not in people


@pytest.mark.parametrize(("year", "words"), [("26", "'26' is geen jaartal"),
                                             ("abcd", "'abcd' is geen jaartal"),
                                             ("1999", "van 2000 tot en met 2027")])
@pytest.mark.parametrize("path", PAGES)
def test_a_bad_year_is_refused_in_dutch(web: TestClient, service: Service, sqlite_engine: Engine,
                                        path: str, year: str, words: str) -> None:
    sign_in(web, sqlite_engine, SECRETARIAT)
    refused = web.get(path, params={"jaar": year})
    assert refused.status_code == 400
    assert str(escape(words)) in refused.text


def test_who_took_part_in_a_period(web: TestClient, service: Service, sqlite_engine: Engine) -> None:
    trajectories(service)
    sign_in(web, sqlite_engine, SECRETARIAT)
    spring = web.get("/deelname", params={"van": "2026-03-01", "tot": "2026-04-30"})
    assert spring.status_code == 200
    assert "aangemeld voor Regiovisie beschermd wonen op 24 maart 2026" in spring.text
    assert 'value="2026-03-01"' in spring.text
    before = web.get("/deelname", params={"van": "2026-01-01", "tot": "2026-02-28"}).text
    assert "aangemeld voor Regiovisie beschermd wonen" not in before  # answered after the period


@pytest.mark.parametrize(("params", "words"), [
    ({"van": "2026-05-01", "tot": "2026-04-01"}, "ligt na de einddatum"),
    ({"van": "2026-05-01"}, "zowel 'van' als 'tot'"),
    ({"van": "1 mei", "tot": "2026-06-01"}, "Van: '1 mei' is geen datum"),
])
def test_a_bad_period_is_refused_in_dutch(web: TestClient, sqlite_engine: Engine,
                                          params: dict[str, str], words: str) -> None:
    sign_in(web, sqlite_engine, SECRETARIAT)
    refused = web.get("/deelname", params=params)
    assert refused.status_code == 400
    assert str(escape(words)) in refused.text
