"""A back-dated or mistyped date never floods anyone with alerts (issue 7, point 3).

`received_on=2016-03-20` used to make the first worker pass send 551 overdue alerts, one for
every week since 2016. Now catching up sends one alert per deadline and pass, saying how many
weeks the term is over; dates before 2000 or more than five years ahead are refused as input.
Driven as a user: real `advies` processes on a real SQLite file, the clock set by ADVIES_NOW.
"""

from __future__ import annotations

import email
import email.policy
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlmodel import Session, select

from engine.errors import InvalidInput
from engine.inputs import parse_day
from engine.reminders import Schedule, due_steps, steps_of
from storage.tables import OutboxMessage, Trajectory

ROOT = Path(__file__).resolve().parents[2]
ADVIES = str(Path(sys.executable).parent / "advies")
SECRETARIAT = "secretariaat@example.org"
NOW = "2026-11-20T09:00:00+01:00"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    values = {k: v for k, v in os.environ.items() if not k.startswith("ADVIES_")}
    values.update(ADVIES_DATABASE_URL=f"sqlite:///{tmp_path / 'a.db'}", ADVIES_NOW=NOW,
                  ADVIES_MAIL_DIR=str(tmp_path / "mail"), ADVIES_SECRET_KEY="flood-test-" + "x" * 32,
                  PYTHONPATH=str(ROOT))
    return values


def advies(env: dict[str, str], *args: str, now: str = NOW) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ADVIES, *args], env={**env, "ADVIES_NOW": now}, capture_output=True,
                          text=True, timeout=120, cwd=Path(env["ADVIES_MAIL_DIR"]).parent)


def start(env: dict[str, str], *sets: str) -> subprocess.CompletedProcess[str]:
    args = ["--set", "policy_adviser=beleid@example.org"]
    for item in sets:
        args += ["--set", item]
    return advies(env, "start", "asked_advice", "--org", "demo", "--title", "Oud verzoek",
                  "--actor", SECRETARIAT, *args)


def outbox(env: dict[str, str]) -> list[OutboxMessage]:
    engine = create_engine(env["ADVIES_DATABASE_URL"])
    with Session(engine) as session:
        rows = list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all())
    engine.dispose()
    return rows


def trajectories(env: dict[str, str]) -> int:
    engine = create_engine(env["ADVIES_DATABASE_URL"])
    with Session(engine) as session:
        found = len(session.exec(select(Trajectory)).all())
    engine.dispose()
    return found


def plain(row: OutboxMessage) -> str:
    message = email.message_from_bytes(row.raw, policy=email.policy.default)
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def test_a_trajectory_received_in_2016_sends_one_alert_not_hundreds(env: dict[str, str]) -> None:
    assert advies(env, "init", "--demo").returncode == 0
    started = start(env, "received_on=2016-03-20")
    assert started.returncode == 0, started.stderr
    first = advies(env, "worker", "--once")
    assert first.returncode == 0, first.stderr
    alerts = [m for m in outbox(env) if m.template.startswith("deadline_")]
    assert [(m.template, m.recipient) for m in alerts] == [("deadline_overdue", SECRETARIAT)]
    text = plain(alerts[0])
    assert "liep af op maandag 2 mei 2016" in text
    assert "de termijn is 550 weken verlopen" in text  # 2 May 2016 to 20 November 2026
    assert "(550 weken te laat)" in alerts[0].subject
    assert "Herinnering" not in " ".join(m.subject for m in outbox(env))  # no history mailed

    assert advies(env, "worker", "--once").returncode == 0  # the same day again: nothing new
    assert len([m for m in outbox(env) if m.template.startswith("deadline_")]) == 1
    later = advies(env, "worker", "--once", now="2026-11-27T09:00:00+01:00")
    assert later.returncode == 0, later.stderr
    overdue = [m for m in outbox(env) if m.template == "deadline_overdue"]
    assert len(overdue) == 2  # a week later: one more, not a second flood
    assert "(551 weken te laat)" in overdue[1].subject


@pytest.fixture(scope="module")
def ready(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One database for the refusals below: a refused start writes nothing."""
    folder = tmp_path_factory.mktemp("grenzen")
    values = {k: v for k, v in os.environ.items() if not k.startswith("ADVIES_")}
    values.update(ADVIES_DATABASE_URL=f"sqlite:///{folder / 'a.db'}", ADVIES_NOW=NOW,
                  ADVIES_MAIL_DIR=str(folder / "mail"), ADVIES_SECRET_KEY="flood-test-" + "x" * 32,
                  PYTHONPATH=str(ROOT))
    assert advies(values, "init", "--demo").returncode == 0
    return values


@pytest.mark.parametrize(("given", "message"), [
    ("received_on=1999-12-31", "31-12-1999 kan niet kloppen"),
    ("received_on=0216-03-20", "20-03-0216 kan niet kloppen"),
    ("received_on=2032-01-05", "05-01-2032 ligt meer dan 5 jaar na vandaag"),
    ("advice_due=2040-01-01", "ligt meer dan 5 jaar na vandaag"),
])
def test_a_date_far_off_is_refused_and_nothing_is_written(ready: dict[str, str], given: str,
                                                          message: str) -> None:
    before = (trajectories(ready), len(outbox(ready)))
    refused = start(ready, given)
    assert refused.returncode == 2, refused.stderr
    assert message in refused.stderr
    assert "Traceback" not in refused.stderr + refused.stdout
    assert len(refused.stderr.strip().splitlines()) == 1
    assert (trajectories(ready), len(outbox(ready))) == before


def test_a_date_within_the_bounds_is_taken(ready: dict[str, str]) -> None:
    assert start(ready, "received_on=2000-01-01").returncode == 0
    assert start(ready, "received_on=2031-11-20").returncode == 0  # five years ahead, not more


def test_the_fixed_bounds_hold_for_every_date_a_person_enters() -> None:
    assert parse_day("01-01-2000", "datum") == date(2000, 1, 1)
    assert parse_day("2099-12-31", "datum") == date(2099, 12, 31)
    for text in ("1999-12-31", "2100-01-01", "9999-12-31", "0001-01-01"):
        with pytest.raises(InvalidInput, match="kan niet kloppen"):
            parse_day(text, "datum")


def test_catching_up_lists_only_the_latest_overdue_alert() -> None:
    schedule = Schedule(due=date(2016, 5, 2), started_on=date(2026, 11, 20), expires=False,
                        offsets=steps_of(None))
    steps = due_steps(schedule, date(2026, 11, 20))
    assert [(s.id, s.kind) for s in steps] == [("overdue-551", "overdue")]
    assert steps[0].due_on <= date(2026, 11, 20)
    assert (date(2026, 11, 20) - steps[0].due_on).days < 7
