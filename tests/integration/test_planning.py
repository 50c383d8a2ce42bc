"""The half-year planning (seed 004 ch. 13): `advies planning add|list|edit|cancel` as a user runs
it, the chairs' mail on every change, the reminder three weeks ahead on a moving clock, and
`advies start --planned` linking a request to its trajectory in one transaction."""

from __future__ import annotations

import json
import shutil
import threading
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, text
from sqlmodel import Session, select

from app import planning
from app.service import Service
from cli.worker_cmd import summary
from engine.clock import AMSTERDAM, FrozenClock
from settings import Settings
from storage.db import make_engine
from storage.tables import OutboxMessage, PlanningItem, Trajectory
from tests.advies_cli import environment, in_process, one_dutch_line, run, set_environment
from tests.helpers import ADVISER, LIAISON, SECRETARIAT, outbox, plain
from worker.main import Worker

CHAIR = "anna@example.org"
MD_LIAISON = "verbinding@voorbeeldveld.example.org"
MD_ADVISER = "beleid@voorbeeldveld.example.org"
MD_CHAIR = "kees@voorbeeldveld.example.org"
ADD = ("planning", "add", "--org", "demo", "--title", "Beleidsplan Sociaal Domein 2027",
       "--expected", "2026-06-01", "--policy-adviser", ADVISER, "--flow", "asked_advice",
       "--actor", LIAISON)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), AMSTERDAM)


def items(engine: Engine) -> list[PlanningItem]:
    with Session(engine) as session:
        return list(session.exec(select(PlanningItem).order_by(PlanningItem.id)).all())  # type: ignore[arg-type]


def changed_mails(engine: Engine) -> list[OutboxMessage]:
    return [m for m in outbox(engine) if m.template == "planning_changed"]


def reminders(engine: Engine) -> list[str]:
    return sorted(m.recipient for m in outbox(engine) if m.template == "planning_reminder")


# --- the command line, as a process --------------------------------------------------------


@pytest.fixture(scope="module")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`advies init --demo` once for the module, as a process; each test gets a copy."""
    folder = tmp_path_factory.mktemp("demo")
    done = run(environment(folder), "init", "--demo")
    assert done.returncode == 0, done.stderr
    return folder / "a.db"


@pytest.fixture
def cli_env(tmp_path: Path, demo_database: Path) -> dict[str, str]:
    shutil.copy(demo_database, tmp_path / "a.db")
    return environment(tmp_path)


def advies(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], *args: str) -> int:
    """`advies ARGS` in this process, as `run(env, ...)` runs it as one."""
    set_environment(monkeypatch, env)
    return in_process(args)


@pytest.fixture
def cli_engine(cli_env: dict[str, str]) -> Any:
    engine = make_engine(cli_env["ADVIES_DATABASE_URL"])
    yield engine
    engine.dispose()


def test_add_list_edit_cancel_and_the_chairs_get_the_planning_each_time(
        cli_env: dict[str, str], cli_engine: Engine) -> None:
    added = run(cli_env, *ADD)
    assert added.returncode == 0, added.stderr
    assert 'Verzoek 1 "Beleidsplan Sociaal Domein 2027" staat in de planning' in added.stdout
    second = run(cli_env, "planning", "add", "--org", "demo", "--title", "Verordening Wmo",
                 "--expected", "2026-05-04", "--policy-adviser", ADVISER, "--actor", SECRETARIAT)
    assert second.returncode == 0, second.stderr

    listed = run(cli_env, "planning", "list", "--org", "demo", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert [(r["id"], r["expected_on"], r["remind_on"], r["flow"], r["status"]) for r in rows] == [
        (2, "2026-05-04", "2026-04-13", None, "planned"),
        (1, "2026-06-01", "2026-05-11", "asked_advice", "planned")]

    mails = changed_mails(cli_engine)
    assert [m.recipient for m in mails] == [CHAIR, CHAIR]  # the one chair, once per change
    assert mails[0].subject == ('Planning Adviesgroep Sociaal Domein Voorbeeldstad: nieuw verwacht '
                                'verzoek "Beleidsplan Sociaal Domein 2027"')
    latest = plain(mails[1])
    assert "Dit is de planning zoals die nu is (2 verzoeken)" in latest
    assert latest.index("maandag 4 mei 2026: Verordening Wmo") < latest.index(
        "maandag 1 juni 2026: Beleidsplan Sociaal Domein 2027")

    edited = run(cli_env, "planning", "edit", "1", "--expected", "2026-07-01", "--title",
                 "Beleidsplan Sociaal Domein 2027-2030", "--actor", LIAISON, "--json")
    assert edited.returncode == 0, edited.stderr
    assert (json.loads(edited.stdout)["expected_on"], json.loads(edited.stdout)["remind_on"]) == (
        "2026-07-01", "2026-06-10")
    change = changed_mails(cli_engine)[-1]
    assert change.subject.endswith('"Beleidsplan Sociaal Domein 2027-2030" is gewijzigd')
    assert "- Verwachte datum: maandag 1 juni 2026 wordt woensdag 1 juli 2026" in plain(change)
    assert ("- Titel: Beleidsplan Sociaal Domein 2027 wordt Beleidsplan Sociaal Domein 2027-2030"
            in plain(change))

    cancelled = run(cli_env, "planning", "cancel", "2", "--actor", LIAISON, "--note", "Komt pas in 2027.")
    assert cancelled.returncode == 0, cancelled.stderr
    gone = changed_mails(cli_engine)[-1]
    assert gone.subject.endswith('"Verordening Wmo" is geschrapt')
    assert "Reden: Komt pas in 2027." in plain(gone)
    assert "Verordening Wmo\n  Beleidsadviseur" not in plain(gone)
    assert [r["id"] for r in json.loads(run(cli_env, "planning", "list", "--json").stdout)] == [1]
    everything = json.loads(run(cli_env, "planning", "list", "--all", "--json").stdout)
    assert [(r["id"], r["status"], r["note"]) for r in everything] == [
        (2, "cancelled", "Komt pas in 2027."), (1, "planned", None)]
    assert len(changed_mails(cli_engine)) == 4


def test_midden_drenthe_mails_its_own_chair_in_its_own_words(cli_env: dict[str, str],
                                                            cli_engine: Engine) -> None:
    done = run(cli_env, "planning", "add", "--org", "demo-md", "--title", "Beleidsregels jeugdhulp",
               "--expected", "2026-09-15", "--policy-adviser", MD_ADVISER, "--flow", "md_asked_advice",
               "--actor", MD_LIAISON)
    assert done.returncode == 0, done.stderr
    mails = changed_mails(cli_engine)
    assert [m.recipient for m in mails] == [MD_CHAIR]
    assert "de planning van de adviesraad toegevoegd" in plain(mails[0])


def test_the_table_lists_the_planning(cli_env: dict[str, str]) -> None:
    assert run(cli_env, "planning", "list").stdout.strip() == (
        "Er staat geen verwachte adviesaanvraag in de planning.")
    assert run(cli_env, *ADD).returncode == 0
    shown = run(cli_env, "planning", "list")
    assert shown.returncode == 0, shown.stderr
    assert "01-06-2026" in shown.stdout
    assert "verwacht" in shown.stdout


# --- bad input: one Dutch sentence, the exit code, nothing written -------------------------

ADD_BASE = {"--org": "demo", "--title": "Beleidsplan", "--expected": "2026-06-01",
            "--policy-adviser": ADVISER, "--actor": LIAISON}


def add_args(**changed: str | None) -> list[str]:
    values = {**ADD_BASE, **{f"--{k.replace('_', '-')}": v for k, v in changed.items()}}
    args = ["planning", "add"]
    for option, value in values.items():
        if value is not None:
            args += [option, value]
    return args


@pytest.mark.parametrize(("changed", "code", "words"), [
    ({"org": "nergens"}, 2, "Organisatie 'nergens' bestaat niet"),
    ({"title": ""}, 2, "De titel mag niet leeg zijn"),
    ({"title": "Twee\nregels"}, 2, "De titel mag geen regelovergang"),
    ({"title": "x" * 301}, 2, "De titel is te lang"),
    ({"expected": "morgen"}, 2, "De verwachte datum: 'morgen' is geen datum"),
    ({"expected": "2026-02-30"}, 2, "is geen datum"),
    ({"expected": "2026-03-23"}, 2, "De verwachte datum 23-03-2026 is al voorbij"),
    ({"expected": "2040-01-01"}, 2, "ligt te ver weg"),
    ({"expected": None}, 2, "--expected"),
    ({"policy_adviser": "geen-adres"}, 2, "'geen-adres' is geen geldig e-mailadres"),
    ({"policy_adviser": CHAIR}, 2, f"{CHAIR} is geen beleidsadviseur van deze organisatie"),
    ({"policy_adviser": MD_ADVISER}, 2, "is geen beleidsadviseur van deze organisatie"),
    ({"flow": "bestaat_niet"}, 2, "De stroom 'bestaat_niet' kan niet"),
    ({"flow": "md_signal"}, 2, "De stroom 'md_signal' kan niet"),
    ({"actor": "onbekend@example.org"}, 2, "onbekend@example.org staat niet in het bestand"),
    ({"actor": CHAIR}, 3, "Alleen de verbindingsmedewerker of het secretariaat"),
    ({"actor": MD_LIAISON}, 2, "staat niet in het bestand van Adviesgroep"),
    ({"actor": "systeem"}, 3, "'systeem' is Adviestraject zelf"),
])
def test_a_bad_new_request_is_refused_and_nothing_is_written(
        cli_env: dict[str, str], cli_engine: Engine, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], changed: dict[str, str | None], code: int,
        words: str) -> None:
    set_environment(monkeypatch, cli_env)
    exit_code = in_process(add_args(**changed))
    one_dutch_line(exit_code, capsys.readouterr().err, code, words)
    assert items(cli_engine) == []
    assert outbox(cli_engine) == []


def _three_items(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    """1 planned, 2 cancelled, 3 started."""
    for title in ("Een", "Twee", "Drie"):
        assert advies(monkeypatch, env, *add_args(title=title)) == 0
    assert advies(monkeypatch, env, "planning", "cancel", "2", "--actor", LIAISON) == 0
    assert advies(monkeypatch, env, "start", "asked_advice", "--org", "demo", "--title", "Drie",
                  "--actor", SECRETARIAT, "--set", f"policy_adviser={ADVISER}", "--planned", "3") == 0


@pytest.mark.parametrize(("args", "code", "words"), [
    (["edit", "99", "--title", "Nieuw"], 2, "Verzoek 99 staat niet in de planning"),
    (["edit", "0", "--title", "Nieuw"], 2, "Verzoek 0 bestaat niet"),
    (["edit", "een", "--title", "Nieuw"], 2, "een"),
    (["edit", "1"], 2, "Er verandert niets"),
    (["edit", "1", "--title", "Een"], 2, "Er verandert niets"),
    (["edit", "1", "--expected", "31-13-2026"], 2, "is geen datum"),
    (["edit", "1", "--expected", "2026-01-05"], 2, "is al voorbij"),
    (["edit", "1", "--policy-adviser", "x@"], 2, "geen geldig e-mailadres"),
    (["edit", "1", "--flow", "md_asked_advice"], 2, "De stroom 'md_asked_advice' kan niet"),
    (["edit", "1", "--title", " "], 2, "De titel mag niet leeg zijn"),
    (["edit", "2", "--title", "Nieuw"], 3, "Verzoek 2 is geschrapt"),
    (["edit", "3", "--title", "Nieuw"], 3, "Verzoek 3 is al gestart als traject 1"),
    (["edit", "1", "--title", "Nieuw", "--actor", "bram@example.org"], 3, "Alleen de verbindingsmedewerker"),
    (["cancel", "99"], 2, "Verzoek 99 staat niet in de planning"),
    (["cancel", "2"], 3, "Verzoek 2 is geschrapt"),
    (["cancel", "3"], 3, "al gestart"),
    (["cancel", "1", "--note", "x" * 2001], 2, "2000"),
    (["cancel", "1", "--actor", MD_LIAISON], 2, "staat niet in het bestand"),
    (["list", "--org", "nergens"], 2, "Organisatie 'nergens' bestaat niet"),
])
def test_a_bad_change_is_refused_and_nothing_is_written(
        cli_env: dict[str, str], cli_engine: Engine, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], args: list[str], code: int, words: str) -> None:
    _three_items(monkeypatch, cli_env)
    capsys.readouterr()
    before = ([i.model_dump() for i in items(cli_engine)], len(outbox(cli_engine)))
    if args[0] != "list" and "--actor" not in args:
        args = [*args, "--actor", LIAISON]
    exit_code = in_process(["planning", *args])
    one_dutch_line(exit_code, capsys.readouterr().err, code, words)
    assert ([i.model_dump() for i in items(cli_engine)], len(outbox(cli_engine))) == before


# --- start --planned -----------------------------------------------------------------------


def trajectories(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(Trajectory)).one())


def test_start_planned_links_the_request_to_the_new_trajectory(cli_env: dict[str, str],
                                                               cli_engine: Engine) -> None:
    assert run(cli_env, *ADD).returncode == 0
    started = run(cli_env, "start", "asked_advice", "--org", "demo", "--title", "Beleidsplan",
                  "--actor", SECRETARIAT, "--set", f"policy_adviser={ADVISER}", "--planned", "1",
                  "--json")
    assert started.returncode == 0, started.stderr
    tid = json.loads(started.stdout)["id"]
    [item] = items(cli_engine)
    assert (item.status, item.trajectory_id, item.version) == ("started", tid, 2)
    assert json.loads(run(cli_env, "planning", "list", "--json").stdout) == []


ASKED = ("asked_advice", "--set", f"policy_adviser={ADVISER}")


@pytest.mark.parametrize(("start", "planned", "code", "words"), [
    (ASKED, "2", 3, "Verzoek 2 is geschrapt"),
    (ASKED, "3", 3, "Verzoek 3 is al gestart"),
    (ASKED, "4", 2, "Verzoek 4 staat niet in de planning van deze organisatie"),
    (ASKED, "0", 2, "Verzoek 0 bestaat niet"),
    (ASKED, "-1", 2, "Verzoek -1 bestaat niet"),
    (ASKED, "een", 2, "een"),
    (("unasked_advice",), "5", 2, "Verzoek 5 staat in de planning met de stroom 'asked_advice'"),
])
def test_start_planned_refuses_and_starts_nothing(
        cli_env: dict[str, str], cli_engine: Engine, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], start: tuple[str, ...], planned: str, code: int,
        words: str) -> None:
    _three_items(monkeypatch, cli_env)  # 1 planned, 2 cancelled, 3 started
    assert advies(monkeypatch, cli_env, "planning", "add", "--org", "demo-md", "--title", "Elders",
                  "--expected", "2026-06-01", "--policy-adviser", MD_ADVISER, "--actor", MD_LIAISON) == 0
    assert advies(monkeypatch, cli_env, *ADD) == 0  # 5, expected as asked_advice
    capsys.readouterr()
    before = ([i.model_dump() for i in items(cli_engine)], trajectories(cli_engine), len(outbox(cli_engine)))
    exit_code = in_process(["start", start[0], "--org", "demo", "--title", "Iets", "--actor", SECRETARIAT,
                            *start[1:], "--planned", planned])
    one_dutch_line(exit_code, capsys.readouterr().err, code, words)
    after = ([i.model_dump() for i in items(cli_engine)], trajectories(cli_engine), len(outbox(cli_engine)))
    assert after == before


# --- the reminder, on a moving clock -------------------------------------------------------


def _planned(service: Service, title: str, expected: str, **extra: Any) -> int:
    return int(planning.add(service, "demo", title, expected, ADVISER, extra.get("flow"), LIAISON)["id"])


def test_the_reminder_goes_three_weeks_ahead_once_to_liaison_and_adviser(
        service: Service, clock: FrozenClock, settings: Settings, sqlite_engine: Engine) -> None:
    item = _planned(service, "Beleidsplan", "2026-05-12")  # a Tuesday: reminder on 21 April
    started = _planned(service, "Gestart", "2026-05-12", flow="asked_advice")
    cancelled = _planned(service, "Geschrapt", "2026-05-12")
    service.start("asked_advice", "demo", "Gestart", SECRETARIAT,
                  {"policy_adviser": ADVISER, "received_on": "2026-03-24"}, planned=started)
    planning.cancel(service, cancelled, LIAISON)
    worker = Worker(settings, engine=sqlite_engine, clock=clock)

    clock.set(at(date(2026, 4, 20), 23, 59))  # 22 days before
    report = worker.once()
    assert report.planning is not None
    assert (report.planning.items, report.planning.mails) == (0, 0)
    assert reminders(sqlite_engine) == []

    clock.set(at(date(2026, 4, 21), 0, 1))  # 21 days before, just after midnight in Amsterdam
    report = worker.once()
    assert report.planning is not None
    assert (report.planning.items, report.planning.mails, report.planning.failed) == (1, 2, 0)
    assert "Planning: herinnering gestuurd voor 1 verwachte aanvraag (2 mails)." in summary(report)
    assert reminders(sqlite_engine) == sorted([LIAISON, ADVISER])
    mail = next(m for m in outbox(sqlite_engine) if m.template == "planning_reminder")
    assert mail.subject == 'Verwacht op dinsdag 12 mei 2026: "Beleidsplan"'
    assert "Er is nog geen traject voor gestart." in plain(mail)
    [row] = [i for i in items(sqlite_engine) if i.id == item]
    assert row.reminded_at is not None

    clock.advance(timedelta(minutes=1))
    assert worker.once().planning.mails == 0  # type: ignore[union-attr]
    second = Worker(settings, engine=sqlite_engine, clock=clock)
    clock.advance(timedelta(days=2))
    assert second.once().planning.mails == 0  # type: ignore[union-attr]
    assert reminders(sqlite_engine) == sorted([LIAISON, ADVISER])


def test_two_workers_at_once_send_the_reminder_once(clock: FrozenClock, settings: Settings,
                                                    any_engine: Engine) -> None:
    service = Service(any_engine, settings, clock)
    for number in range(5):
        _planned(service, f"Verzoek {number}", "2026-04-01")  # within three weeks: due now
    workers = [Worker(settings, engine=any_engine, clock=clock) for _ in range(2)]
    start = threading.Barrier(2)
    reports: list[planning.ReminderReport] = []

    def remind(worker: Worker) -> None:
        start.wait()
        reports.append(planning.send_reminders(worker.service))

    threads = [threading.Thread(target=remind, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r.items for r in reports) == 5
    assert sum(r.failed for r in reports) == 0
    assert len(reminders(any_engine)) == 10  # liaison and adviser, for each of the five


def test_a_moved_date_moves_the_reminder(service: Service, clock: FrozenClock, settings: Settings,
                                         sqlite_engine: Engine) -> None:
    near = _planned(service, "Dichtbij", "2026-04-08")
    far = _planned(service, "Verder", "2026-04-08")
    worker = Worker(settings, engine=sqlite_engine, clock=clock)
    assert worker.once().planning.items == 2  # type: ignore[union-attr]
    # six days later, still within three weeks: the reminder sent stands; three months later:
    # a new one is due three weeks before the new date
    planning.edit(service, near, LIAISON, planning.Changes(expected="2026-04-14"))
    planning.edit(service, far, LIAISON, planning.Changes(expected="2026-07-01"))
    rows = {i.id: i for i in items(sqlite_engine)}
    assert rows[near].reminded_at is not None
    assert (rows[far].reminded_at, rows[far].remind_on) == (None, date(2026, 6, 10))
    clock.set(at(date(2026, 6, 9), 12))
    assert worker.once().planning.items == 0  # type: ignore[union-attr]
    clock.set(at(date(2026, 6, 10), 8))
    assert worker.once().planning.items == 1  # type: ignore[union-attr]
    assert len(reminders(sqlite_engine)) == 6


def test_the_reminder_look_up_reads_only_the_index(sqlite_engine: Engine) -> None:
    statement = planning.due_for_reminder_query(date(2026, 4, 21))
    compiled = statement.compile(sqlite_engine, compile_kwargs={"literal_binds": True})
    with sqlite_engine.connect() as connection:
        plan = " ".join(str(row[-1]) for row in connection.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
    assert "USING COVERING INDEX ix_planning_item_reminder" in plan, plan
    assert "SCAN" not in plan.replace("USING COVERING INDEX", ""), plan
