"""The hot path of a plain event (issue 9): one statement reads what the event needs, the writes
are the rows the event changes, and the organisation's people are read only when the event's
input or mail needs them. Run on a SQLite file and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, inspect, select

from app.service import Service
from engine.clock import FrozenClock
from engine.errors import InvalidInput, NotFound
from storage.db import detached, fresh
from storage.tables import DeadlineRow, Trajectory
from tests.conftest import make_settings
from tests.helpers import SECRETARIAT, deadline, member, start, to_matching


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL the engine sends while the block runs, in order."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        seen.append(" ".join(sql.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _reads(seen: list[str]) -> list[str]:
    return [s for s in seen if s.upper().startswith("SELECT")]


def _every_person_read(seen: list[str]) -> bool:
    return any("FROM person WHERE person.organisation_id" in s for s in seen)


def _consulting(service: Service, clock: FrozenClock) -> int:
    tid = to_matching(service, clock)
    service.fire(tid, "first_meeting_held", SECRETARIAT)
    service.fire(tid, "choose_contact", SECRETARIAT, {"contact_person": member("bram")})
    return tid


@pytest.fixture
def service(any_engine: Engine, tmp_path: Path, clock: FrozenClock) -> Service:
    return Service(any_engine, make_settings(any_engine.url.render_as_string(False), tmp_path),
                   clock)


def test_a_plain_event_reads_once_and_not_every_person(service: Service, clock: FrozenClock) -> None:
    tid = _consulting(service, clock)
    with statements(service.engine) as seen:
        service.fire(tid, "consultation_done", member("bram"), report=False)
    assert len(_reads(seen)) == 1, seen  # trajectory, organisation, actor and deadlines at once
    assert not _every_person_read(seen)
    writes = [s for s in seen if not s.upper().startswith(("SELECT", "BEGIN", "COMMIT"))]
    assert writes[0].startswith("UPDATE trajectory"), writes  # the version check comes first
    assert any(s.startswith("INSERT INTO history") for s in writes)


def test_a_started_deadline_names_the_trajectory_s_organisation(service: Service) -> None:
    """Starting a trajectory, and an event that starts a deadline, write the trajectory's
    organisation on each deadline (the overview reads them through it)."""
    tid = int(start(service)["id"])
    service.fire(tid, "call_participants", SECRETARIAT)
    d, t = DeadlineRow.__table__.c, Trajectory.__table__.c  # type: ignore[attr-defined]
    with service.engine.connect() as conn:
        org_id = conn.execute(select(t.organisation_id).where(t.id == tid)).scalar_one()
        found = conn.execute(select(d.name, d.organisation_id).where(d.trajectory_id == tid)).all()
    assert {name for name, _ in found} >= {"advice_due", "signup_closes"}, found
    assert {organisation for _, organisation in found} == {org_id}


def test_state_history_and_deadlines_of_a_plain_event(service: Service, clock: FrozenClock) -> None:
    tid = _consulting(service, clock)
    service.fire(tid, "consultation_done", member("bram"))
    before = service.show(tid)
    concluded = service.fire(tid, "conclude_jointly", member("bram"), {"follow_up_on": "2026-09-20"})
    assert concluded["state"] == "monitoring"
    assert concluded["data"]["follow_up_on"] == "2026-09-20"
    assert deadline(concluded, "advice_due")["status"] == "met"
    assert deadline(concluded, "follow_up")["status"] == "running"
    assert deadline(concluded, "follow_up")["due"] == "2026-09-20"
    assert len(concluded["history"]) == len(before["history"]) + 1
    assert concluded["history"][-1]["event"] == "conclude_jointly"
    assert concluded["history"][-1]["actor"] == member("bram")
    closed = service.fire(tid, "close", SECRETARIAT)
    assert closed["state"] == "closed"
    assert closed["data"] == concluded["data"]  # unchanged data is not rewritten, nor lost
    assert deadline(closed, "follow_up")["status"] == "met"
    assert [h["event"] for h in closed["history"][-2:]] == ["conclude_jointly", "close"]


def test_a_person_field_and_mail_read_everyone(service: Service, clock: FrozenClock) -> None:
    tid = to_matching(service, clock)
    service.fire(tid, "first_meeting_held", SECRETARIAT)
    with statements(service.engine) as seen, pytest.raises(InvalidInput):
        service.fire(tid, "choose_contact", SECRETARIAT, {"contact_person": "niemand@example.org"})
    assert _every_person_read(seen)
    with statements(service.engine) as seen:
        service.fire(tid, "choose_contact", SECRETARIAT, {"contact_person": member("bram")})
    assert _every_person_read(seen)


def test_an_actor_who_is_no_person_of_the_organisation_is_refused(service: Service,
                                                                  clock: FrozenClock) -> None:
    tid = _consulting(service, clock)
    with pytest.raises(NotFound, match="staat niet"):
        service.fire(tid, "consultation_done", "onbekend@example.org")


def test_detached_and_fresh_instances_belong_to_no_session() -> None:
    read = detached(DeadlineRow, {"id": 7, "status": "running", "steps_done": []})
    read.status = "met"
    assert read.status == "met"
    assert read.id == 7
    assert inspect(read).transient
    first = fresh(DeadlineRow, trajectory_id=1, name="advice_due", label="adviestermijn",
                  due=date(2026, 4, 14), explanation="", started_on=date(2026, 3, 24))
    second = fresh(DeadlineRow, trajectory_id=1, name="advice_due", label="adviestermijn",
                   due=date(2026, 4, 14), explanation="", started_on=date(2026, 3, 24))
    assert first.status == "running"
    assert first.next_step_on is None
    assert first.id is None
    assert first.steps_done == []
    assert first.steps_done is not second.steps_done
