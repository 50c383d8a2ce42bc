"""The dossier as a download from the trajectory page: for the staff of the trajectory's own
organisation; a member is refused, another organisation's staff find nothing."""

from __future__ import annotations

import re

from sqlalchemy import Engine
from sqlmodel import Session, col, func, select

from app.service import Service
from engine.clock import FrozenClock
from storage.tables import HistoryEntry
from tests.helpers import LIAISON, SECRETARIAT, member, to_matching
from tests.web.conftest import TestClient, sign_in

MD_SECRETARY = "secretaris@voorbeeldveld.example.org"


def history_count(engine: Engine, tid: int) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).where(col(HistoryEntry.trajectory_id) == tid)).one())


def test_the_secretariat_downloads_the_dossier_from_the_trajectory_page(
        web: TestClient, sqlite_engine: Engine, service: Service, clock: FrozenClock) -> None:
    tid = to_matching(service, clock)
    sign_in(web, sqlite_engine, SECRETARIAT)
    page = web.get(f"/trajecten/{tid}")
    assert page.status_code == 200
    link = re.search(r'<a class="utrecht-link" href="([^"]+)" download>Dossier \(HTML\)</a>', page.text)
    assert link is not None
    assert link.group(1) == f"/trajecten/{tid}/dossier"

    got = web.get(link.group(1))
    assert got.status_code == 200
    assert got.headers["content-type"] == "text/html; charset=utf-8"
    assert got.headers["content-disposition"] == \
        f'attachment; filename="dossier-{tid}-regiovisie-beschermd-wonen.html"'
    assert "script-src" not in got.headers["content-security-policy"]
    assert "<h1>Regiovisie beschermd wonen</h1>" in got.text
    assert got.text.count('<tr class="history">') == history_count(sqlite_engine, tid)


def test_the_liaison_may_download_it_too(web: TestClient, sqlite_engine: Engine,
                                        service: Service, clock: FrozenClock) -> None:
    tid = to_matching(service, clock)
    sign_in(web, sqlite_engine, LIAISON)
    assert web.get(f"/trajecten/{tid}/dossier").status_code == 200


def test_a_member_is_refused_and_sees_no_link(web: TestClient, sqlite_engine: Engine,
                                             service: Service, clock: FrozenClock) -> None:
    tid = to_matching(service, clock)  # bram is in the group: he sees the trajectory page
    sign_in(web, sqlite_engine, member("bram"))
    page = web.get(f"/trajecten/{tid}")
    assert page.status_code == 200
    assert "Dossier (HTML)" not in page.text
    refused = web.get(f"/trajecten/{tid}/dossier")
    assert refused.status_code == 403
    assert "content-disposition" not in refused.headers
    assert "Regiovisie" not in refused.text


def test_another_organisation_finds_nothing(web: TestClient, sqlite_engine: Engine,
                                           service: Service, clock: FrozenClock) -> None:
    tid = to_matching(service, clock)
    sign_in(web, sqlite_engine, MD_SECRETARY)
    for number in (str(tid), "999", "abc", "0", str(2**70)):
        refused = web.get(f"/trajecten/{number}/dossier")
        assert refused.status_code == 404, number
        assert "Dit traject bestaat niet, of het hoort niet bij jouw organisatie." in refused.text
        assert "Regiovisie" not in refused.text


def test_without_signing_in_the_dossier_asks_to_sign_in(web: TestClient, service: Service,
                                                        clock: FrozenClock) -> None:
    tid = to_matching(service, clock)
    got = web.get(f"/trajecten/{tid}/dossier")
    assert got.status_code == 303
    assert got.headers["location"].startswith("/inloggen?")
