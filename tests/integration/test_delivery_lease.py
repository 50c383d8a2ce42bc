"""A claim belongs to one worker and lives as long as its batch: a slow server sends nothing twice.

Two real delivery processes share one database and one real SMTP server so slow that one batch
takes longer than a claim's lease lasts. The first claims every mail; the second keeps asking.
The first renews its claim while it works, so the second never gets a row the first still
holds, and every mail arrives once. A send that would outlive its lease is cut off. And an
outcome counts only for the holder of the claim.

The lease is seconds, not the default five minutes, so that the batch outlives it; it is long
enough that a busy CI machine (two cores, two test processes, a database) does not starve the
renewals of a whole lease. A starved renewal itself is no longer a duplicate: a send only starts
with two thirds of the lease left and lasts at most one third.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select
from sqlmodel import col

from notifications import outbox
from notifications.delivery import DeliveryReport, deliver_due
from notifications.senders import MemorySender, SmtpSender
from notifications.smtp_url import SmtpConfig
from storage.db import transaction
from storage.tables import OutboxMessage
from tests.helpers import outbox as outbox_rows
from tests.integration.test_delivery_kill import ROOT, START, queue_mails
from tests.integration.test_delivery_smtp import Recorder, smtp_server

MAILS = 12
LEASE = 3.0  # seconds a claim lasts without renewal
SLOW = 0.3  # seconds the server takes over each DATA: the batch of MAILS outlives the lease


class SlowRecorder(Recorder):
    """Answers every DATA only after `slow` seconds, like an overloaded mail server."""

    def __init__(self, slow: float = SLOW) -> None:
        super().__init__()
        self.slow = slow

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(self.slow)
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
    assert {m.status for m in rows} == {"sent"}
    assert {m.claimed_by for m in rows} == {None}


def test_a_send_that_would_outlive_its_lease_is_cut_off_and_tried_again_later(any_engine: Engine) -> None:
    queue_mails(any_engine, 1, datetime.now(UTC) - timedelta(seconds=1))
    lease = timedelta(seconds=0.6)
    with smtp_server(SlowRecorder(slow=lease.total_seconds())) as port:
        sender = SmtpSender(SmtpConfig(mode="plain", host="127.0.0.1", port=port), pool_size=1)

        async def one_round() -> DeliveryReport:
            try:
                return await deliver_due(any_engine, sender, lambda: datetime.now(UTC), lease=lease)
            finally:
                await sender.close()

        report = asyncio.run(one_round())
    assert (report.claimed, report.sent, report.retried) == (1, 0, 1)
    [row] = outbox_rows(any_engine)
    assert (row.status, row.attempts, row.claimed_by) == ("queued", 1, None)
    assert "niet op tijd" in (row.last_error or "")


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


class StarvedSender(MemorySender):
    """Freezes the whole process (a starved CPU: no renewal runs either) for most of the lease on
    the first mail, and notes for every mail how much of its claim was left when it started."""

    def __init__(self, engine: Engine, lease: timedelta) -> None:
        super().__init__()
        self.engine, self.lease = engine, lease
        self.left_at_start: list[float] = []

    async def send(self, envelope_from: str, recipient: str, raw: bytes) -> None:
        with transaction(self.engine) as session:
            until = session.scalar(select(col(OutboxMessage.claimed_until))
                                   .where(col(OutboxMessage.recipient) == recipient))
        assert until is not None
        self.left_at_start.append((until.replace(tzinfo=UTC) - datetime.now(UTC)).total_seconds())
        if len(self.left_at_start) == 1:
            time.sleep(self.lease.total_seconds() * 0.9)  # blocks the event loop on purpose
        await super().send(envelope_from, recipient, raw)


def test_after_a_starved_renewal_a_send_waits_for_a_fresh_lease(any_engine: Engine) -> None:
    queue_mails(any_engine, 3, datetime.now(UTC) - timedelta(seconds=1))
    lease = timedelta(seconds=1.5)
    sender = StarvedSender(any_engine, lease)
    report = asyncio.run(deliver_due(any_engine, sender, lambda: datetime.now(UTC), lease=lease))
    assert (report.claimed, report.sent) == (3, 3)
    assert len(sender.left_at_start) == 3
    assert min(sender.left_at_start) >= lease.total_seconds() * 2 / 3 - 0.05, sender.left_at_start
