"""The liaison's Monday digest: 08:00 Amsterdam time through both DST changes, once a week."""

from __future__ import annotations

import email
import threading
from datetime import date, datetime, time, timedelta
from email import policy
from pathlib import Path

import pytest
from sqlalchemy import Engine, update
from sqlmodel import Session, select

from app import digest, org_file
from app.service import Service
from engine.clock import AMSTERDAM, FrozenClock
from settings import Settings
from storage.tables import DeadlineRow, DigestSent, OutboxMessage
from tests.conftest import DEMO_ORG, make_settings
from tests.helpers import LIAISON, SECRETARIAT, outbox, start, to_awaiting_response
from worker.main import Worker, digest_trigger

SPRING_MONDAY = date(2026, 3, 30)  # the day after clocks went to summer time
AUTUMN_MONDAY = date(2026, 10, 26)  # the day after clocks went back


def at(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute, second), AMSTERDAM)


def digests(engine: Engine) -> list[OutboxMessage]:
    return [m for m in outbox(engine) if m.template == "liaison_digest"]


def text_of(message: OutboxMessage) -> str:
    parsed = email.message_from_bytes(message.raw, policy=policy.default)
    body = parsed.get_body(("plain",))  # type: ignore[attr-defined]
    assert body is not None
    return str(body.get_content())


@pytest.mark.parametrize(("before", "monday", "offset"), [
    (datetime(2026, 3, 28, 12, tzinfo=AMSTERDAM), SPRING_MONDAY, timedelta(hours=2)),
    (datetime(2026, 10, 24, 12, tzinfo=AMSTERDAM), AUTUMN_MONDAY, timedelta(hours=1)),
])
def test_the_trigger_fires_mondays_at_eight_local_time(before: datetime, monday: date,
                                                       offset: timedelta) -> None:
    trigger = digest_trigger()
    fire = trigger.get_next_fire_time(None, before)
    assert fire is not None
    assert (fire.date(), fire.time(), fire.utcoffset()) == (monday, time(8, 0), offset)
    following = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    assert following == at(monday + timedelta(days=7), 8)


def test_the_trigger_keeps_eight_oclock_across_the_year() -> None:
    trigger = digest_trigger()
    fire = trigger.get_next_fire_time(None, at(date(2026, 1, 1), 0))
    seen = []
    while fire is not None and fire.year == 2026:
        seen.append(fire)
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    assert len(seen) == 52
    assert {(f.weekday(), f.astimezone(AMSTERDAM).time()) for f in seen} == {(0, time(8, 0))}
    assert [f.date() for f in seen[11:13]] == [date(2026, 3, 23), SPRING_MONDAY]
    assert (seen[11].utcoffset(), seen[12].utcoffset()) == (timedelta(hours=1), timedelta(hours=2))


def test_the_worker_schedules_the_digest_with_that_trigger(settings: Settings, sqlite_engine: Engine) -> None:
    worker = Worker(settings, engine=sqlite_engine)
    job = worker.scheduler().get_job("digest")
    assert job is not None
    assert str(job.trigger) == str(digest_trigger())
    assert job.trigger.get_next_fire_time(None, at(AUTUMN_MONDAY, 7, 59)) == at(AUTUMN_MONDAY, 8)


@pytest.mark.parametrize("monday", [SPRING_MONDAY, AUTUMN_MONDAY])
def test_the_digest_goes_at_eight_exactly_once(service: Service, clock: FrozenClock,
                                               sqlite_engine: Engine, monday: date) -> None:
    to_awaiting_response(service, clock)
    clock.set(at(monday, 7, 59, 59))
    assert digest.send_due(service).mails == 0
    assert digests(sqlite_engine) == []
    clock.set(at(monday, 8))
    report = digest.send_due(service)
    # one digest for each of the two demo organisations
    assert (report.week, report.organisations, report.mails) == (digest.week_key(monday), 2, 2)
    for later in (at(monday, 8), at(monday, 8, 1), at(monday + timedelta(days=3), 14)):
        clock.set(later)
        assert digest.send_due(service).mails == 0
    sent = [m for m in digests(sqlite_engine) if m.recipient == LIAISON]
    assert len(sent) == 1
    assert sent[0].created_at == at(monday, 8)
    assert sent[0].subject == (f"Termijnen week {monday.isocalendar()[1]}: "
                               "Adviesgroep Sociaal Domein Voorbeeldstad")
    clock.set(at(monday + timedelta(days=7), 8))
    assert digest.send_due(service).mails == 2


def test_a_worker_down_on_monday_sends_it_on_its_next_pass_that_week(
        service: Service, clock: FrozenClock, sqlite_engine: Engine) -> None:
    clock.set(at(date(2026, 4, 16), 11))  # Thursday
    assert digest.send_due(service).week == "2026-W16"
    assert len(digests(sqlite_engine)) == 2  # the two demo organisations
    clock.set(at(date(2026, 4, 19), 23, 59))  # Sunday night: still that week's, already sent
    assert digest.send_due(service).mails == 0
    with Session(sqlite_engine) as session:
        rows = session.exec(select(DigestSent)).all()
    assert [(r.week, r.mails) for r in rows] == [("2026-W16", 1), ("2026-W16", 1)]


def test_the_digest_lists_coming_and_overdue_deadlines_by_trajectory(
        service: Service, clock: FrozenClock, sqlite_engine: Engine, tmp_path: Path) -> None:
    other = DEMO_ORG.read_text().replace('slug = "demo"', 'slug = "elders"').replace(
        "Voorbeeldstad", "Elders")
    (tmp_path / "elders.toml").write_text(other)
    org_file.load(sqlite_engine, tmp_path / "elders.toml")
    answering = to_awaiting_response(service, clock)  # response_due 8 May 2026
    clock.set(at(date(2026, 4, 20), 10))
    calling = int(start(service, received_on="2026-04-20")["id"])
    service.fire(calling, "call_participants", SECRETARIAT)  # signup_closes 30 April
    elsewhere = int(service.start("asked_advice", "elders", "Elders: niet voor ons", SECRETARIAT,
                                  {"policy_adviser": "beleid@example.org"})["id"])
    with Session(sqlite_engine) as session:  # an advice term that ran out, still open
        session.execute(update(DeadlineRow).where(DeadlineRow.trajectory_id == calling,
                                                  DeadlineRow.name == "advice_due")
                        .values(due=date(2026, 4, 24), status="overdue"))
        session.commit()
    clock.set(at(date(2026, 4, 27), 8))
    assert digest.send_due(service).mails == 3  # one liaison in each of the three organisations
    mine = next(m for m in digests(sqlite_engine) if "Voorbeeldstad" in m.subject)
    body = text_of(mine)
    assert "Elders: niet voor ons" not in body
    assert body.index(f"(traject {calling})") < body.index(f"(traject {answering})")  # soonest first
    assert "- adviestermijn: VERLOPEN op vrijdag 24 april 2026 (3 dagen geleden)" in body
    assert "- aanmeldtermijn: loopt af op donderdag 30 april 2026" in body
    assert "10 dagen na de oproep op 20-04-2026" in body  # each with its explanation
    assert "- reactietermijn college: loopt af op vrijdag 8 mei 2026" in body
    assert "Verlopen: 1. Binnenkort: 2." in body
    theirs = text_of(next(m for m in digests(sqlite_engine) if "Elders" in m.subject))
    assert elsewhere > 0
    assert "Er lopen de komende twee weken geen termijnen af" in theirs  # its term ends 1 June

def test_two_workers_at_eight_send_one_digest(pg_engine: Engine, tmp_path: Path, clock: FrozenClock) -> None:
    clock.set(at(AUTUMN_MONDAY, 8))
    settings = make_settings("unused", tmp_path)
    services = [Service(pg_engine, settings, clock) for _ in range(2)]
    barrier = threading.Barrier(2)
    results: list[int] = []

    def send(service: Service) -> None:
        barrier.wait(10)
        results.append(digest.send_due(service).mails)

    threads = [threading.Thread(target=send, args=(s,)) for s in services]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sum(results) == 2  # each organisation's digest once, whichever worker sends it
    assert len(digests(pg_engine)) == 2
