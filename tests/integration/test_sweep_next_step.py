"""The sweep stores each deadline's next step day and plans only the deadlines whose day has
come; it claims and handles its items in batches, one transaction per batch."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

from sqlalchemy import Engine, event
from sqlmodel import Session, select

from app import org_file
from app.org_edit import set_recess_and_reminders
from app.service import Service
from app.sweep import Sweep
from app.sweep_claims import CLAIM_BATCH
from engine.clock import AMSTERDAM, FrozenClock
from engine.reminders import LOOKAHEAD, NEVER
from storage.tables import DeadlineRow, DeadlineStep
from tests.conftest import make_settings
from tests.helpers import SECRETARIAT, start
from tests.integration.test_sweep_pg_workers import BULK_ORG, bulk_calling


def at(day: date, hour: int = 7) -> datetime:
    return datetime.combine(day, time(hour), AMSTERDAM)


def rows(engine: Engine) -> dict[int, DeadlineRow]:
    with Session(engine) as session:
        return {r.id or 0: r for r in session.exec(select(DeadlineRow)).all()}


def steps(engine: Engine, deadline_id: int) -> list[tuple[str, date, str]]:
    with Session(engine) as session:
        found = session.exec(select(DeadlineStep).where(DeadlineStep.deadline_id == deadline_id)
                             .order_by(DeadlineStep.id)).all()
        return [(s.step, s.for_due, s.status) for s in found]


def test_each_deadline_stores_its_next_step_day(any_engine: Engine, tmp_path: Path,
                                                clock: FrozenClock) -> None:
    service = Service(any_engine, make_settings("unused", tmp_path), clock)
    near = int(start(service)["id"])
    service.fire(near, "call_participants", SECRETARIAT)  # sign-up window ends 7 April
    (tmp_path / "bulk.toml").write_text(BULK_ORG)
    org_file.load(any_engine, tmp_path / "bulk.toml")
    far_due = date(2026, 12, 1)
    bulk_calling(any_engine, 3, far_due, org_slug="bulk")  # written without a next step day
    assert {r.next_step_on for r in rows(any_engine).values()} == {None}

    clock.set(at(date(2026, 3, 25)))
    assert Sweep(service).run().planned == 0
    stored = {r.name if r.due != far_due else "far": r.next_step_on for r in rows(any_engine).values()}
    assert stored == {"signup_closes": date(2026, 3, 27),  # 5 working days before 7 April
                      "advice_due": stored["advice_due"], "far": far_due - LOOKAHEAD}

    clock.set(at(date(2026, 3, 27)))
    report = Sweep(service).run()
    assert (report.planned, report.steps) == (1, 1)
    call = next(r for r in rows(any_engine).values() if r.trajectory_id == near and r.name == "signup_closes")
    assert call.next_step_on == date(2026, 4, 1)  # the call reminder: 2 working days before, Easter
    assert Sweep(service).run().planned == 0  # the same day again: nothing read, nothing planned


def test_a_moved_end_gets_its_steps_again(service: Service, clock: FrozenClock,
                                          sqlite_engine: Engine) -> None:
    tid = int(start(service)["id"])
    service.fire(tid, "call_participants", SECRETARIAT)
    clock.set(at(date(2026, 4, 7)))
    Sweep(service).run()  # the last day of the call: every step sent, none left
    call = next(r for r in rows(sqlite_engine).values() if r.name == "signup_closes")
    assert call.next_step_on == NEVER
    clock.set(at(date(2026, 4, 7), 10))
    service.fire(tid, "extend", SECRETARIAT, {"deadline": "signup_closes", "until": "2026-04-14",
                                               "reason": "meer tijd voor aanmelden"})
    assert rows(sqlite_engine)[call.id or 0].next_step_on is None
    for day in (date(2026, 4, 8), date(2026, 4, 14)):
        clock.set(at(day))
        Sweep(service).run()
    moved = [s for s in steps(sqlite_engine, call.id or 0) if s[1] == date(2026, 4, 14)]
    assert [(step, status) for step, _, status in moved] == [
        ("before-5wd", "done"), ("call_reminder", "done"), ("on-day", "done")]


def test_a_sweep_commits_once_per_batch(any_engine: Engine, tmp_path: Path, clock: FrozenClock) -> None:
    (tmp_path / "bulk.toml").write_text(BULK_ORG)
    org_file.load(any_engine, tmp_path / "bulk.toml")
    count = 2 * CLAIM_BATCH + 5
    bulk_calling(any_engine, count, date(2026, 4, 7), org_slug="bulk")
    service = Service(any_engine, make_settings("unused", tmp_path), clock)
    commits = []
    event.listen(any_engine, "commit", lambda _conn: commits.append(1))
    clock.set(at(date(2026, 4, 8)))
    report = Sweep(service).run()
    assert (report.expired, report.failed) == (count, 0)
    # marks; a chunk of planning and the one that finds none left; the steps (none); three
    # batches of expiries and the claim that finds none left: not one commit per deadline
    assert len(commits) <= 1 + 2 + 1 + 3 + 1
    assert {r.status for r in rows(any_engine).values()} == {"expired"}


def test_new_reminder_steps_of_an_organisation_are_planned_again(service: Service, clock: FrozenClock,
                                                                  sqlite_engine: Engine) -> None:
    tid = int(start(service)["id"])
    service.fire(tid, "call_participants", SECRETARIAT)  # ends 7 April; -5wd is 27 March
    clock.set(at(date(2026, 3, 25)))
    assert Sweep(service).run().steps == 0
    # the secretariat sets new steps on the organisation page: 8 working days before is 24 March
    set_recess_and_reminders(service, "demo", {"recess": "geen", "reminders": "-8wd, 0"})
    report = Sweep(service).run()
    assert (report.planned, report.steps) == (1, 1)
    call = next(r for r in rows(sqlite_engine).values() if r.name == "signup_closes")
    assert [s[0] for s in steps(sqlite_engine, call.id or 0)] == ["before-8wd"]
