"""`advies worker`: APScheduler as the clock, one pass with --once, a clean stop on SIGTERM.

The tests drive the sweep job directly; mail delivery (another module) may run or not.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time as wallclock
from datetime import date, datetime
from pathlib import Path

import typer
from apscheduler.jobstores.memory import MemoryJobStore
from sqlalchemy import Engine, func, select
from sqlmodel import Session
from typer.testing import CliRunner

from app import org_file
from cli.worker_cmd import worker as worker_command
from engine.clock import parse_instant
from settings import Settings
from storage import migrate
from storage.db import make_engine
from storage.tables import DeadlineRow, HistoryEntry
from tests.helpers import SECRETARIAT, start
from tests.integration.test_sweep_pg_workers import BULK_ORG, ROOT, bulk_calling, worker_env
from worker.main import JOB_OPTIONS, PassReport, Worker, run

NOW = "2026-04-08T06:30:00+02:00"


def frozen(settings: Settings, now: str = NOW) -> Settings:
    return settings.model_copy(update={"now": now})


def _calling(settings: Settings, engine: Engine) -> int:
    """A trajectory whose sign-up window ends on 7 April 2026."""
    service = Worker(frozen(settings, "2026-03-24T09:30:00+01:00"), engine=engine).service
    tid = int(start(service)["id"])
    service.fire(tid, "call_participants", SECRETARIAT)
    return tid


def test_the_scheduler_is_only_a_clock(settings: Settings, sqlite_engine: Engine) -> None:
    scheduler = Worker(settings, engine=sqlite_engine).scheduler()
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"sweep", "delivery", "digest"}  # three jobs, none per deadline
    for job in jobs.values():
        assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, None)
    assert JOB_OPTIONS == {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}
    assert isinstance(scheduler._jobstores["default"], MemoryJobStore)


def test_the_sweep_job_runs_at_advies_now(settings: Settings, sqlite_engine: Engine) -> None:
    tid = _calling(settings, sqlite_engine)
    worker = Worker(frozen(settings), engine=sqlite_engine)
    report = worker.sweep_job()
    assert report is not None
    assert (report.expired, report.failed) == (1, 0)
    view = worker.service.show(tid)
    assert view["state"] == "understaffed"
    closing = view["history"][-1]
    assert (closing["event"], closing["actor"]) == ("close_signup", "systeem")
    assert datetime.fromisoformat(closing["at"]) == parse_instant(NOW)
    again = worker.sweep_job()
    assert again is not None
    assert again.expired == 0


def test_once_does_one_pass_and_returns(settings: Settings, sqlite_engine: Engine) -> None:
    tid = _calling(settings, sqlite_engine)
    report = run(frozen(settings, "2026-04-13T09:00:00+02:00"), once=True)  # a Monday, after 08:00
    assert isinstance(report, PassReport)
    assert report.sweep is not None
    assert report.sweep.expired == 1
    assert report.digest is not None
    assert (report.digest.week, report.digest.mails) == ("2026-W16", 2)  # two demo organisations
    assert [p for p in report.problems if not p.startswith("mail")] == []
    with Session(sqlite_engine) as session:
        state = session.execute(select(HistoryEntry.to_state).where(HistoryEntry.trajectory_id == tid)
                                .order_by(HistoryEntry.id.desc())).scalars().first()  # type: ignore[union-attr]
    assert state == "understaffed"


def test_the_command_prints_the_pass(settings: Settings, sqlite_engine: Engine, tmp_path: Path) -> None:
    _calling(settings, sqlite_engine)
    app = typer.Typer()
    app.command()(worker_command)
    env = {"ADVIES_DATABASE_URL": settings.database_url, "ADVIES_NOW": NOW,
           "ADVIES_MAIL_DIR": str(tmp_path / "mail"), "ADVIES_SECRET_KEY": "test-geheim-" + "x" * 32}
    result = CliRunner().invoke(app, ["--once", "--json"], env=env)
    report = json.loads(result.stdout)
    assert report["sweep"]["expired"] == 1
    assert isinstance(report["seconds"], float)
    assert 0 < report["seconds"] < 60
    assert result.exit_code == (1 if report["problems"] else 0)
    plain = CliRunner().invoke(app, ["--once"], env=env)
    assert "Termijnen: 0 verlopen" in plain.stdout


def test_sigterm_finishes_the_item_in_hand_and_stops_cleanly(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'worker.db'}"
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        (tmp_path / "bulk.toml").write_text(BULK_ORG)
        org_file.load(engine, tmp_path / "bulk.toml")
        total = 400
        bulk_calling(engine, total, date(2026, 4, 7), org_slug="bulk")
        log = (tmp_path / "worker.log").open("w")
        process = subprocess.Popen(
            [sys.executable, "-c", "from settings import Settings\n"
             "from worker.main import run\nrun(Settings(), once=False)"],
            cwd=ROOT, env=worker_env(url, tmp_path, NOW), stdout=log, stderr=subprocess.STDOUT)
        try:
            for _ in range(3000):  # bounded poll of a real process: at most ~60 s
                if _expired(engine) >= 5 or process.poll() is not None:
                    break
                wallclock.sleep(0.02)
            process.send_signal(signal.SIGTERM)
            code = process.wait(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            log.close()
        output = (tmp_path / "worker.log").read_text()
        assert code == 0, output[-3000:]
        assert "Werker gestart" in output
        assert "Werker gestopt." in output
        done = _expired(engine)
        assert 5 <= done < total  # it stopped in the middle of the sweep ...
        with Session(engine) as session:  # ... and nothing is half done
            fired = session.execute(select(func.count()).select_from(HistoryEntry)
                                    .where(HistoryEntry.event == "close_signup")).scalar_one()
            running = session.execute(select(func.count()).select_from(DeadlineRow)
                                      .where(DeadlineRow.status == "running")).scalar_one()
        assert (fired, running) == (done, total - done)
    finally:
        engine.dispose()


def _expired(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.execute(select(func.count()).select_from(DeadlineRow)
                                   .where(DeadlineRow.status == "expired")).scalar_one())

