"""Delivery from the outbox to a local SMTP server, beside aiosmtplib sending the same mails.

The outbox holds queued mails (one recipient each, about 3 kB of text and HTML); the product
delivers them as the worker does (notifications.delivery.deliver_all_due: claim a batch, send,
mark each sent) through SmtpSender with a pool of 1 or 10 connections. The server is aiosmtpd
in a process of its own (its Sink handler accepts and drops every mail), so it does not share a
core's time with the sender.

Reference, in the same run: aiosmtplib alone sending the same messages over the same number of
connections, no database.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

import aiosmtplib
from sqlalchemy import Engine, select

from benchmarks import bulk
from benchmarks.databases import clock
from benchmarks.harness import Context, Figure, ratio_at_least
from notifications.delivery import deliver_all_due
from notifications.senders import SmtpSender
from notifications.smtp_url import parse_smtp_url

NAME = "delivery"
SENDER = "adviesgroep@example.org"
CONNECTIONS = (1, 10)
Mail = tuple[str, str, bytes]


def run(ctx: Context) -> list[Figure]:
    mails = ctx.mode.size(20, 300, 2000)
    figures = []
    with smtp_server(ctx.folder) as port:
        for kind in ctx.kinds:
            for connections in CONNECTIONS:
                runs = [measure(ctx, kind, port, mails, connections) for _ in range(ctx.mode.runs)]
                figures.append(Figure(
                    f"delivery to aiosmtpd, {connections} connection(s)", kind, mails, "mails/s", runs,
                    reference=f"aiosmtplib, {connections} connection(s)", command=ctx.command(NAME, kind),
                    target=ratio_at_least(0.8, "≥ 0.8× aiosmtplib (≈ 2,000/s over 10)")))
    return figures


def measure(ctx: Context, kind: str, port: int, count: int, connections: int) -> tuple[float, float]:
    """One run: mails/s of the product, and of aiosmtplib with the same messages."""
    with ctx.dbs.engine(kind) as (_url, engine):
        bulk.outbox(engine, message(), [f"lid{n}@example.org" for n in range(count)], SENDER)
        mails = queued(engine)
        started = time.perf_counter()
        sent = asyncio.run(product(engine, port, connections))
        ours = time.perf_counter() - started
    if sent != count:
        raise RuntimeError(f"delivered {sent} of {count} mails")
    started = time.perf_counter()
    asyncio.run(reference(port, mails, connections))
    return count / ours, count / (time.perf_counter() - started)


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
            sender, recipient, raw = waiting.pop()
            await client.sendmail(sender, [recipient], raw)
        await client.quit()

    await asyncio.gather(*(one_connection() for _ in range(connections)))


def queued(engine: Engine) -> list[Mail]:
    t = bulk.outbox_table
    with engine.connect() as conn:
        return [(r.sender, r.recipient, r.raw) for r in conn.execute(
            select(t.c.sender, t.c.recipient, t.c.raw).order_by(t.c.id))]


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
