"""Sent mails are marked in groups, and never later than their server may take the next mail.

A mail's outcome is written in a group with the others that ended meanwhile (one transaction),
while the next mail's envelope goes out on its connection, and before that server is sent the
mail itself (DATA): per connection, at most one mail the server took is not recorded yet, so a
killed worker sends again at most one mail per connection.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, select

from notifications import outbox
from notifications.delivery import DeliveryReport, deliver_due
from notifications.senders import MemorySender, SmtpSender
from notifications.smtp_url import parse_smtp_url
from storage.db import transaction
from tests.helpers import outbox as outbox_rows
from tests.integration.test_delivery_kill import queue_mails
from tests.integration.test_delivery_smtp import Recorder, smtp_server

START = datetime(2026, 3, 24, 8, 30, tzinfo=UTC)


def test_marking_sent_counts_only_for_the_holder_of_rows_still_being_sent(any_engine: Engine) -> None:
    queue_mails(any_engine, 4, START)
    with transaction(any_engine) as session:
        mine = outbox.claim(session, START, limit=4, lease=timedelta(minutes=5), holder="eerste")
    later = START + timedelta(minutes=6)
    with transaction(any_engine) as session:  # our lease ran out: another worker took the first
        [taken] = outbox.claim(session, later, limit=1, holder="tweede")
        assert outbox.mark_failed(session, mine[1], later, "kapot")  # and one is settled already
    with transaction(any_engine) as session:
        marked = outbox.mark_all_sent(session, [row.id for row in mine], "eerste", later)
    assert marked == {mine[2].id, mine[3].id}
    status = {row.id: (row.status, row.claimed_by) for row in outbox_rows(any_engine)}
    assert status == {taken.id: ("sending", "tweede"), mine[1].id: ("failed", None),
                      mine[2].id: ("sent", None), mine[3].id: ("sent", None)}


class Ticking:
    """A clock a millisecond further each time it is read: the rows one statement wrote share
    their time, so the rows themselves tell how many statements wrote them."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now


def test_a_round_marks_its_sent_mails_in_groups(any_engine: Engine) -> None:
    queue_mails(any_engine, 100, START)
    sender = MemorySender(concurrency=10)
    report = asyncio.run(deliver_due(any_engine, sender, Ticking(START), batch=100))
    assert (report.claimed, report.sent) == (100, 100)
    rows = outbox_rows(any_engine)
    assert {row.status for row in rows} == {"sent"}
    assert len({row.sent_at for row in rows}) <= 100 // 5  # one UPDATE per group (of ten, here)


class Watcher(Recorder):
    """Counts, as each mail arrives, how many earlier arrivals are not marked sent yet."""

    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self.engine = engine
        self.unrecorded: list[int] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.engine.connect() as connection:
            sent = connection.scalar(select(func.count()).select_from(outbox.table)
                                     .where(outbox.table.c.status == outbox.SENT))
        with self.lock:
            self.unrecorded.append(sum(self.ids.values()) - int(sent or 0))
        return await super().handle_DATA(server, session, envelope)


def deliver_over(engine: Engine, port: int, connections: int) -> DeliveryReport:
    async def run() -> DeliveryReport:
        sender = SmtpSender(parse_smtp_url(f"smtp://127.0.0.1:{port}"), pool_size=connections)
        try:
            return await deliver_due(engine, sender, lambda: datetime.now(UTC), batch=100)
        finally:
            await sender.close()

    return asyncio.run(run())


def test_over_one_connection_the_server_gets_a_mail_only_once_the_one_before_is_recorded(
        any_engine: Engine) -> None:
    ids = queue_mails(any_engine, 30, START)
    watcher = Watcher(any_engine)
    with smtp_server(watcher) as port:
        report = deliver_over(any_engine, port, 1)
    assert report.sent == 30
    assert set(watcher.ids) == set(ids)
    assert watcher.unrecorded == [0] * 30


def test_over_several_connections_at_most_one_taken_mail_each_is_unrecorded(any_engine: Engine) -> None:
    ids = queue_mails(any_engine, 60, START)
    watcher = Watcher(any_engine)
    with smtp_server(watcher) as port:
        report = deliver_over(any_engine, port, 4)
    assert report.sent == 60
    assert set(watcher.ids) == set(ids)
    assert max(watcher.unrecorded) <= 3  # the mails the other three connections just handed over


class StopsAfter(MemorySender):
    """Sets `stop` during its n-th send (which still goes through)."""

    def __init__(self, n: int, stop: asyncio.Event) -> None:
        super().__init__()
        self.n = n
        self.stop = stop

    async def send(self, envelope_from: str, recipient: str, raw: bytes) -> None:
        await super().send(envelope_from, recipient, raw)
        if len(self.sent) == self.n:
            self.stop.set()


def test_stopping_hands_back_the_rest_of_the_batch_in_one_go(any_engine: Engine) -> None:
    queue_mails(any_engine, 10, START)

    async def run() -> DeliveryReport:
        stop = asyncio.Event()
        return await deliver_due(any_engine, StopsAfter(3, stop), Ticking(START), stop=stop)

    report = asyncio.run(run())
    assert (report.sent, report.handed_back, report.lost, report.stopped) == (3, 7, 0, True)
    rows = outbox_rows(any_engine)
    assert [(row.status, row.attempts, row.claimed_by) for row in rows] == (
        [("sent", 1, None)] * 3 + [("queued", 0, None)] * 7)
    assert len({row.sent_at for row in rows[:3]}) == 3  # a mark per mail (one connection)
    assert len({row.next_attempt_at for row in rows[3:]}) == 1  # and one hand-back for the rest
