"""The sweep's batch writes its events' rows together (app.writer.deferred_writes), on SQLite
and PostgreSQL: the same rows as event by event, and a batch whose writes fail is redone event
by event."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import Engine, insert, select
from sqlmodel import Session

from app.service import Service
from engine.clock import FrozenClock
from storage.tables import DeadlineRow, HistoryEntry
from tests.conftest import make_settings
from tests.helpers import SECRETARIAT, outbox
from tests.integration.test_sweep import calling, deadline, sweep_at, sweep_days

UNDERSTAFFED = "asked_advice/understaffed"


def closed_once(service: Service, engine: Engine, tid: int) -> None:
    assert service.show(tid)["state"] == "understaffed"
    assert [h["event"] for h in service.show(tid)["history"]].count("close_signup") == 1
    told = [m for m in outbox(engine, tid) if m.template == UNDERSTAFFED]
    assert [m.recipient for m in told] == [SECRETARIAT]


def test_a_batch_writes_every_event_of_it_once(any_engine: Engine, tmp_path: Path,
                                               clock: FrozenClock) -> None:
    service = Service(any_engine, make_settings("unused", tmp_path), clock)
    tids = calling(service, 4)
    sweep_days(service, clock, date(2026, 3, 25), date(2026, 4, 7))
    report = sweep_at(service, clock, date(2026, 4, 8))
    assert (report.expired, report.failed) == (4, 0)
    for tid in tids:
        closed_once(service, any_engine, tid)
        assert deadline(any_engine, tid, "signup_closes").status == "expired"
    with Session(any_engine) as session:
        fired = session.execute(select(HistoryEntry.trajectory_id).where(
            HistoryEntry.event == "close_signup").order_by(HistoryEntry.id)).scalars().all()
    assert list(fired) == sorted(tids)  # in the batch's order, one each
    assert sweep_at(service, clock, date(2026, 4, 9)).expired == 0  # nothing fires twice


def test_two_expiries_of_one_trajectory_in_a_batch_fire_once(any_engine: Engine, tmp_path: Path,
                                                             clock: FrozenClock) -> None:
    """The second expiry reads the trajectory as the first left it: the batch's
    version check finds it moved, and the batch is redone event by event, where the second
    expiry is refused (the trajectory left `calling`). The others are closed once."""
    service = Service(any_engine, make_settings("unused", tmp_path), clock)
    first, doubled, last = calling(service, 3)
    sweep_days(service, clock, date(2026, 3, 25), date(2026, 4, 7))
    signup = deadline(any_engine, doubled, "signup_closes")
    with Session(any_engine) as session:
        session.execute(insert(DeadlineRow).values(
            trajectory_id=doubled, organisation_id=signup.organisation_id, name="signup_again",
            label=signup.label, due=signup.due, explanation="",
            alert_roles=[], on_expiry="close_signup", atw=True, started_on=signup.started_on,
            steps_done=[]))
        session.commit()
    report = sweep_at(service, clock, date(2026, 4, 8))
    assert (report.expired, report.failed) == (3, 1)
    for tid in (first, doubled, last):
        closed_once(service, any_engine, tid)
    assert deadline(any_engine, doubled, "signup_again").status == "running"
