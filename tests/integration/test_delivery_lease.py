"""A claim belongs to one worker and lives as long as its batch: a slow server sends nothing twice.

Two real delivery processes share one database and one real SMTP server that takes longer over
each DATA than a claim's lease lasts. The first claims every mail; the second keeps asking. The
first renews its claim while it works, so the second never gets a row the first still holds,
and every mail arrives once. And an outcome counts only for the holder of the claim.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from notifications import outbox
from storage.db import transaction
from tests.helpers import outbox as outbox_rows
from tests.integration.test_delivery_kill import ROOT, START, queue_mails
from tests.integration.test_delivery_smtp import Recorder, smtp_server

MAILS = 4
LEASE = 0.5  # seconds a claim lasts without renewal
SLOW = 0.8  # seconds the server takes over each DATA: longer than the lease


class SlowRecorder(Recorder):
    """Answers every DATA only after SLOW seconds, like an overloaded mail server."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(SLOW)
        return await super().handle_DATA(server, session, envelope)


def delivery_process(database_url: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "ADVIES_DATABASE_URL": database_url, "ADVIES_SMTP_URL": f"smtp://127.0.0.1:{port}",
           "ADVIES_MAIL_FROM": "Adviesgroep <adviesgroep@example.org>", "PYTHONPATH": str(ROOT)}
    env.pop("ADVIES_NOW", None)  # the lease is real time here: the server is really slow
    command = [sys.executable, "-m", "notifications.deliver_main", "--until-empty", "--pool", "1",
               "--batch", str(MAILS), "--lease", str(LEASE), "--poll", "0.05"]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_two_workers_and_a_server_slower_than_the_lease_deliver_every_mail_once(any_engine: Engine) -> None:
    ids = queue_mails(any_engine, MAILS, datetime.now(UTC) - timedelta(seconds=1))
    url = any_engine.url.render_as_string(hide_password=False)
    recorder = SlowRecorder()
    with smtp_server(recorder) as port:
        workers = [delivery_process(url, port) for _ in range(2)]
        try:
            results = [(w.wait(timeout=60), w.stderr.read().decode() if w.stderr else "") for w in workers]
        finally:
            for w in workers:
                w.kill()
                w.communicate()
    assert [code for code, _ in results] == [0, 0], results
    assert dict(recorder.ids) == dict.fromkeys(ids, 1)
    rows = outbox_rows(any_engine)
    assert {(m.status, m.attempts) for m in rows} == {("sent", 1)}
    assert {m.claimed_by for m in rows} == {None}


def test_only_the_holder_of_a_claim_settles_the_row(any_engine: Engine) -> None:
    queue_mails(any_engine, 1, START)
    with transaction(any_engine) as session:
        [first] = outbox.claim(session, START, lease=timedelta(minutes=5), holder="eerste")
    later = START + timedelta(minutes=6)  # the first worker's lease ran out; a second takes the row
    with transaction(any_engine) as session:
        [second] = outbox.claim(session, later, lease=timedelta(minutes=5), holder="tweede")
    assert (first.claimed_by, second.claimed_by) == ("eerste", "tweede")

    with transaction(any_engine) as session:
        assert outbox.renew(session, [first.id], "eerste", later) == set()
        assert not outbox.mark_sent(session, first, later)
        assert outbox.mark_retry(session, first, later, "te laat") is None
        assert not outbox.mark_failed(session, first, later, "te laat")
        assert not outbox.release(session, first, later, timedelta(0))
    [row] = outbox_rows(any_engine)
    assert (row.status, row.claimed_by, row.attempts) == ("sending", "tweede", 2)

    with transaction(any_engine) as session:
        assert outbox.renew(session, [second.id], "tweede", later) == {second.id}
        assert outbox.mark_sent(session, second, later)
    [row] = outbox_rows(any_engine)
    assert (row.status, row.claimed_by, row.sent_at) == ("sent", None, later)
