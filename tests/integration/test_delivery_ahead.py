"""The next batch is claimed while the current one finishes, and the SMTP envelope is sent
without aiosmtplib's double work; neither changes what gets delivered, or how often.

A batch claimed ahead and then not sent (we stop, or the queue pauses) goes back unsent, the
attempt not counted, like the rest of the round.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from notifications import outbox
from notifications.delivery import PAUSE, DeliveryReport, deliver_all_due
from notifications.senders import MemorySender, SetupFailure, SmtpSender
from notifications.smtp_url import parse_smtp_url
from storage.db import transaction
from storage.tables import OutboxMessage
from tests.helpers import outbox as outbox_rows
from tests.integration.test_delivery_kill import queue_mails
from tests.integration.test_delivery_marks import StopsAfter, Ticking
from tests.integration.test_delivery_smtp import Recorder, smtp_server

START = datetime(2026, 3, 24, 8, 30, tzinfo=UTC)


def test_rounds_with_the_next_batch_claimed_ahead_deliver_every_mail_once(any_engine: Engine) -> None:
    ids = queue_mails(any_engine, 45, START)
    sender = MemorySender(concurrency=3)

    report = asyncio.run(deliver_all_due(any_engine, sender, Ticking(START), batch=10))

    assert (report.claimed, report.sent, report.handed_back, report.lost) == (45, 45, 0, 0)
    assert sorted(mail.message_id or "" for mail in sender.sent) == sorted(i.strip("<>") for i in ids)
    assert {(row.status, row.attempts, row.claimed_by) for row in outbox_rows(any_engine)} == {
        ("sent", 1, None)}


def test_stopping_hands_back_the_batch_claimed_ahead_too(any_engine: Engine) -> None:
    queue_mails(any_engine, 30, START)

    async def run() -> DeliveryReport:
        stop = asyncio.Event()
        return await deliver_all_due(any_engine, StopsAfter(3, stop), Ticking(START), batch=10,
                                     stop=stop)

    report = asyncio.run(run())

    assert report.stopped
    assert (report.sent, report.handed_back, report.lost) == (3, 17, 0)  # the round's 7, the next 10
    assert report.claimed == 20
    rows = outbox_rows(any_engine)
    assert [(row.status, row.attempts, row.claimed_by) for row in rows] == (
        [("sent", 1, None)] * 3 + [("queued", 0, None)] * 27)


def test_a_pause_hands_back_the_batch_claimed_ahead_with_the_reason(any_engine: Engine) -> None:
    queue_mails(any_engine, 20, START)
    sender = MemorySender()
    sender.fail("lid2@example.org", SetupFailure("Inloggen bij de mailserver lukt niet."))
    now = Ticking(START)

    report = asyncio.run(deliver_all_due(any_engine, sender, now, batch=10))

    assert report.paused == "Inloggen bij de mailserver lukt niet."
    assert (report.sent, report.lost) == (2, 0)
    rows = outbox_rows(any_engine)
    assert [(row.status, row.attempts) for row in rows] == [("sent", 1)] * 2 + [("queued", 0)] * 18
    waiting = rows[2:]
    assert all(row.last_error == "Inloggen bij de mailserver lukt niet." for row in waiting)
    assert all(row.next_attempt_at is not None and row.next_attempt_at >= START + PAUSE
               for row in waiting)
    assert all(row.claimed_by is None for row in waiting)


def queue_one_more(engine: Engine) -> None:
    raw = b"Message-ID: <nog-een@example.org>\r\nSubject: Nog een\r\n\r\nTekst\r\n"
    with transaction(engine) as session:
        session.add(OutboxMessage(message_id="<nog-een@example.org>", template="test",
                                  sender="adviesgroep@example.org", recipient="nog@example.org",
                                  subject="Nog een", raw=raw, next_attempt_at=START, created_at=START))


def test_a_mail_queued_during_the_last_round_is_still_delivered_by_the_same_pass(
        any_engine: Engine) -> None:
    queue_mails(any_engine, 5, START)

    class QueuesOneMore(MemorySender):
        """Queues another mail while sending the last one, as a failure notice is queued."""

        async def send(self, envelope_from: str, recipient: str, raw: bytes) -> None:
            await super().send(envelope_from, recipient, raw)
            if recipient == "lid4@example.org":
                await asyncio.to_thread(queue_one_more, any_engine)

    sender = QueuesOneMore()
    report = asyncio.run(deliver_all_due(any_engine, sender, Ticking(START), batch=5))

    assert report.sent == 6
    assert {row.status for row in outbox_rows(any_engine)} == {outbox.SENT}


def test_over_one_connection_a_refused_recipient_leaves_it_ready_for_the_next_mail(
        any_engine: Engine) -> None:
    queue_mails(any_engine, 4, START)
    recorder = Recorder()
    recorder.refuse["lid1@example.org"] = "550 5.1.1 Deze gebruiker bestaat niet"

    async def run(port: int) -> DeliveryReport:
        sender = SmtpSender(parse_smtp_url(f"smtp://127.0.0.1:{port}"), pool_size=1, timeout=5)
        try:
            return await deliver_all_due(any_engine, sender, lambda: datetime.now(UTC))
        finally:
            await sender.close()

    with smtp_server(recorder) as port:
        report = asyncio.run(run(port))

    assert (report.sent, report.failed) == (3, 1)
    assert [rcpt for rcpt, _raw in recorder.mails] == [
        "lid0@example.org", "lid2@example.org", "lid3@example.org"]
    assert sum(recorder.ids.values()) == 3


def test_a_big_mail_is_announced_with_its_size(any_engine: Engine) -> None:
    queue_mails(any_engine, 1, START)
    recorder = Recorder()

    async def run(port: int) -> DeliveryReport:
        sender = SmtpSender(parse_smtp_url(f"smtp://127.0.0.1:{port}"), pool_size=1, timeout=5)
        try:
            return await deliver_all_due(any_engine, sender, lambda: datetime.now(UTC),
                                         lease=timedelta(minutes=5))
        finally:
            await sender.close()

    with smtp_server(recorder, data_size_limit=100) as port:  # our test mail is larger
        report = asyncio.run(run(port))

    assert report.sent == 0
    assert report.paused or report.failed  # refused up front (MAIL ... SIZE=), never taken
    assert sum(recorder.ids.values()) == 0
