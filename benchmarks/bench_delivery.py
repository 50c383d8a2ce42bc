"""Delivery from the outbox to a local SMTP server, beside aiosmtplib sending the same mails.

The outbox holds queued mails (one recipient each, about 3 kB of text and HTML); the product
delivers them as the worker does (notifications.delivery.deliver_all_due: claim a batch, send,
mark each sent) through SmtpSender with a pool of 1 or 10 connections. The server is aiosmtpd
in a process of its own (its Sink handler accepts and drops every mail), so it does not share a
core's time with the sender.

References, in the same run (product, aiosmtplib, bare guaranteed sender, in turn, so that the
machine's drift hits all three):
- aiosmtplib alone sending the same messages over the same number of connections, no database;
- the bare guaranteed sender: aiosmtplib with the product's guarantee ("at most one duplicate per
  kill") done barely (`bare_guaranteed`). Each connection sends its next mail (MAIL, RCPT, DATA
  and the mail itself), then awaits the durable commit of its previous mail's mark before the dot
  that ends the mail (only then does the server keep it). The marks
  are plain `UPDATE outbox SET status = 'sent', sent_at = ? WHERE id IN (...)` statements, in
  autocommit, on the driver's own connection (sqlite3 or psycopg), one kept connection written
  from one thread (`BareMarks`): each UPDATE takes every mark that came in while the previous
  one was being committed (a plain group commit, it never waits for more), so with one SMTP
  connection it is one UPDATE per mail. No claim, no lease, no holder check, no logging: the
  least any code keeping the guarantee has to do.
"""

from __future__ import annotations

import asyncio
import functools
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path
from typing import Any

import aiosmtplib
from sqlalchemy import Connection, Engine, select

from benchmarks import bulk
from benchmarks.databases import clock
from benchmarks.harness import Context, Figure, ratio_at_least
from notifications.delivery import deliver_all_due
from notifications.senders import SmtpSender
from notifications.smtp_url import parse_smtp_url
from notifications.smtp_wire import data_ending_when_ready

NAME = "delivery"
SENDER = "adviesgroep@example.org"
CONNECTIONS = (1, 10)
Mail = tuple[int, str, str, bytes]  # outbox id, sender, recipient, raw
#: Why the product's target is measured against the bare guaranteed sender too.
CEILING = ("The bare guaranteed sender is aiosmtplib that awaits a plain durable commit of the "
           "previous mail's outbox row before the dot that ends each mail (a group commit over "
           "the connections), "
           "and nothing else: it shows what the guarantee 'at most one duplicate per kill' itself "
           "costs. When it is below 0.8x aiosmtplib, the target '0.8x aiosmtplib' is beyond "
           "code with that guarantee on this machine and database (unless it groups marks more "
           "cleverly than a plain group commit: with one connection there is nothing to group); "
           "reaching it would take a faster durable commit (a faster disk flush; on PostgreSQL "
           "also the round trip) or giving up the guarantee.")


@dataclass
class Rates:
    """Mails/s of one run: the product, aiosmtplib alone, and the bare guaranteed sender."""

    product: float
    aiosmtplib: float
    guaranteed: float


def run(ctx: Context) -> list[Figure]:
    mails = ctx.mode.size(20, 300, 2000)
    figures = []
    with smtp_server(ctx.folder) as port:
        for kind in ctx.kinds:
            for connections in CONNECTIONS:
                runs = [measure(ctx, kind, port, mails, connections) for _ in range(ctx.mode.runs)]
                figures += _figures(ctx, kind, mails, connections, runs)
    return figures


def _figures(ctx: Context, kind: str, mails: int, connections: int, runs: list[Rates]) -> list[Figure]:
    plain = f"aiosmtplib, {connections} connection(s)"
    guaranteed = f"aiosmtplib + bare durable mark before each mail's ending dot, {connections} connection(s)"
    common: dict[str, Any] = {"database": kind, "size": mails, "unit": "mails/s",
                              "command": ctx.command(NAME, kind)}
    return [
        Figure(f"delivery to aiosmtpd, {connections} connection(s)", reference=plain,
               runs=[(r.product, r.aiosmtplib) for r in runs],
               target=ratio_at_least(0.8, "≥ 0.8× aiosmtplib (≈ 2,000/s over 10)"), **common),
        Figure(f"delivery vs bare guaranteed sender, {connections} connection(s)", reference=guaranteed,
               runs=[(r.product, r.guaranteed) for r in runs],
               target=ratio_at_least(0.8, "≥ 0.8× the bare guaranteed sender"), **common),
        Figure(f"ceiling: bare guaranteed sender vs aiosmtplib, {connections} connection(s)",
               reference=plain, runs=[(r.guaranteed, r.aiosmtplib) for r in runs], note=CEILING,
               target=ratio_at_least(0.8, "≥ 0.8×, or the aiosmtplib target cannot be met "
                                          "with the guarantee"), **common),
    ]


def measure(ctx: Context, kind: str, port: int, count: int, connections: int) -> Rates:
    """One run on a fresh database: the product, aiosmtplib alone with the same messages, and
    the bare guaranteed sender with a fresh copy of them, in turn."""
    recipients = [f"lid{n}@example.org" for n in range(count)]
    with ctx.dbs.engine(kind) as (_url, engine):
        bulk.outbox(engine, message(), recipients, SENDER)
        mails = queued(engine)
        started = time.perf_counter()
        sent = asyncio.run(product(engine, port, connections))
        ours = time.perf_counter() - started
        if sent != count:
            raise RuntimeError(f"delivered {sent} of {count} mails")
        plain = _rate(count, lambda: asyncio.run(reference(port, mails, connections)))
        bulk.outbox(engine, message(), recipients, SENDER)
        fresh = queued(engine)
        marks = BareMarks(engine)  # connected before the clock starts
        try:
            guaranteed = _rate(count, lambda: asyncio.run(bare_guaranteed(port, fresh, marks, connections)))
        finally:
            marks.close()
        _check_all_marked(engine, [mail[0] for mail in fresh])
    return Rates(count / ours, plain, guaranteed)


def _rate(count: int, send: Callable[[], None]) -> float:
    started = time.perf_counter()
    send()
    return count / (time.perf_counter() - started)


async def product(engine: Engine, port: int, connections: int) -> int:
    sender = SmtpSender(parse_smtp_url(f"smtp://127.0.0.1:{port}"), pool_size=connections)
    try:
        return (await deliver_all_due(engine, sender, clock().now)).sent
    finally:
        await sender.close()


async def reference(port: int, mails: list[Mail], connections: int) -> None:
    waiting = list(reversed(mails))

    async def one_connection() -> None:
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port)
        await client.connect()
        while waiting:
            _id, sender, recipient, raw = waiting.pop()
            await client.sendmail(sender, [recipient], raw)
        await client.quit()

    await asyncio.gather(*(one_connection() for _ in range(connections)))


async def bare_guaranteed(port: int, mails: list[Mail], marks: BareMarks, connections: int) -> None:
    """aiosmtplib over `connections` connections, each sending the dot that ends a mail only
    once its previous mail's mark is committed (envelope, DATA and the mail go out meanwhile)."""
    waiting = list(reversed(mails))

    async def one_connection() -> None:
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port)
        await client.connect()
        await client.ehlo()
        previous: asyncio.Future[None] | None = None
        while waiting:
            outbox_id, sender, recipient, raw = waiting.pop()
            await client.mail(sender)
            await client.rcpt(recipient)
            await data_ending_when_ready(client, raw, functools.partial(_done, previous))
            previous = marks.submit(outbox_id)
        if previous is not None:
            await previous
        await client.quit()

    await asyncio.gather(*(one_connection() for _ in range(connections)))


async def _done(previous: asyncio.Future[None] | None) -> None:
    if previous is not None:
        await previous


class BareMarks:
    """The plainest group commit: one writer, one kept connection in autocommit mode (a commit
    returns once it is durable: SQLite synchronous=FULL, PostgreSQL synchronous_commit). Each
    write is one UPDATE of every mark handed in while the previous write was under way; it
    never waits for more marks. With one SMTP connection that is one UPDATE per mail."""

    def __init__(self, engine: Engine) -> None:
        self.connection: Connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        self.driver: Any = self.connection.connection.driver_connection
        self.placeholder = "?" if engine.dialect.name == "sqlite" else "%s"
        sent_at = bulk.outbox_table.c.sent_at.type
        self.convert = sent_at.dialect_impl(engine.dialect).bind_processor(engine.dialect)
        self.waiting: list[tuple[int, asyncio.Future[None]]] = []
        self.writer: asyncio.Task[None] | None = None

    def submit(self, outbox_id: int) -> asyncio.Future[None]:
        """Mark the mail sent; the future is done once that is committed."""
        done = asyncio.get_running_loop().create_future()
        self.waiting.append((outbox_id, done))
        if self.writer is None or self.writer.done():
            self.writer = asyncio.create_task(self._write_while_waiting())
        return done

    async def _write_while_waiting(self) -> None:
        while self.waiting:
            group, self.waiting = self.waiting, []
            try:
                await asyncio.to_thread(self._write, [outbox_id for outbox_id, _ in group])
            except Exception as error:
                for _, done in group:
                    done.set_exception(error)
                continue
            for _, done in group:
                done.set_result(None)

    def _write(self, outbox_ids: list[int]) -> None:
        now = datetime.now(UTC)
        ids = ", ".join([self.placeholder] * len(outbox_ids))
        sql = f"UPDATE outbox SET status = 'sent', sent_at = {self.placeholder} WHERE id IN ({ids})"
        cursor = self.driver.cursor()
        try:
            cursor.execute(sql, (self.convert(now) if self.convert else now, *outbox_ids))
        finally:
            cursor.close()

    def close(self) -> None:
        self.connection.close()


def _check_all_marked(engine: Engine, outbox_ids: list[int]) -> None:
    t = bulk.outbox_table
    with engine.connect() as conn:
        marked = conn.execute(select(t.c.id).where(t.c.id.in_(outbox_ids), t.c.status == "sent",
                                                   t.c.sent_at.is_not(None))).scalars().all()
    if len(marked) != len(outbox_ids):
        raise RuntimeError(f"the bare guaranteed sender marked {len(marked)} of {len(outbox_ids)} mails")


def queued(engine: Engine) -> list[Mail]:
    t = bulk.outbox_table
    with engine.connect() as conn:
        return [(r.id, r.sender, r.recipient, r.raw) for r in conn.execute(
            select(t.c.id, t.c.sender, t.c.recipient, t.c.raw).where(t.c.status == "queued")
            .order_by(t.c.id))]


def message() -> bytes:
    """A mail like the product's: text and HTML, about 3 kB."""
    mail = EmailMessage(policy=SMTP)
    mail["From"] = f"Adviesgroep <{SENDER}>"
    mail["To"] = "Lid <lid@example.org>"
    mail["Subject"] = 'Doe je mee met "Regiovisie beschermd wonen"?'
    mail["Message-ID"] = "<bench@example.org>"
    paragraph = "De gemeente vraagt de adviesgroep om advies over de regiovisie beschermd wonen. " * 6
    mail.set_content("\n\n".join([paragraph] * 3))
    mail.add_alternative("".join(f"<p>{paragraph}</p>" for _ in range(3)), subtype="html")
    return mail.as_bytes()


@contextmanager
def smtp_server(folder: Path) -> Iterator[int]:
    """aiosmtpd with its Sink handler on a free port of 127.0.0.1, in a process of its own."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    server = subprocess.Popen([sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
                               "-c", "aiosmtpd.handlers.Sink"], cwd=folder,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(port, server)
        yield port
    finally:
        server.terminate()
        server.wait(10)


def _wait_for(port: int, server: subprocess.Popen[bytes]) -> None:
    for _ in range(500):
        if server.poll() is not None:
            raise RuntimeError("aiosmtpd did not start")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError("aiosmtpd did not answer")
