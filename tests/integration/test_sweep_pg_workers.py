"""Two worker processes sweep the same PostgreSQL database: every due deadline fires once.

2,000 trajectories wait in "calling" with a sign-up window that ran out yesterday. Two real
processes start their sweep at the same moment; each claims with FOR UPDATE SKIP LOCKED and
fires `close_signup` as the system in the claim's transaction.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time as wallclock
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, insert, select, text
from sqlmodel import Session

from app import org_file
from app.sweep_claims import CLAIM_BATCH, statements
from storage.tables import DeadlineRow, DeadlineStep, HistoryEntry, Organisation, OutboxMessage, Trajectory
from tests.conftest import TEST_SECRET

ROOT = Path(__file__).resolve().parents[2]
COUNT = 2000
NOW = "2026-04-08T07:00:00+02:00"
DUE = date(2026, 4, 7)

BULK_ORG = """\
[[organisation]]
slug = "bulk"
name = "Adviesraad Proef"
reminders = []

[[organisation]]
slug = "stappen"
name = "Adviesraad Stappen"
reminders = ["0"]

[[organisation.person]]
name = "Sam Secretaris"
email = "sam@example.org"
roles = ["secretariat"]
"""

DRIVER = """
import json, sys, time
from pathlib import Path
from settings import Settings
from worker.main import Worker

worker = Worker(Settings())
with worker.engine.connect():
    pass
Path(sys.argv[1]).touch()
go = Path(sys.argv[2])
for _ in range(1200):
    if go.exists():
        break
    time.sleep(0.01)
report = worker.sweep_job()
worker.close()
print(json.dumps(report.as_dict() if report else None))
"""


def bulk_calling(engine: Engine, count: int, due: date, org_slug: str = "demo") -> list[int]:
    """`count` trajectories in "calling" with a running sign-up window ending on `due`; fast."""
    now = datetime.now(UTC)
    trajectories = Trajectory.__table__  # type: ignore[attr-defined]
    deadlines = DeadlineRow.__table__  # type: ignore[attr-defined]
    with Session(engine) as session:
        org_id = session.execute(select(Organisation.id).where(Organisation.slug == org_slug)).scalar_one()
        returning = insert(trajectories).returning(trajectories.c.id, sort_by_parameter_order=True)
        ids = list(session.execute(returning, [
            {"organisation_id": org_id, "flow": "asked_advice", "flow_version": 1, "state": "calling",
             "title": f"Traject {n}", "data": {"received_on": "2026-03-20"}, "version": 1,
             "created_at": now, "updated_at": now} for n in range(count)]).scalars())
        session.execute(insert(deadlines), [
            {"trajectory_id": tid, "organisation_id": org_id, "name": "signup_closes",
             "label": "aanmeldtermijn", "due": due,
             "status": "running", "explanation": "10 dagen na de oproep", "steps_done": [],
             "alert_roles": ["secretariat"], "on_expiry": "close_signup", "atw": True,
             "started_on": due - timedelta(days=1)} for tid in ids])
        session.commit()
    return ids


def worker_env(database_url: str, tmp_path: Path, now: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADVIES_")}
    env.update(ADVIES_DATABASE_URL=database_url, ADVIES_NOW=now, ADVIES_SECRET_KEY=TEST_SECRET,
               ADVIES_MAIL_DIR=str(tmp_path / "mail"), ADVIES_BASE_URL="http://testserver",
               PYTHONPATH=str(ROOT))
    return env


def _wait_for(paths: list[Path], processes: list[subprocess.Popen[str]]) -> None:
    for _ in range(3000):  # bounded: at most ~60 s for the processes to import and connect
        if all(p.exists() for p in paths):
            return
        assert all(p.poll() is None for p in processes), "a worker died while starting"
        wallclock.sleep(0.02)
    raise AssertionError("the workers did not get ready")


def _run_two(pg_url: str, tmp_path: Path, now: str = NOW) -> list[dict[str, Any]]:
    env = worker_env(pg_url, tmp_path, now)
    go = tmp_path / "go"
    ready = [tmp_path / f"ready-{n}" for n in range(2)]
    processes = [subprocess.Popen([sys.executable, "-c", DRIVER, str(r), str(go)], cwd=ROOT, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for r in ready]
    try:
        _wait_for(ready, processes)
        go.touch()
        outputs = [p.communicate(timeout=60) for p in processes]
    finally:
        for p in processes:
            if p.poll() is None:
                p.kill()
                p.communicate()
    for p, (_out, err) in zip(processes, outputs, strict=True):
        assert p.returncode == 0, err[-2000:]
    return [json.loads(out.strip().splitlines()[-1]) for out, _err in outputs]


def test_two_workers_fire_each_of_2000_due_deadlines_exactly_once(pg_engine: Engine, pg_url: str,
                                                                  tmp_path: Path) -> None:
    org = tmp_path / "bulk.toml"  # no people and no reminder steps: this test is about the claims
    org.write_text(BULK_ORG)
    org_file.load(pg_engine, org)
    ids = bulk_calling(pg_engine, COUNT, DUE, org_slug="bulk")

    reports = _run_two(pg_url, tmp_path)

    assert sum(r["expired"] for r in reports) == COUNT
    assert all(r["expired"] > 0 for r in reports), reports  # both really worked at the same time
    assert sum(r["failed"] for r in reports) == 0
    with Session(pg_engine) as session:
        fired = dict(session.execute(
            select(HistoryEntry.trajectory_id, func.count())
            .where(HistoryEntry.event == "close_signup", HistoryEntry.actor == "systeem")
            .group_by(HistoryEntry.trajectory_id)).all())
        statuses = dict(session.execute(select(DeadlineRow.status, func.count()).group_by(DeadlineRow.status)
                                        ).all())
        states = dict(session.execute(text("SELECT state, count(*) FROM trajectory GROUP BY state")).all())
    assert fired == dict.fromkeys(ids, 1)
    assert statuses == {"expired": COUNT}
    assert states == {"understaffed": COUNT}


def test_two_workers_send_each_due_reminder_step_exactly_once(pg_engine: Engine, pg_url: str,
                                                               tmp_path: Path) -> None:
    org = tmp_path / "bulk.toml"
    org.write_text(BULK_ORG)
    org_file.load(pg_engine, org)
    ids = bulk_calling(pg_engine, 300, DUE, org_slug="stappen")

    reports = _run_two(pg_url, tmp_path, now="2026-04-07T07:00:00+02:00")  # the last day: "on-day"

    assert sum(r["steps"] for r in reports) == 300
    assert sum(r["mails"] for r in reports) == 300
    assert sum(r["expired"] for r in reports) == 0
    with Session(pg_engine) as session:
        sent = dict(session.execute(select(OutboxMessage.trajectory_id, func.count())
                                    .where(OutboxMessage.template == "deadline_reminder")
                                    .group_by(OutboxMessage.trajectory_id)).all())
        done = session.execute(select(DeadlineStep.step, DeadlineStep.status, func.count())
                               .group_by(DeadlineStep.step, DeadlineStep.status)).all()
    assert sent == dict.fromkeys(ids, 1)
    assert [tuple(row) for row in done] == [("on-day", "done", 300)]


def test_a_claim_takes_one_batch_at_a_time(pg_engine: Engine, tmp_path: Path) -> None:
    """`id IN (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED)` can claim every row on PostgreSQL."""
    org = tmp_path / "bulk.toml"
    org.write_text(BULK_ORG)
    org_file.load(pg_engine, org)
    bulk_calling(pg_engine, CLAIM_BATCH + 5, DUE, org_slug="bulk")
    claim = statements(postgres=True).claim_expiries
    with Session(pg_engine) as session:
        claimed = session.execute(claim, {"today": DUE + timedelta(days=1), "skip": []}).all()
        session.rollback()
    assert len(claimed) == CLAIM_BATCH
