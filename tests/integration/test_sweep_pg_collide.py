"""Two `advies worker --once` started together on one PostgreSQL database do not collide.

Thirty trajectories each have several steps due at once: three reminder steps of the sign-up
term, the reminders and alerts of the advice term (it is overdue), and the sign-up term's own
end (the system closes the call). Two real worker processes start their pass at the same
instant, round after round. Before, one of them regularly died on a deadlock between the two
(`Taak termijnen mislukt: OperationalError`, exit 1) or skipped a trajectory the other held.
A trajectory the other worker holds is not an error: the step waits its turn or is left for the
next round. Both workers exit 0, and every step and every closing happened exactly once.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, update
from sqlmodel import Session, col

from app import org_file
from app.service import Service
from engine.clock import AMSTERDAM, FrozenClock
from storage.tables import DeadlineRow, DeadlineStep, HistoryEntry, OutboxMessage
from tests.conftest import make_settings
from tests.helpers import ADVISER, SECRETARIAT
from tests.integration.test_sweep_pg_workers import _wait_for, worker_env

TRAJECTORIES = 30
ROUNDS = 6
SWEEP_AT = "2026-05-01T07:00:00+02:00"  # the sign-up term ended on Thursday 30 April
STEP_TEMPLATES = ("deadline_reminder", "deadline_overdue", "call/reminder")
#: `advies worker --once` exactly as the `advies` script runs it (cli.main:app), started when
#: the go file appears, so that both workers begin their sweep at the same instant.
AT_THE_SIGNAL = """
import sys, time
from pathlib import Path
from cli.main import app
Path(sys.argv[1]).touch()
go = Path(sys.argv[2])
for _ in range(6000):
    if go.exists():
        break
    time.sleep(0.005)
sys.argv = ["advies", "worker", "--once"]
app()
"""


SMALL_ORG = """\
[[organisation]]
slug = "klein"
name = "Adviesraad Klein"

[[organisation.person]]
name = "Sanne Bakker"
email = "secretariaat@example.org"
roles = ["secretariat"]

[[organisation.person]]
name = "Fatima El Amrani"
email = "beleid@example.org"
roles = ["policy_adviser"]

[[organisation.person]]
name = "Anna de Vries"
email = "anna@example.org"
roles = ["member"]
"""


def calling_trajectories(engine: Engine, tmp_path: Path, count: int) -> list[int]:
    """Trajectories received on 10 March (the advice is due 21 April) whose call went out on
    20 April (it closes 30 April), in a small council (little mail to deliver); the mail of
    those days has gone out already."""
    (tmp_path / "klein.toml").write_text(SMALL_ORG)
    org_file.load(engine, tmp_path / "klein.toml")
    clock = FrozenClock(datetime(2026, 3, 10, 9, 30, tzinfo=AMSTERDAM))
    service = Service(engine, make_settings("unused", tmp_path), clock)
    ids = [int(service.start("asked_advice", "klein", f"Traject {n}", SECRETARIAT,
                             {"policy_adviser": ADVISER, "received_on": "2026-03-10"})["id"])
           for n in range(count)]
    clock.set(datetime(2026, 4, 20, 9, 30, tzinfo=AMSTERDAM))
    for tid in ids:
        service.fire(tid, "call_participants", SECRETARIAT, report=False)
    with Session(engine) as session:
        session.execute(update(OutboxMessage).values(status="sent", sent_at=clock.now()))
        session.commit()
    return ids


def two_workers_at_once(database_url: str, tmp_path: Path) -> list[tuple[int, str]]:
    """Run `advies worker --once` twice, released at the same instant once both have imported."""
    env = worker_env(database_url, tmp_path, SWEEP_AT)
    go = tmp_path / "go"
    ready = [tmp_path / f"ready-{n}" for n in range(2)]
    processes = [subprocess.Popen([sys.executable, "-c", AT_THE_SIGNAL, str(r), str(go)], cwd=tmp_path,
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                 for r in ready]
    try:
        _wait_for(ready, processes)
        go.touch()
        outputs = [p.communicate(timeout=120)[0] for p in processes]
    finally:
        for p in processes:
            if p.poll() is None:
                p.kill()
                p.communicate()
    return [(p.returncode, output) for p, output in zip(processes, outputs, strict=True)]


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_two_workers_started_together_both_succeed_and_do_everything_once(
        round_: int, pg_engine: Engine, pg_url: str, tmp_path: Path) -> None:
    ids = calling_trajectories(pg_engine, tmp_path, TRAJECTORIES)

    results = two_workers_at_once(pg_url, tmp_path)

    for code, output in results:
        assert code == 0, output[-3000:]
        assert "Taak termijnen mislukt" not in output, output[-3000:]
        assert "herinneringen (" in output, output[-3000:]
        assert " 0 overgeslagen" in output, output[-3000:]  # no trajectory skipped as broken
        assert "Traceback" not in output, output[-3000:]
    with Session(pg_engine) as session:
        closings = dict(session.execute(
            select(HistoryEntry.trajectory_id, func.count())
            .where(HistoryEntry.event == "close_signup", HistoryEntry.actor == "systeem")
            .group_by(HistoryEntry.trajectory_id)).all())
        pending = session.execute(select(func.count()).select_from(DeadlineStep)
                                  .where(DeadlineStep.status == "pending")).scalar_one()
        recorded = session.execute(select(func.sum(DeadlineStep.mails))).scalar_one()
        sent = session.execute(select(func.count()).select_from(OutboxMessage).where(
            col(OutboxMessage.template).in_(STEP_TEMPLATES))).scalar_one()
        done = session.execute(select(DeadlineStep.deadline_id, DeadlineStep.step)
                               .where(DeadlineStep.status == "done")).all()
        signups = set(session.execute(select(DeadlineRow.status)
                                      .where(DeadlineRow.name == "signup_closes")).scalars())
    assert closings == dict.fromkeys(ids, 1)
    assert signups == {"expired"}
    assert pending == 0
    assert len(done) >= 4 * TRAJECTORIES  # the call: -5wd, its reminder, on-day; the advice: at least one
    assert len(set(done)) == len(done)
    assert sent == recorded  # every step's mails were written once
