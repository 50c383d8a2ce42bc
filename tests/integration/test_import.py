"""`advies import FILE`: running trajectories from a spreadsheet, driven as the secretariat does.

Today is 24-03-2026 (ADVIES_NOW). The due dates below are counted by hand with the
Algemene termijnenwet: 5 May is a holiday every year, Easter Monday is 6 April 2026, Good Friday
3 April 2026, King's Day 27 April 2026; demo's recess is 1 July - 31 August.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from app.service import Service
from app.sweep import Sweep
from engine.clock import FrozenClock
from settings import Settings
from storage.db import make_engine
from storage.tables import DeadlineRow, DeadlineStep, HistoryEntry, OutboxMessage, Trajectory
from tests.advies_cli import ENGLISH, environment, in_process, one_dutch_line, run, set_environment

SECRETARIAT = "secretariaat@example.org"
MD_SECRETARY = "secretaris@voorbeeldveld.example.org"
TABLES = (Trajectory, HistoryEntry, DeadlineRow, DeadlineStep, OutboxMessage)

GRONINGEN_CSV = "\ufeff" + "\n".join([
    "flow;organisation;title;state;received_on;policy_adviser;since;group;contact_person;"
    "advice_sent_on;official;response_received_on",
    "asked_advice;demo;Minimabeleid;requested;2026-03-24;beleid@example.org;;;;;;",
    "asked_advice;demo;Wmo-verordening;advising;16-03-2026;beleid@example.org;2026-03-20;"
    "anna@example.org|bram@example.org;bram@example.org;;;",
    "asked_advice;demo;Jeugdhulp;awaiting_response;2026-01-05;beleid@example.org;;bram@example.org;;"
    "2026-02-23;;",
    "asked_advice;demo;Armoedebeleid;monitoring;2025-10-01;beleid@example.org;;;;2025-11-01;;2026-01-15",
    "unasked_advice;demo;Vervoer op maat;contacting;;;2026-03-13;;;;beleid@example.org;",
]) + "\n"

MD_JSONL = "\n".join(json.dumps(row) for row in [
    {"flow": "md_signal", "organisation": "demo-md", "title": "Wachtlijst jeugdzorg",
     "state": "awaiting_report", "theme_group": "Participeren", "domain": "Jeugdwet",
     "summary": "Lange wachttijden.", "individual_case": "nee",
     "officer": "beleid@voorbeeldveld.example.org", "meeting_on": "2026-03-17"},
    {"flow": "md_signal", "organisation": "demo-md", "title": "Bereikbaarheid loket",
     "state": "alderman_meeting_requested", "theme_group": "Zorg en welzijn", "domain": "Wmo",
     "summary": "Het loket is slecht bereikbaar.", "individual_case": "nee",
     "officer": "beleid@voorbeeldveld.example.org", "meeting_on": "2026-02-02",
     "entered_on": "23-03-2026"},
    {"flow": "md_asked_advice", "organisation": "demo-md", "title": "Beleidskader sociaal domein",
     "state": "drafting", "policy_adviser": "beleid@voorbeeldveld.example.org",
     "received_on": "2026-03-24", "document_type": "beleidskader", "assigned_group": "Participeren"},
    {"flow": "md_asked_advice", "organisation": "demo-md", "title": "Verordening leerlingenvervoer",
     "state": "awaiting_response", "policy_adviser": "beleid@voorbeeldveld.example.org",
     "received_on": "2025-05-01", "document_type": "verordening", "assigned_group": "werkgroep",
     "group": ["aaltje@voorbeeldveld.example.org", "kees@voorbeeldveld.example.org"],
     "advice_sent_on": "2025-06-20"},
]) + "\n"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = environment(tmp_path)
    assert run(values, "init", "--demo").returncode == 0
    set_environment(monkeypatch, values)
    return values


def database(env: dict[str, str]) -> Engine:
    return make_engine(env["ADVIES_DATABASE_URL"])


def write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def trajectories(engine: Engine) -> dict[str, Trajectory]:
    with Session(engine) as session:
        return {t.title: t for t in session.exec(select(Trajectory)).all()}


def dues(engine: Engine, trajectory_id: int | None) -> dict[str, date]:
    with Session(engine) as session:
        rows = session.exec(select(DeadlineRow).where(DeadlineRow.trajectory_id == trajectory_id))
        return {d.name: d.due for d in rows.all()}


def history(engine: Engine, trajectory_id: int | None) -> list[HistoryEntry]:
    with Session(engine) as session:
        rows = session.exec(select(HistoryEntry).where(HistoryEntry.trajectory_id == trajectory_id))
        return list(rows.all())


def counts(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        return {str(t.__tablename__): session.exec(select(func.count()).select_from(t)).one()
                for t in TABLES}


def test_a_groningen_csv_becomes_running_trajectories(env: dict[str, str], tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    file = write(tmp_path, "lopend.csv", GRONINGEN_CSV)
    assert in_process(["import", str(file), "--actor", SECRETARIAT]) == 0
    assert "Geïmporteerd: 5 trajecten uit lopend.csv." in capsys.readouterr().out
    engine = database(env)
    found = trajectories(engine)
    assert {t: r.state for t, r in found.items()} == {
        "Minimabeleid": "requested", "Wmo-verordening": "advising",
        "Jeugdhulp": "awaiting_response", "Armoedebeleid": "monitoring",
        "Vervoer op maat": "contacting"}
    assert all(r.flow_version == 1 and r.version == 1 for r in found.values())
    # 24-03 + 6 weeks = Tuesday 5 May, a holiday every year: Wednesday 6 May.
    assert dues(engine, found["Minimabeleid"].id) == {"advice_due": date(2026, 5, 6)}
    # 16-03 (written the Dutch way) + 6 weeks = King's Day, Monday 27 April: 28 April.
    assert dues(engine, found["Wmo-verordening"].id) == {"advice_due": date(2026, 4, 28)}
    # advice sent 23-02 + 6 weeks = Easter Monday 6 April: Tuesday 7 April.
    assert dues(engine, found["Jeugdhulp"].id) == {"response_due": date(2026, 4, 7)}
    # the response arrived 15-01 + 6 months = 15 July; the recess (1 July - 31 August, 62 days)
    # does not count: 15 September.
    assert dues(engine, found["Armoedebeleid"].id) == {"follow_up": date(2026, 9, 15)}
    # entered contacting 13-03 + 3 weeks = Good Friday 3 April, then a weekend and Easter Monday.
    assert dues(engine, found["Vervoer op maat"].id) == {"appointment": date(2026, 4, 7)}
    wmo = found["Wmo-verordening"]
    assert wmo.data["group"] == ["anna@example.org", "bram@example.org"]
    assert wmo.data["contact_person"] == "bram@example.org"
    assert found["Vervoer op maat"].data["official"] == "beleid@example.org"
    [entry] = history(engine, wmo.id)
    assert (entry.event, entry.actor, entry.from_state, entry.to_state) == (
        "import", SECRETARIAT, None, "advising")
    assert entry.note == "Geïmporteerd uit lopend.csv, regel 3."
    assert counts(engine)["outbox"] == 0  # an import sends no mail


def test_midden_drenthe_json_lines(env: dict[str, str], tmp_path: Path) -> None:
    file = write(tmp_path, "md.jsonl", MD_JSONL)
    assert in_process(["import", str(file), "--actor", MD_SECRETARY]) == 0
    engine = database(env)
    found = trajectories(engine)
    # the meeting on 17-03 + 4 weeks (report_term) = Tuesday 14 April.
    assert dues(engine, found["Wachtlijst jeugdzorg"].id) == {"report_due": date(2026, 4, 14)}
    assert found["Wachtlijst jeugdzorg"].data["group"] == [
        "aaltje@voorbeeldveld.example.org", "harm@voorbeeldveld.example.org"]
    # entered 23-03 (entered_on, Dutch date) + 6 weeks = Monday 4 May.
    assert dues(engine, found["Bereikbaarheid loket"].id) == {"alderman_meeting_due": date(2026, 5, 4)}
    # received 24-03 + 6 weeks = 5 May: 6 May. The Platform's call was done before: no new call.
    drafting = found["Beleidskader sociaal domein"]
    assert dues(engine, drafting.id) == {"advice_due": date(2026, 5, 6)}
    assert drafting.data["platform_group"] == []
    assert drafting.data["theme_group_chair"] == "harm@voorbeeldveld.example.org"
    # sent 20-06-2025 + 6 weeks = Friday 1 August 2025 (demo-md has no recess): long overdue.
    waiting = found["Verordening leerlingenvervoer"]
    assert dues(engine, waiting.id) == {"response_due": date(2025, 8, 1)}
    assert waiting.data["group"] == ["aaltje@voorbeeldveld.example.org",
                                     "kees@voorbeeldveld.example.org"]
    assert waiting.data["council_receives"] is True
    assert history(engine, waiting.id)[0].note == "Geïmporteerd uit md.jsonl, regel 4."


def test_the_steps_before_the_import_are_not_sent_again(env: dict[str, str], tmp_path: Path,
                                                          settings: Settings) -> None:
    """Reminders whose day lay before the import were the spreadsheet's; from the import on the
    sweep sends them as for any trajectory."""
    file = write(tmp_path, "lopend.csv", GRONINGEN_CSV)
    assert in_process(["import", str(file), "--actor", SECRETARIAT]) == 0
    engine = database(env)
    tid = trajectories(engine)["Wmo-verordening"].id
    clock = FrozenClock(datetime_at(date(2026, 3, 24)))
    service = Service(engine, settings.model_copy(update={"database_url": env["ADVIES_DATABASE_URL"]}),
                      clock)
    Sweep(service).run()
    assert sent(engine, tid) == []  # due 28-04: its first step is 5 working days before
    clock.set(datetime_at(date(2026, 4, 20)))
    Sweep(service).run()
    assert sent(engine, tid) == ["deadline_reminder"]
    # the appointment term (07-04) began 13-03: the step 5 working days before it (30-03) is
    # the first; nothing of the days before the import.
    vervoer = trajectories(engine)["Vervoer op maat"].id
    assert "deadline_reminder" in sent(engine, vervoer)


def datetime_at(day: date) -> Any:
    from datetime import datetime, time

    from engine.clock import AMSTERDAM

    return datetime.combine(day, time(7), AMSTERDAM)


def sent(engine: Engine, trajectory_id: int | None) -> list[str]:
    with Session(engine) as session:
        rows = session.exec(select(OutboxMessage).where(
            col(OutboxMessage.trajectory_id) == trajectory_id)).all()
        return sorted({m.template for m in rows})


def test_a_past_step_is_recorded_done(env: dict[str, str], tmp_path: Path) -> None:
    """Jeugdhulp's response term ends 07-04; its step 5 working days before (30-03) lies after
    the import; the monitoring term of Armoedebeleid began 15-01: no step before 24-03 is left
    for the sweep."""
    file = write(tmp_path, "lopend.csv", GRONINGEN_CSV)
    assert in_process(["import", str(file), "--actor", SECRETARIAT]) == 0
    engine = database(env)
    wmo = trajectories(engine)["Wmo-verordening"].id
    with Session(engine) as session:
        row = session.exec(select(DeadlineRow).where(DeadlineRow.trajectory_id == wmo)).one()
        assert row.started_on == date(2026, 3, 20)
        assert row.next_step_on == date(2026, 4, 20)  # 28-04 minus 5 working days (27-04 is free)
        assert row.status == "running"


def test_a_dry_run_writes_nothing(env: dict[str, str], tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    file = write(tmp_path, "lopend.csv", GRONINGEN_CSV)
    before = counts(database(env))
    assert in_process(["import", str(file), "--actor", SECRETARIAT, "--dry-run", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["created"] == 5
    assert report["dry_run"] is True
    assert report["ids"] == []
    assert report["counts"]["asked_advice"] == {"advising": 1, "awaiting_response": 1,
                                                "monitoring": 1, "requested": 1}
    assert report["preview"][0]["deadlines"] == [
        {"name": "advice_due", "label": "adviestermijn", "due": "2026-05-06"}]
    assert counts(database(env)) == before


BAD_ROWS = {
    "asked_advice;demo;Goed;requested;2026-03-01;beleid@example.org;;;": None,
    "asked_advice;demo;Later;requested;2026-04-01;beleid@example.org;;;": "in de toekomst",
    "asked_advice;demo;Geen datum;requested;1-3-26;beleid@example.org;;;": "geen datum",
    "asked_advice;demo;Onbekend;requested;2026-03-01;niemand@example.org;;;": "staat niet in het bestand",
    "asked_advice;demo;Geen rol;requested;2026-03-01;anna@example.org;;;": "heeft niet de rol",
    "asked_advice;nergens;Geen org;requested;2026-03-01;beleid@example.org;;;": "'nergens' bestaat niet",
    "vlucht;demo;Geen stroom;requested;2026-03-01;beleid@example.org;;;": "de stroom 'vlucht'",
    "asked_advice;demo;Klaar;closed;2026-03-01;beleid@example.org;;;": "eindstap",
    "asked_advice;demo;Oproep;calling;2026-03-01;beleid@example.org;;;": "oproep",
    "asked_advice;demo;Geen stap;wachten;2026-03-01;beleid@example.org;;;": "de stap 'wachten'",
    "asked_advice;demo;goed;requested;2026-03-02;beleid@example.org;;;": "ook op regel 2",
    "asked_advice;demo;Zonder groep;matching;2026-03-01;beleid@example.org;;;": "kolom group",
    "asked_advice;demo;Zonder aanspreekpunt;advising;2026-03-01;beleid@example.org;;bram@example.org;":
        "kolom contact_person",
    "asked_advice;demo;Geen lid;matching;2026-03-01;beleid@example.org;;beleid@example.org;": "rol member",
    "asked_advice;demo;Verzonden;awaiting_response;2026-03-01;beleid@example.org;;;": "advice_sent_on",
    "asked_advice;demo;;requested;2026-03-01;beleid@example.org;;;": "kolom title",
}


def test_one_bad_row_refuses_the_whole_file(env: dict[str, str], tmp_path: Path) -> None:
    header = "flow;organisation;title;state;received_on;policy_adviser;since;group;contact_person"
    file = write(tmp_path, "fout.csv", "\n".join([header, *BAD_ROWS]) + "\n")
    before = counts(database(env))
    done = run(env, "import", str(file), "--actor", SECRETARIAT)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert lines[0] == "Fout: fout.csv is niet geïmporteerd: 15 regels kloppen niet. Er is niets opgeslagen."
    for number, expected in enumerate(BAD_ROWS.values(), start=2):
        reported = [line for line in lines[1:] if line.startswith(f"regel {number}: ")]
        assert (reported == []) == (expected is None), (number, lines)
        if expected is not None:
            assert expected in reported[0], (number, reported)
    assert not any(word in done.stderr for word in ENGLISH)
    assert counts(database(env)) == before


def test_at_most_twenty_problems_are_listed(env: dict[str, str], tmp_path: Path) -> None:
    rows = [f"asked_advice;demo;Titel {n};requested;2026-13-01;beleid@example.org" for n in range(25)]
    file = write(tmp_path, "veel.csv", "\n".join(
        ["flow;organisation;title;state;received_on;policy_adviser", *rows]) + "\n")
    done = run(env, "import", str(file), "--actor", SECRETARIAT)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 22
    assert lines[-1] == "en nog 5 regels."


def test_importing_a_file_twice_is_refused(env: dict[str, str], tmp_path: Path) -> None:
    file = write(tmp_path, "lopend.csv", GRONINGEN_CSV)
    assert in_process(["import", str(file), "--actor", SECRETARIAT]) == 0
    before = counts(database(env))
    done = run(env, "import", str(file), "--actor", SECRETARIAT)
    assert done.returncode == 2
    assert "al eens geïmporteerd" in done.stderr
    assert counts(database(env)) == before


@pytest.mark.parametrize(("content", "name", "words"), [
    (None, "weg.csv", "bestaat niet"),
    ("", "leeg.csv", "leeg"),
    (b"flow;organisation;title;state\nasked_advice;demo;Caf\xe9;requested\n", "latin.csv", "UTF-8"),
    ("flow,title\nasked_advice,Iets\n", "kop.csv", "mist de kolommen organisation, state"),
    ("flow;organisation;title;state;kleur\n", "kleur.csv", "'kleur' is onbekend"),
    ("flow;organisation;title;state\n", "alleen_kop.csv", "geen regels"),
])
def test_an_unreadable_file_is_one_dutch_sentence(env: dict[str, str], tmp_path: Path,
                                                  content: str | bytes | None, name: str,
                                                  words: str) -> None:
    path = tmp_path / name if content is None else write(tmp_path, name, content)
    before = counts(database(env))
    done = run(env, "import", str(path), "--actor", SECRETARIAT)
    one_dutch_line(done.returncode, done.stderr, 2, words)
    assert counts(database(env)) == before


def test_a_directory_is_refused(env: dict[str, str], tmp_path: Path) -> None:
    done = run(env, "import", str(tmp_path), "--actor", SECRETARIAT)
    one_dutch_line(done.returncode, done.stderr, 2, "geen bestand")


def test_only_the_secretariat_imports(env: dict[str, str], tmp_path: Path) -> None:
    file = write(tmp_path, "lopend.csv", GRONINGEN_CSV)
    before = counts(database(env))
    done = run(env, "import", str(file), "--actor", "anna@example.org")
    one_dutch_line(done.returncode, done.stderr, 3, "Alleen het secretariaat")
    done = run(env, "import", str(file), "--actor", MD_SECRETARY)
    one_dutch_line(done.returncode, done.stderr, 3, "Alleen het secretariaat")
    assert counts(database(env)) == before


def test_a_comma_csv_on_postgresql(pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    values = {**environment(tmp_path), "ADVIES_DATABASE_URL": pg_url}
    set_environment(monkeypatch, values)
    text = GRONINGEN_CSV.replace(";", ",").replace("anna@example.org|bram", "anna@example.org;bram")
    text = text.replace("anna@example.org;bram@example.org", '"anna@example.org;bram@example.org"')
    file = write(tmp_path, "komma.csv", text)
    assert in_process(["import", str(file), "--actor", SECRETARIAT, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["created"] == 5
    assert len(report["ids"]) == 5
    engine = make_engine(pg_url)
    found = trajectories(engine)
    assert [found[t].id for t in ("Minimabeleid", "Wmo-verordening", "Jeugdhulp", "Armoedebeleid",
                                  "Vervoer op maat")] == report["ids"]
    assert dues(engine, found["Jeugdhulp"].id) == {"response_due": date(2026, 4, 7)}
    assert found["Wmo-verordening"].data["group"] == ["anna@example.org", "bram@example.org"]
    bad = write(tmp_path, "fout.csv", text.replace("2026-02-23", "2026-02-30"))
    before = counts(engine)
    assert in_process(["import", str(bad), "--actor", SECRETARIAT]) == 2
    assert counts(engine) == before
    engine.dispose()


def test_bad_json_lines_are_reported_by_line(env: dict[str, str], tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    good = json.loads(MD_JSONL.splitlines()[0])
    lines = [json.dumps(good), "{niet json", "[1, 2]", "",
             json.dumps({**good, "title": "Ander", "kleur": "rood"}),
             json.dumps({**good, "title": "Persoon", "individual_case": "ja"})]
    file = write(tmp_path, "md.ndjson", "\n".join(lines) + "\n")
    before = counts(database(env))
    assert in_process(["import", str(file), "--actor", MD_SECRETARY, "--json"]) == 2
    report = json.loads(capsys.readouterr().out)
    assert report["exit_code"] == 2
    assert [(p["line"], p["problem"]) for p in report["problems"]] == [
        (2, "deze regel is geen geldige JSON."),
        (3, "deze regel is geen JSON-object ({...})."),
        (5, "de kolom 'kleur' is onbekend."),
        (6, "Dit signaal gaat over één persoon: individuele casussen kunnen niet worden ingebracht, "
            "want een signaal gaat over de uitvoering voor een groep inwoners."),
    ]
    assert counts(database(env)) == before
