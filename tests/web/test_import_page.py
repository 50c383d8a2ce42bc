"""/importeren in the browser-less client, as the secretariat uses it: upload a file, read what
would be created, confirm; a wrong file with every wrong row; who may not import."""

from __future__ import annotations

import html
import re
from datetime import date

from sqlalchemy import Engine, func
from sqlmodel import Session, select

from storage.tables import DeadlineRow, HistoryEntry, OutboxMessage, Trajectory
from tests.helpers import LIAISON, SECRETARIAT, member
from tests.web.conftest import TestClient, csrf_of, sign_in

MD_SECRETARY = "secretaris@voorbeeldveld.example.org"
GOOD = ("flow;organisation;title;state;received_on;policy_adviser\n"
        "asked_advice;demo;Minimabeleid;requested;2026-03-24;beleid@example.org\n"
        "asked_advice;demo;Wmo-verordening;requested;16-03-2026;beleid@example.org\n")
BAD = GOOD + "asked_advice;demo;Jeugd;requested;2026-03-01;niemand@example.org\n" \
             "asked_advice;demo-md;Ander;requested;2026-03-01;beleid@example.org\n"


def rows(engine: Engine, table: type) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(table)).one())


def everything(engine: Engine) -> tuple[int, ...]:
    return tuple(rows(engine, t) for t in (Trajectory, HistoryEntry, DeadlineRow, OutboxMessage))


def upload(web: TestClient, csrf: str, text: str | bytes, name: str = "lopend.csv") -> str:
    body = text.encode("utf-8") if isinstance(text, str) else text
    response = web.post("/importeren", data={"csrf": csrf}, files={"bestand": (name, body, "text/csv")})
    return f"{response.status_code}\n{html.unescape(response.text)}"


def hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found is not None
    return html.unescape(found.group(1))


def test_check_then_import(web: TestClient, sqlite_engine: Engine) -> None:
    csrf = sign_in(web, sqlite_engine, SECRETARIAT)
    before = everything(sqlite_engine)
    page = web.get("/importeren")
    assert page.status_code == 200
    assert 'enctype="multipart/form-data"' in page.text
    assert 'href="/importeren"' in page.text  # in the menu
    checked = web.post("/importeren", data={"csrf": csrf},
                       files={"bestand": ("lopend.csv", GOOD.encode(), "text/csv")})
    assert checked.status_code == 200
    text = html.unescape(checked.text)
    assert "Er is nog niets opgeslagen" in text
    assert "Regel 2: Minimabeleid (Aanvraag ontvangen): adviestermijn tot en met 06-05-2026" in text
    assert "Regel 3: Wmo-verordening (Aanvraag ontvangen): adviestermijn tot en met 28-04-2026" in text
    assert everything(sqlite_engine) == before
    done = web.post("/importeren/bevestigen", data={"csrf": csrf},
                    files={"naam": (None, hidden(checked.text, "naam")),
                           "inhoud": (None, hidden(checked.text, "inhoud"))})
    assert done.status_code == 303
    assert done.headers["location"] == "/importeren?gedaan=2"
    assert "2 trajecten zijn geïmporteerd" in html.unescape(web.get(done.headers["location"]).text)
    with Session(sqlite_engine) as session:
        found = {t.title: t for t in session.exec(select(Trajectory)).all()}
        assert found["Wmo-verordening"].state == "requested"
        deadline = session.exec(select(DeadlineRow).where(
            DeadlineRow.trajectory_id == found["Wmo-verordening"].id)).one()
        assert deadline.due == date(2026, 4, 28)
        entry = session.exec(select(HistoryEntry).where(
            HistoryEntry.trajectory_id == found["Minimabeleid"].id)).one()
        assert (entry.actor, entry.event) == (SECRETARIAT, "import")
        assert entry.note == "Geïmporteerd uit lopend.csv, regel 2."
    assert rows(sqlite_engine, OutboxMessage) == before[3]


def test_a_wrong_file_lists_every_wrong_row(web: TestClient, sqlite_engine: Engine) -> None:
    csrf = sign_in(web, sqlite_engine, SECRETARIAT)
    before = everything(sqlite_engine)
    page = upload(web, csrf, BAD)
    assert page.startswith("400")
    assert "lopend.csv is niet geïmporteerd: 2 regels kloppen niet." in page
    assert "<li>regel 4: niemand@example.org staat niet in het bestand van de organisatie.</li>" in page
    assert "<li>regel 5: hier importeer je alleen trajecten van je eigen organisatie (demo)" in page
    assert "Importeer" not in page.split("<h1", 1)[1].split("Controleer", 1)[0]
    assert everything(sqlite_engine) == before
    # the confirmation checks the file again: a changed file is refused there as well
    refused = web.post("/importeren/bevestigen", data={"csrf": csrf},
                       files={"naam": (None, "lopend.csv"), "inhoud": (None, BAD)})
    assert refused.status_code == 400
    assert "2 regels kloppen niet" in html.unescape(refused.text)
    assert everything(sqlite_engine) == before


def test_bad_uploads_are_refused_in_dutch(web: TestClient, sqlite_engine: Engine) -> None:
    csrf = sign_in(web, sqlite_engine, SECRETARIAT)
    before = everything(sqlite_engine)
    assert "Het bestand is leeg." in upload(web, csrf, "")
    assert "geen UTF-8" in upload(web, csrf, b"flow;organisation;title;state\nx;y;Caf\xe9;z\n")
    assert "groter dan 5 MB" in upload(web, csrf, "a" * (5 * 1024 * 1024 + 1))
    assert "mist de kolom" in upload(web, csrf, "titel\nIets\n")
    no_file = web.post("/importeren", data={"csrf": csrf})
    assert no_file.status_code == 400
    assert "Kies eerst een bestand." in html.unescape(no_file.text)
    assert everything(sqlite_engine) == before


def test_without_csrf_nothing_is_imported(web: TestClient, sqlite_engine: Engine) -> None:
    sign_in(web, sqlite_engine, SECRETARIAT)
    before = everything(sqlite_engine)
    assert upload(web, "vals", GOOD).startswith("403")
    response = web.post("/importeren/bevestigen", data={"csrf": "vals"},
                        files={"naam": (None, "lopend.csv"), "inhoud": (None, GOOD)})
    assert response.status_code == 403
    assert everything(sqlite_engine) == before


def test_only_the_secretariat_may_import(web: TestClient, sqlite_engine: Engine) -> None:
    for person in (LIAISON, member("bram")):
        csrf = sign_in(web, sqlite_engine, person)
        assert web.get("/importeren").status_code == 403
        assert upload(web, csrf, GOOD).startswith("403")
        assert 'href="/importeren"' not in web.get("/mijn").text
    assert rows(sqlite_engine, Trajectory) == 0


def test_the_secretary_imports_into_her_own_organisation(web: TestClient, sqlite_engine: Engine) -> None:
    """Midden-Drenthe's secretary cannot bring trajectories into Groningen's organisation."""
    csrf = sign_in(web, sqlite_engine, MD_SECRETARY)
    page = upload(web, csrf, GOOD)
    assert page.startswith("400")
    assert "je eigen organisatie (demo-md), niet van 'demo'" in page
    assert csrf_of(web.get("/importeren").text) == csrf
    assert rows(sqlite_engine, Trajectory) == 0
