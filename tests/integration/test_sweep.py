"""The deadline sweep: expiry events, reminders and alerts, each exactly once, in due order.

The clock is a FrozenClock moved by the tests; the sweep runs as the worker would run it.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, update
from sqlmodel import Session, select

from app import org_file
from app.service import Service
from app.sweep import Sweep, SweepReport
from engine.atw_calendar import default_calendar
from engine.clock import AMSTERDAM, FrozenClock
from engine.errors import InvalidInput
from engine.reminders import Schedule, due_steps, parse_steps, reminders_of, steps_of
from storage.tables import DeadlineRow, DeadlineStep, HistoryEntry, OutboxMessage, Trajectory
from tests.conftest import DEMO_ORG, make_settings
from tests.helpers import LIAISON, MEMBERS, SECRETARIAT, member, outbox, start, to_awaiting_response

ALERTS = ("deadline_reminder", "deadline_overdue", "call/reminder")
CAL = default_calendar()


def at(day: date, hour: int = 7) -> datetime:
    return datetime.combine(day, time(hour), AMSTERDAM)


def sweep_at(service: Service, clock: FrozenClock, day: date, hour: int = 7) -> SweepReport:
    clock.set(at(day, hour))
    return Sweep(service).run()


def sweep_days(service: Service, clock: FrozenClock, first: date, last: date) -> None:
    day = first
    while day <= last:
        sweep_at(service, clock, day)
        day += timedelta(days=1)


def deadline(engine: Engine, tid: int, name: str) -> DeadlineRow:
    with Session(engine) as session:
        rows = session.exec(select(DeadlineRow).where(DeadlineRow.trajectory_id == tid,
                                                      DeadlineRow.name == name)
                            .order_by(DeadlineRow.id)).all()
        return rows[-1]


def alerts(engine: Engine, tid: int | None = None) -> list[OutboxMessage]:
    return [m for m in outbox(engine, tid) if m.template in ALERTS]


def done_steps(engine: Engine, deadline_id: int) -> list[DeadlineStep]:
    with Session(engine) as session:
        return list(session.exec(select(DeadlineStep).where(
            DeadlineStep.deadline_id == deadline_id, DeadlineStep.status == "done")
            .order_by(DeadlineStep.id)).all())


def workdays(day: date, count: int) -> date:
    """Independent of the code under test: `count` working days after (before, if < 0) `day`."""
    step = timedelta(days=1 if count > 0 else -1)
    for _ in range(abs(count)):
        day += step
        while not CAL.is_working_day(day):
            day += step
    return day


# --- the schedule, pure ----------------------------------------------------------------------------


def test_default_steps_skip_easter_and_repeat_weekly() -> None:
    schedule = Schedule(due=date(2026, 4, 7), started_on=date(2026, 3, 1), expires=False,
                        offsets=steps_of(None))
    found = [(s.id, s.due_on) for s in due_steps(schedule, date(2026, 4, 30))]
    assert found == [
        ("before-5wd", date(2026, 3, 27)),  # Good Friday and Easter Monday are no working days
        ("on-day", date(2026, 4, 7)),
        ("overdue-4", date(2026, 4, 29)),  # only the latest overdue alert: no flood when catching up
    ]
    weekly = {s.id: s.due_on for day in range(8, 30) for s in due_steps(schedule, date(2026, 4, day))
              if s.kind == "overdue"}
    assert weekly == {"overdue-1": date(2026, 4, 8), "overdue-2": date(2026, 4, 15),
                      "overdue-3": date(2026, 4, 22), "overdue-4": date(2026, 4, 29)}


def test_a_short_term_gets_no_reminder_before_it_began() -> None:
    schedule = Schedule(due=date(2026, 4, 7), started_on=date(2026, 4, 2), expires=True,
                        offsets=steps_of(None))
    assert [s.id for s in due_steps(schedule, date(2026, 4, 30))] == ["on-day"]


def test_the_call_reminder_is_declared_by_the_flow() -> None:
    from flows.asked_advice import FLOW

    spec = next(d for d in FLOW.deadlines if d.name == "signup_closes")
    assert [r.name for r in reminders_of(spec)] == ["call_reminder"]


@pytest.mark.parametrize(("steps", "message"), [
    (["-5x"], "Onbekende stap '-5x'"),
    (["+1wd", "+2wd"], "Er mag één stap na het einde zijn"),
    (["0", "0"], "De stap '0' staat er twee keer in."),
    (["-31wd"], "1 tot en met 30"),
])
def test_bad_steps_are_refused_in_dutch(steps: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_steps(steps)


def test_the_organisation_file_takes_reminder_steps(sqlite_engine: Engine, tmp_path: Path) -> None:
    text = DEMO_ORG.read_text().replace('recess = ["07-01", "08-31"]',
                                        'recess = ["07-01", "08-31"]\nreminders = ["-3wd", "0", "+2d"]')
    path = tmp_path / "org.toml"
    path.write_text(text)
    org_file.load(sqlite_engine, path)
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace('"+2d"', '"morgen"'))
    line = text.splitlines().index('reminders = ["-3wd", "0", "+2d"]') + 1
    with pytest.raises(InvalidInput, match=f"regel {line}: 'reminders': Onbekende stap 'morgen'"):
        org_file.load(sqlite_engine, bad)


# --- expiry and reminders on one trajectory ------------------------------------------------------


def test_the_signup_window_runs_out_at_the_end_of_its_day(service: Service, clock: FrozenClock,
                                                           sqlite_engine: Engine) -> None:
    tid = int(start(service)["id"])
    service.fire(tid, "call_participants", SECRETARIAT)
    due = deadline(sqlite_engine, tid, "signup_closes").due
    assert due == date(2026, 4, 7)  # 10 days = Good Friday, rolled past Easter Monday
    clock.set(datetime.combine(due, time(23, 59), AMSTERDAM))
    assert Sweep(service).run().expired == 0
    clock.set(datetime.combine(due + timedelta(days=1), time(0, 1), AMSTERDAM))
    assert Sweep(service).run().expired == 1
    assert Sweep(service).run().expired == 0
    view = service.show(tid)
    assert view["state"] == "understaffed"
    last = view["history"][-1]
    assert (last["event"], last["actor"], last["to"]) == ("close_signup", "systeem", "understaffed")
    assert "liep af op 07-04-2026" in last["note"]
    assert deadline(sqlite_engine, tid, "signup_closes").status == "expired"


def test_members_who_have_not_answered_get_one_call_reminder(service: Service, clock: FrozenClock,
                                                              sqlite_engine: Engine) -> None:
    tid = int(start(service)["id"])
    service.fire(tid, "call_participants", SECRETARIAT)
    service.fire(tid, "sign_up", member("anna"))
    service.fire(tid, "sign_up", member("bram"))
    service.fire(tid, "withdraw_signup", member("bram"))  # bram answered: no
    reminder_day = workdays(date(2026, 4, 7), -2)
    assert reminder_day == date(2026, 4, 1)
    sweep_days(service, clock, date(2026, 3, 25), reminder_day - timedelta(days=1))
    assert [m for m in alerts(sqlite_engine, tid) if "call_reminder" in m.template] == []
    for hour in (7, 12, 18):  # the sweep runs many times a day
        sweep_at(service, clock, reminder_day, hour)
    reminders = [m for m in alerts(sqlite_engine, tid) if m.template == "call/reminder"]
    assert sorted(m.recipient for m in reminders) == sorted(member(n) for n in MEMBERS[2:])
    assert all(b"/antwoord/" in m.raw for m in reminders)  # each with a personal answer link
    assert {m.subject for m in reminders} == {'Herinnering: doe je mee met "Regiovisie beschermd wonen"?'}


def test_the_response_term_alerts_the_liaison_and_the_secretariat(
        service: Service, clock: FrozenClock, sqlite_engine: Engine) -> None:
    tid = to_awaiting_response(service, clock)
    row = deadline(sqlite_engine, tid, "response_due")
    sweep_days(service, clock, clock.now().date(), row.due + timedelta(days=17))
    clock.set(at(row.due + timedelta(days=18), 10))
    service.fire(tid, "record_response", SECRETARIAT,
                 {"received_on": clock.now().date().isoformat(), "document": "Reactie."})
    sweep_days(service, clock, row.due + timedelta(days=18), row.due + timedelta(days=60))
    sent = alerts(sqlite_engine, tid)
    assert Counter(m.recipient for m in sent) == {LIAISON: 5, SECRETARIAT: 5}
    subjects = [m.subject for m in sent if m.recipient == LIAISON]
    assert all('"Regiovisie beschermd wonen"' in s for s in subjects)  # every alert names it
    assert [s.split(":")[0] for s in subjects] == ["Herinnering", "Laatste dag", "Verlopen", "Verlopen",
                                                   "Verlopen"]
    assert [s.step for s in done_steps(sqlite_engine, row.id or 0)] == [
        "before-5wd", "on-day", "overdue-1", "overdue-2", "overdue-3"]
    assert deadline(sqlite_engine, tid, "response_due").steps_done == [
        "before-5wd", "on-day", "overdue-1", "overdue-2", "overdue-3"]


# --- a simulated year ------------------------------------------------------------------------------

class Life:
    """What trajectory k does on a day, by its state: every 4th is understaffed, the odd ones
    advise late, a third answers on time, a third late and a third never; one is suspended for
    three weeks and one is extended."""

    def __init__(self, service: Service, k: int, day: date) -> None:
        self.service, self.k, self.began = service, k, day
        self.tid = int(start(service, received_on=day.isoformat())["id"])
        self.title = f"Traject {k}"
        self.sent_on: date | None = None
        self.state_known = "calling"
        service.fire(self.tid, "call_participants", SECRETARIAT)

    def fire(self, event: str, actor: str = SECRETARIAT, **raw: str) -> None:
        self.service.fire(self.tid, event, actor, dict(raw))

    def state(self) -> str:
        with Session(self.service.engine) as session:
            row = session.get(Trajectory, self.tid)
            assert row is not None
            return row.state

    def day(self, today: date) -> bool:
        """Do today's work; True when something happened."""
        state = self.state() if self.state_known != "monitoring" else "monitoring"
        self.state_known = state
        if today == self.began + timedelta(days=1):
            for name in MEMBERS[:2 if self.k % 4 == 1 else 6]:
                self.fire("sign_up", member(name))
        elif state == "understaffed":
            self.fire("proceed_anyway", reason="we beginnen klein")
        elif state == "matching":
            self.fire("first_meeting_held")
            self.fire("choose_contact", contact_person=member("bram"))
            self.fire("consultation_done", member("bram"))
        elif state == "advising" and today >= self.began + timedelta(days=30 if self.k % 2 == 0 else 50):
            self.fire("send_advice", member("bram"), document="Ons advies.")
            self.sent_on = today
        elif state == "awaiting_response":
            return self._awaiting((today - (self.sent_on or today)).days, today)
        else:
            return False
        return True

    def _awaiting(self, days: int, today: date) -> bool:
        respond_after = {0: 20, 1: 60, 2: None}[self.k % 3]
        if self.k == 5 and days in (10, 31):
            self.fire("suspend" if days == 10 else "resume")
        elif self.k == 4 and days == 45:
            self.fire("extend", deadline="response_due", extra="2w", reason="college vraagt uitstel")
        elif respond_after is not None and days == respond_after:
            self.fire("record_response", received_on=today.isoformat(), document="Reactie.")
        else:
            return False
        return True


def _expected(row: DeadlineRow, last_day: date) -> list[tuple[str, date]]:
    """Every step this deadline should have had, computed apart from the code under test."""
    end = row.closed_on or last_day
    found = [("before-5wd", workdays(row.due, -5)), ("on-day", row.due)]
    if row.name == "signup_closes":
        found.append(("call_reminder", workdays(row.due, -2)))
    found = [(step, day) for step, day in found if row.started_on <= day <= end]
    if row.on_expiry is None:
        day, number = workdays(row.due, 1), 1
        while day <= end:
            found.append((f"overdue-{number}", day))
            day, number = day + timedelta(days=7), number + 1
    return sorted(found, key=lambda item: item[1])


def test_a_simulated_year_sends_every_step_exactly_once(service: Service, clock: FrozenClock,
                                                        sqlite_engine: Engine) -> None:
    first, last = date(2026, 1, 5), date(2027, 1, 4)
    lives: list[Life] = []
    day = first
    while day <= last:
        sweep_at(service, clock, day, 7)
        clock.set(at(day, 10))
        busy = [life.day(day) for life in lives]
        if (day - first).days % 42 == 0 and len(lives) < 8:
            lives.append(Life(service, len(lives), day))
            busy.append(True)
        if any(busy):  # the worker sweeps all day: what became due today goes today
            sweep_at(service, clock, day, 18)
        day += timedelta(days=1)

    with Session(sqlite_engine) as session:
        rows = session.exec(select(DeadlineRow).order_by(DeadlineRow.id)).all()
        history = session.exec(select(HistoryEntry).where(HistoryEntry.actor == "systeem")).all()
    moved = [r for r in rows if "Verlengd" in r.explanation or "Hervat" in r.explanation]
    assert len(moved) == 2  # the suspended and the extended one: checked by the tests below
    checked = 0
    for row in rows:
        steps = done_steps(sqlite_engine, row.id or 0)
        assert len({(s.step, s.for_due) for s in steps}) == len(steps)
        if row in moved:
            continue
        assert [(s.step, s.due_on) for s in steps] == _expected(row, last), row.name
        assert all(s.done_at is not None and s.done_at.astimezone(AMSTERDAM).date() == s.due_on
                   for s in steps)  # sent on the day it was due
        checked += len(steps)
    assert checked > 60
    with Session(sqlite_engine) as session:
        kinds = {(r.name, s.step) for s in session.exec(select(DeadlineStep)).all()
                 for r in rows if r.id == s.deadline_id}
    assert {("advice_due", "overdue-2"), ("signup_closes", "call_reminder"), ("response_due", "overdue-3"),
            ("follow_up", "before-5wd"), ("follow_up", "on-day")} <= kinds

    sent = alerts(sqlite_engine)
    keys = Counter((m.trajectory_id, m.recipient, m.subject) for m in sent)
    assert [k for k, n in keys.items() if n > 1] == []
    with Session(sqlite_engine) as session:
        assert len(sent) == sum(s.mails for s in session.exec(select(DeadlineStep)).all())

    signup_rows = [r for r in rows if r.name == "signup_closes"]
    assert {r.status for r in signup_rows} == {"expired"}
    assert Counter(h.trajectory_id for h in history) == {r.trajectory_id: 1 for r in signup_rows}
    assert {h.event for h in history} == {"close_signup"}
    never = [r for r in rows if r.name == "response_due" and r.closed_on is None and r.due < last]
    assert never
    assert {r.status for r in never} == {"overdue"}


# --- catch-up, suspension, extension -----------------------------------------------------------


def test_after_a_week_down_the_sweep_catches_up_in_due_order(any_engine: Engine, tmp_path: Path,
                                                             clock: FrozenClock) -> None:
    text = DEMO_ORG.read_text().replace('recess = ["07-01", "08-31"]',
                                        'recess = ["07-01", "08-31"]\nreminders = ["-3wd", "0", "+1wd"]')
    (tmp_path / "org.toml").write_text(text)
    org_file.load(any_engine, tmp_path / "org.toml")
    service = Service(any_engine, make_settings("unused", tmp_path), clock)
    answering = to_awaiting_response(service, clock)
    assert deadline(any_engine, answering, "response_due").due == date(2026, 5, 8)
    sweep_days(service, clock, date(2026, 3, 28), date(2026, 4, 27))
    clock.set(at(date(2026, 4, 28), 10))
    calling = int(start(service, received_on="2026-04-28")["id"])
    service.fire(calling, "call_participants", SECRETARIAT)
    assert deadline(any_engine, calling, "signup_closes").due == date(2026, 5, 8)
    sweep_days(service, clock, date(2026, 4, 28), date(2026, 5, 3))
    assert alerts(any_engine) == []
    report = sweep_at(service, clock, date(2026, 5, 11))  # down from 4 to 10 May
    assert (report.steps, report.expired, report.failed) == (6, 1, 0)
    count = len(outbox(any_engine))
    assert sweep_at(service, clock, date(2026, 5, 11), 8).steps == 0
    assert len(outbox(any_engine)) == count

    due_on = {(answering, "Herinnering"): date(2026, 5, 4), (calling, "Herinnering"): date(2026, 5, 4),
              (calling, "Laatste dag"): date(2026, 5, 8), (answering, "Laatste dag"): date(2026, 5, 8),
              (answering, "Verlopen"): date(2026, 5, 11)}
    sent = [m for m in alerts(any_engine) if m.template != "call/reminder"]
    order = [due_on[(m.trajectory_id or 0, m.subject.split(":")[0])] for m in sent]
    assert order == sorted(order)
    assert len(sent) == 2 * 3 + 1 * 2  # liaison and secretariat for the response; secretariat for the call
    assert deadline(any_engine, answering, "response_due").steps_done == ["before-3wd", "on-day", "overdue-1"]
    assert deadline(any_engine, calling, "signup_closes").steps_done == [
        "before-3wd", "call_reminder", "on-day"]
    assert deadline(any_engine, calling, "signup_closes").status == "expired"
    assert service.show(calling)["state"] == "understaffed"


def test_a_suspended_deadline_sends_nothing(service: Service, clock: FrozenClock,
                                            sqlite_engine: Engine) -> None:
    tid = to_awaiting_response(service, clock)
    service.fire(tid, "suspend", SECRETARIAT, {"reason": "wachten op de raad"})
    first = clock.now().date()
    sweep_days(service, clock, first, first + timedelta(days=70))
    assert alerts(sqlite_engine, tid) == []
    row = deadline(sqlite_engine, tid, "response_due")
    assert (row.status, done_steps(sqlite_engine, row.id or 0)) == ("suspended", [])
    clock.set(at(first + timedelta(days=70), 10))
    service.fire(tid, "resume", SECRETARIAT)
    moved = deadline(sqlite_engine, tid, "response_due")
    assert moved.due > row.due
    sweep_days(service, clock, first + timedelta(days=71), workdays(moved.due, 1))
    assert [s.step for s in done_steps(sqlite_engine, moved.id or 0)] == ["before-5wd", "on-day", "overdue-1"]


def test_an_extended_deadline_gets_fresh_steps(service: Service, clock: FrozenClock,
                                               sqlite_engine: Engine) -> None:
    tid = to_awaiting_response(service, clock)
    old = deadline(sqlite_engine, tid, "response_due")
    overdue_day = workdays(old.due, 1)
    sweep_days(service, clock, clock.now().date(), overdue_day)
    clock.set(at(overdue_day, 10))
    service.fire(tid, "extend", SECRETARIAT, {"deadline": "response_due", "until": "2026-06-26",
                                               "reason": "college vraagt uitstel"})
    sweep_days(service, clock, overdue_day, date(2026, 6, 29))
    with Session(sqlite_engine) as session:
        steps = session.exec(select(DeadlineStep).where(DeadlineStep.deadline_id == old.id)
                             .order_by(DeadlineStep.id)).all()
    assert [(s.step, s.for_due.isoformat(), s.status) for s in steps] == [
        ("before-5wd", "2026-05-08", "done"), ("on-day", "2026-05-08", "done"),
        ("overdue-1", "2026-05-08", "done"),
        ("before-5wd", "2026-06-26", "done"), ("on-day", "2026-06-26", "done"),
        ("overdue-1", "2026-06-26", "done"),
    ]
    assert deadline(sqlite_engine, tid, "response_due").steps_done == ["before-5wd", "on-day", "overdue-1"]
    subjects = [m.subject for m in alerts(sqlite_engine, tid) if m.recipient == LIAISON]
    assert len(subjects) == len(set(subjects)) == 6


# --- one broken trajectory never stops the sweep -----------------------------------------------------


def calling(service: Service, count: int) -> list[int]:
    """`count` new trajectories whose call for participants went out."""
    tids = [int(start(service)["id"]) for _ in range(count)]
    for tid in tids:
        service.fire(tid, "call_participants", SECRETARIAT)
    return tids


def test_a_broken_trajectory_is_skipped_and_the_others_still_fire(
        any_engine: Engine, tmp_path: Path, clock: FrozenClock, caplog: pytest.LogCaptureFixture) -> None:
    service = Service(any_engine, make_settings("unused", tmp_path), clock)
    unknown_flow, bad_data, healthy = calling(service, 3)
    with Session(any_engine) as session:
        session.execute(update(Trajectory).where(Trajectory.id == unknown_flow)
                        .values(flow="vergeten_stroom"))
        session.execute(update(Trajectory).where(Trajectory.id == bad_data)
                        .values(data={"received_on": "2026-03-24", "signups": 5}))
        session.commit()
    caplog.set_level(logging.INFO, logger="advies.sweep")
    failed = 0
    day = date(2026, 3, 25)
    while day <= date(2026, 4, 9):
        failed += sweep_at(service, clock, day).failed
        day += timedelta(days=1)
    assert service.show(healthy)["state"] == "understaffed"
    assert deadline(any_engine, healthy, "signup_closes").steps_done == ["before-5wd", "call_reminder",
                                                                          "on-day"]
    for broken in (unknown_flow, bad_data):
        assert deadline(any_engine, broken, "signup_closes").status == "running"
        assert [h["event"] for h in service.show(healthy)["history"]].count("close_signup") == 1
    assert alerts(any_engine, unknown_flow) == []
    assert failed >= 2
    messages = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any(f"Traject {unknown_flow}," in m for m in messages)
    assert any(f"Traject {bad_data}," in m for m in messages)
    assert not any("@" in m for m in messages)  # ids in the log, no e-mail addresses


def test_a_broken_trajectory_between_others_leaves_each_of_them_closed_once(
        any_engine: Engine, tmp_path: Path, clock: FrozenClock) -> None:
    """The others of the batch are closed once, also those handled before the broken one (on
    SQLite a batch is first tried in one savepoint, then again item by item)."""
    service = Service(any_engine, make_settings("unused", tmp_path), clock)
    tids = calling(service, 5)
    sweep_days(service, clock, date(2026, 3, 25), date(2026, 4, 7))  # the call's reminders
    broken = tids[2]
    with Session(any_engine) as session:
        session.execute(update(Trajectory).where(Trajectory.id == broken).values(flow="vergeten_stroom"))
        session.commit()
    report = sweep_at(service, clock, date(2026, 4, 8))
    assert (report.expired, report.failed) == (4, 1)
    for tid in tids:
        told = [m for m in outbox(any_engine, tid) if m.template == "asked_advice/understaffed"]
        assert len(told) == (0 if tid == broken else 1)
        if tid != broken:
            history = [h["event"] for h in service.show(tid)["history"]]
            assert history.count("close_signup") == 1
    assert deadline(any_engine, broken, "signup_closes").status == "running"
