"""Crash and concurrency safety of the outbox.

A delivery worker (a real subprocess) is killed with SIGKILL at random moments while it
delivers 500 mails, and restarted each time: in the end every mail arrived, with at most one
duplicate per kill. And two claimers at the same time never claim the same row.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from notifications import outbox
from storage.db import transaction
from storage.tables import OutboxMessage
from tests.helpers import outbox as outbox_rows
from tests.integration.test_delivery_smtp import Recorder, smtp_server

ROOT = Path(__file__).resolve().parents[2]
MAILS = 500
KILLS = 8
BUDGET = 25.0  # seconds for the whole kill test
START = datetime(2026, 3, 24, 8, 30, tzinfo=UTC)


def queue_mails(engine: Engine, count: int, now: datetime) -> list[str]:
    """`count` small mails, one recipient each; returns their Message-IDs."""
    ids = [f"<kill-{n}@example.org>" for n in range(count)]
    with transaction(engine) as session:
        for n, message_id in enumerate(ids):
            raw = (f"Message-ID: {message_id}\r\nFrom: Adviesgroep <adviesgroep@example.org>\r\n"
                   f"To: lid{n}@example.org\r\nSubject: Bericht {n}\r\n\r\nTekst {n}\r\n").encode()
            session.add(OutboxMessage(message_id=message_id, template="test",
                                      sender="adviesgroep@example.org", recipient=f"lid{n}@example.org",
                                      subject=f"Bericht {n}", raw=raw, next_attempt_at=now, created_at=now))
    return ids


def worker(database_url: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "ADVIES_DATABASE_URL": database_url, "ADVIES_SMTP_URL": f"smtp://127.0.0.1:{port}",
           "ADVIES_MAIL_FROM": "Adviesgroep <adviesgroep@example.org>", "PYTHONPATH": str(ROOT)}
    env.pop("ADVIES_NOW", None)
    command = [sys.executable, "-m", "notifications.deliver_main", "--until-empty", "--pool", "1",
               "--batch", "10", "--lease", "0.5", "--poll", "0.05"]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def wait_for_progress(recorder: Recorder, seen: int, process: subprocess.Popen[bytes],
                      deadline: float) -> None:
    """Poll the real server until the worker delivered something new (or stopped, or time is up)."""
    while time.monotonic() < deadline and process.poll() is None:
        with recorder.lock:
            if sum(recorder.ids.values()) > seen:
                return
        time.sleep(0.005)


def test_a_worker_killed_at_random_moments_loses_nothing_and_duplicates_at_most_one_per_kill(
        sqlite_url: str, sqlite_engine: Engine) -> None:
    ids = queue_mails(sqlite_engine, MAILS, START)
    recorder, chance = Recorder(), random.Random(20260324)
    deadline = time.monotonic() + BUDGET
    kills = 0
    with smtp_server(recorder) as port:
        while time.monotonic() < deadline:
            process = worker(sqlite_url, port)
            with recorder.lock:
                seen = sum(recorder.ids.values())
            if kills < KILLS:
                wait_for_progress(recorder, seen, process, deadline)
                try:
                    process.wait(timeout=chance.uniform(0.0, 0.15))
                except subprocess.TimeoutExpired:
                    process.send_signal(signal.SIGKILL)
                    kills += 1
            try:
                code = process.wait(timeout=max(0.1, deadline - time.monotonic()))
            finally:
                process.kill()
                _, errors = process.communicate()
            if code == 0:
                break
            assert code == -signal.SIGKILL, errors.decode()
    assert code == 0, "the worker did not finish within the time budget"
    assert kills >= KILLS // 2
    assert set(recorder.ids) == set(ids)
    duplicates = sum(count - 1 for count in recorder.ids.values())
    assert duplicates <= kills
    assert {m.status for m in outbox_rows(sqlite_engine)} == {"sent"}


# --- two claimers at once ---------------------------------------------------------------------------


def claim_all(engine: Engine, now: datetime, barrier: threading.Barrier, claimed: list[int]) -> None:
    barrier.wait()
    while True:
        with transaction(engine) as session:
            rows = outbox.claim(session, now, limit=7)
        if not rows:
            return
        claimed.extend(r.id for r in rows)


@pytest.mark.parametrize("claimers", [2, 4])
def test_concurrent_claimers_never_claim_the_same_row(any_engine: Engine, claimers: int) -> None:
    queue_mails(any_engine, 300, START)
    barrier = threading.Barrier(claimers)
    results: list[list[int]] = [[] for _ in range(claimers)]
    threads = [threading.Thread(target=claim_all, args=(any_engine, START, barrier, mine))
               for mine in results]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    everything = [outbox_id for mine in results for outbox_id in mine]
    assert len(everything) == len(set(everything)) == 300
    assert sum(1 for mine in results if mine) >= 1


def test_a_claim_is_a_lease_that_runs_out(any_engine: Engine) -> None:
    queue_mails(any_engine, 3, START)
    with transaction(any_engine) as session:
        first = outbox.claim(session, START, limit=2, lease=timedelta(minutes=5))
    with transaction(any_engine) as session:
        second = outbox.claim(session, START + timedelta(minutes=1), limit=5)
    with transaction(any_engine) as session:
        third = outbox.claim(session, START + timedelta(minutes=6), limit=5)
    assert [r.attempts for r in first] == [1, 1]
    assert len(second) == 1
    assert [r.id for r in third] == [r.id for r in first]
    assert [r.attempts for r in third] == [2, 2]
