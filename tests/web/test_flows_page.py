"""The flow versions page (/stromen): for the staff, each flow the organisation uses with its
current version and how many of the organisation's own trajectories run (and ended) on each
version; read-only, it says that the administrator moves trajectories with `advies flows migrate`."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from app.service import Service
from engine.clock import FrozenClock
from flows import flow_versions
from settings import Settings
from tests.helpers import LIAISON, SECRETARIAT, start
from tests.integration.test_flow_versions import V2
from tests.web.conftest import sign_in
from web.app import create_app

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

MD_SECRETARY = "secretaris@voorbeeldveld.example.org"


@pytest.fixture
def on_v2(sqlite_engine: Engine, settings: Settings, clock: FrozenClock) -> Service:
    return Service(sqlite_engine, settings, clock, flows={**flow_versions(), ("asked_advice", 2): V2})


@pytest.fixture
def web_v2(on_v2: Service) -> Iterator[TestClient]:
    with TestClient(create_app(on_v2), base_url="http://testserver", follow_redirects=False) as client:
        yield client


def cells(page: str, flow_title: str) -> list[list[str]]:
    """The rows of the table of one flow: version, running, finished."""
    section = page.split(f">{flow_title}</h2>", 1)[1].split("</section>", 1)[0]
    return [re.findall(r'<td class="utrecht-table__cell">([^<]*)</td>', row)
            for row in section.split("<tr")[2:]]


@pytest.mark.parametrize("address", [SECRETARIAT, LIAISON])
def test_the_staff_see_each_version_with_their_own_trajectories(
        web_v2: TestClient, service: Service, on_v2: Service, sqlite_engine: Engine,
        address: str) -> None:
    start(service)  # version 1
    ended = int(start(service)["id"])
    service.fire(ended, "withdraw", SECRETARIAT, {"reason": "dubbel"})
    start(on_v2)  # version 2, the current one
    service.start("md_asked_advice", "demo-md", "Verordening", MD_SECRETARY,
                  {"policy_adviser": "beleid@voorbeeldveld.example.org",
                   "document_type": "beleidsregel"})  # another organisation's: not counted
    sign_in(web_v2, sqlite_engine, address)

    page = web_v2.get("/stromen")

    assert page.status_code == 200
    assert "<h1 class=\"utrecht-heading-1\">Stromen en hun versies</h1>" in page.text
    assert "<code>advies flows migrate</code>" in page.text
    assert cells(page.text, "Gevraagd advies") == [["2 (huidige)", "1", "0"], ["1", "1", "1"]]
    assert cells(page.text, "Ongevraagd advies") == [["1 (huidige)", "0", "0"]]
    assert "Huidige versie: 2." in page.text
    assert "Signaal" not in page.text  # demo does not use the Midden-Drenthe flows


def test_the_organisation_page_links_to_it(web_v2: TestClient, sqlite_engine: Engine) -> None:
    sign_in(web_v2, sqlite_engine, SECRETARIAT)
    assert 'href="/stromen"' in web_v2.get("/organisatie").text


@pytest.mark.parametrize("address", ["bram@example.org", "beleid@example.org"])
def test_members_and_officials_may_not_open_it(web_v2: TestClient, sqlite_engine: Engine,
                                               address: str) -> None:
    sign_in(web_v2, sqlite_engine, address)
    page = web_v2.get("/stromen")
    assert page.status_code == 403
    assert "niet voor jouw rol" in page.text


def test_signed_out_it_asks_to_sign_in(web_v2: TestClient) -> None:
    page = web_v2.get("/stromen")
    assert page.status_code == 303
    assert page.headers["location"].startswith("/inloggen?terug=")
