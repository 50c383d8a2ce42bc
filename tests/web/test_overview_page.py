"""The overview (/trajecten): the organisation's deadlines of this week and its overdue ones,
each trajectory with its next deadline; only its own organisation's; and a page that costs the
same few statements however many trajectories the organisation has."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, event
from sqlmodel import Session, select

from app.overview import PAGE_SIZE, Filters, overview
from app.service import Service
from engine.clock import FrozenClock
from storage.tables import Organisation
from tests.helpers import SECRETARIAT
from tests.web.conftest import TestClient, sign_in
from tests.web.test_calendar_page import MD_SECRETARY, called, md_trajectory


def test_this_weeks_deadlines_then_the_overdue_ones_of_its_own_organisation(
        web: TestClient, service: Service, sqlite_engine: Engine, clock: FrozenClock) -> None:
    tid = called(service, "Regiovisie Voorbeeldstad")  # sign-up closes 7 April, advice due 6 May
    md_trajectory(service)
    clock.advance(timedelta(days=9))  # Thursday 2 April: this week runs to 8 April
    sign_in(web, sqlite_engine, SECRETARIAT)
    page = web.get("/trajecten").text
    this_week = _section(page, "deze-week")
    assert f'aanmeldtermijn van <a class="utrecht-link" href="/trajecten/{tid}">Regiovisie Voorbeeldstad' \
        in this_week
    assert "adviestermijn" not in this_week
    assert "Geen verlopen termijnen." in _section(page, "te-laat")
    assert "aanmeldtermijn: dinsdag 7 april 2026" in _section(page, "alle")
    assert "Geheime verordening" not in page

    clock.advance(timedelta(days=7))  # Thursday 9 April; the sweep has not run yet
    web.cookies.clear()
    sign_in(web, sqlite_engine, SECRETARIAT)
    page = web.get("/trajecten").text
    assert f'aanmeldtermijn van <a class="utrecht-link" href="/trajecten/{tid}">' in _section(page, "te-laat")
    assert "Deze week loopt er geen termijn af." in _section(page, "deze-week")
    assert "Geheime verordening" not in page

    web.cookies.clear()
    sign_in(web, sqlite_engine, MD_SECRETARY)
    theirs = web.get("/trajecten").text
    assert "Geheime verordening Voorbeeldveld" in theirs
    assert "Regiovisie" not in theirs


def test_a_page_takes_the_same_statements_for_one_trajectory_or_a_full_page(
        service: Service, sqlite_engine: Engine) -> None:
    org_id = _demo_id(sqlite_engine)
    called(service)
    with _statements(sqlite_engine) as one:
        assert len(overview(service, org_id, Filters()).rows) == 1
    for number in range(PAGE_SIZE):
        called(service, f"Advies {number}")
    with _statements(sqlite_engine) as full:
        found = overview(service, org_id, Filters())
    assert len(found.rows) == PAGE_SIZE
    assert all(row["next_due"]["name"] == "signup_closes" for row in found.rows)
    assert len(full) == len(one) <= 6


def _section(page: str, heading_id: str) -> str:
    """The HTML of the section the heading with this id opens."""
    start = page.index(f'id="{heading_id}"')
    return page[start:page.index("</section>", start)]


def _demo_id(engine: Engine) -> int:
    with Session(engine) as session:
        org = session.exec(select(Organisation).where(Organisation.slug == "demo")).one()
    assert org.id is not None
    return org.id


@contextmanager
def _statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements run on the engine meanwhile."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)
