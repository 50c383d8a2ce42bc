"""Delivery against a real SMTP server (aiosmtpd on 127.0.0.1): retries, drops, refusals, TLS.

The server is told how to misbehave; the outbox rows come from real trajectories.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import gc
import shutil
import socket
import ssl
import subprocess
import threading
import warnings
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
from sqlalchemy import Engine

from app.service import Service
from engine.clock import FrozenClock
from notifications import outbox
from notifications.delivery import DeliveryReport, deliver_all_due, deliver_once
from notifications.senders import FileSender, MemorySender, Sender, SmtpSender, TemporaryFailure, eml_name
from notifications.smtp_url import parse_smtp_url
from settings import Settings
from storage.tables import OutboxMessage
from tests.helpers import ADVISER, SECRETARIAT, start
from tests.helpers import outbox as outbox_rows

TITLE = "Regiovisie beschermd wonen"


class Recorder:
    """An aiosmtpd handler that counts Message-IDs and misbehaves on request."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ids: Counter[str] = Counter()
        self.mails: list[tuple[str, bytes]] = []
        self.busy = False  # answer every DATA with 421
        self.drops = 0  # hang up during the next N DATA commands
        self.refuse: dict[str, str] = {}  # recipient -> reply to RCPT

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            if self.busy:
                return "421 4.3.2 Even geen tijd, probeer het later"
            if self.drops:
                self.drops -= 1
                server.transport.close()
                return "451 verbinding verbroken"
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            self.ids[str(message["Message-ID"])] += 1
            self.mails.extend((rcpt, envelope.content) for rcpt in envelope.rcpt_tos)
        return "250 OK bewaard"

    def to(self, recipient: str) -> list[email.message.EmailMessage]:
        with self.lock:
            return [email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[misc]
                    for rcpt, raw in self.mails if rcpt == recipient]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def smtp_server(handler: Recorder, **options: Any) -> Iterator[int]:
    """A real SMTP server on a free port of 127.0.0.1, stopped cleanly afterwards."""
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, ready_timeout=10, **options)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def smtp_port(recorder: Recorder) -> Iterator[int]:
    with smtp_server(recorder) as port:
        yield port


def deliver(engine: Engine, sender: Sender, clock: FrozenClock) -> DeliveryReport:
    async def run() -> DeliveryReport:
        try:
            return await deliver_all_due(engine, sender, clock.now)
        finally:
            await sender.close()

    return asyncio.run(run())


def smtp(port: int, pool_size: int = 2, scheme: str = "smtp", context: ssl.SSLContext | None = None,
         login: str = "") -> SmtpSender:
    config = parse_smtp_url(f"{scheme}://{login}127.0.0.1:{port}")
    return SmtpSender(config, pool_size=pool_size, timeout=5, send_timeout=10, tls_context=context)


def row(engine: Engine, outbox_id: int | None) -> OutboxMessage:
    return next(m for m in outbox_rows(engine) if m.id == outbox_id)


def test_a_server_that_answers_421_is_tried_again_with_backoff_until_it_recovers(
        service: Service, sqlite_engine: Engine, clock: FrozenClock, recorder: Recorder,
        smtp_port: int) -> None:
    for _ in range(3):
        start(service)
    began = clock.now()
    recorder.busy = True

    first = deliver(sqlite_engine, smtp(smtp_port), clock)
    assert (first.claimed, first.sent, first.retried) == (3, 0, 3)
    assert all(m.status == "queued" and m.attempts == 1 for m in outbox_rows(sqlite_engine))
    assert all(m.next_attempt_at == began + timedelta(minutes=1) for m in outbox_rows(sqlite_engine))
    assert "421" in (outbox_rows(sqlite_engine)[0].last_error or "")
    assert deliver(sqlite_engine, smtp(smtp_port), clock).claimed == 0  # not due yet

    clock.advance(timedelta(minutes=1))
    assert deliver(sqlite_engine, smtp(smtp_port), clock).retried == 3
    assert all(m.next_attempt_at == clock.now() + timedelta(minutes=2) for m in outbox_rows(sqlite_engine))

    recorder.busy = False
    clock.advance(timedelta(minutes=2))
    assert deliver(sqlite_engine, smtp(smtp_port), clock).sent == 3
    rows = outbox_rows(sqlite_engine)
    assert all(m.status == "sent" and m.attempts == 3 and m.last_error is None for m in rows)
    assert recorder.ids == Counter({m.message_id: 1 for m in rows})


def test_a_connection_dropped_during_data_is_reopened_and_the_mail_retried(
        service: Service, sqlite_engine: Engine, clock: FrozenClock, recorder: Recorder,
        smtp_port: int) -> None:
    for _ in range(3):
        start(service)
    recorder.drops = 1

    first = deliver(sqlite_engine, smtp(smtp_port, pool_size=1), clock)
    assert (first.sent, first.retried) == (2, 1)  # the one connection came back for the others
    dropped = next(m for m in outbox_rows(sqlite_engine) if m.status == "queued")
    assert "verbinding" in (dropped.last_error or "")

    clock.advance(timedelta(minutes=1))
    assert deliver(sqlite_engine, smtp(smtp_port, pool_size=1), clock).sent == 1
    assert row(sqlite_engine, dropped.id).status == "sent"
    assert recorder.ids == Counter({m.message_id: 1 for m in outbox_rows(sqlite_engine)})


#: A mail with a line that starts with a dot (stuffed for the wire) and a bare LF line ending.
HELD_BACK = (b"From: Adviesgroep <adviesgroep@example.org>\r\nTo: lid@example.org\r\n"
             b"Subject: Vasthouden\r\nMessage-ID: <held-%d@example.org>\r\n\r\n"
             b"Eerste regel.\n.punt aan het begin\r\nLaatste regel.\r\n")


def test_the_server_takes_a_mail_only_once_ready_has_returned(recorder: Recorder, smtp_port: int) -> None:
    """`send_when_ready`: the envelope, DATA and the mail go out first; the dot that ends the
    mail, after which the server keeps it, waits for `ready()`. The mail arrives whole."""
    taken_while_waiting: list[int] = []

    async def ready() -> None:
        with recorder.lock:
            taken_while_waiting.append(len(recorder.mails))

    async def run() -> None:
        sender = smtp(smtp_port, pool_size=1)
        try:
            await sender.send_when_ready("adviesgroep@example.org", "lid@example.org", HELD_BACK % 1, ready)
        finally:
            await sender.close()

    asyncio.run(run())
    assert taken_while_waiting == [0]
    (recipient, raw), = recorder.mails
    assert recipient == "lid@example.org"
    assert raw.endswith(b"Eerste regel.\r\n.punt aan het begin\r\nLaatste regel.\r\n")


def test_when_ready_fails_the_server_keeps_nothing_and_the_next_mail_still_goes(
        recorder: Recorder, smtp_port: int) -> None:
    """An error of `ready` (the previous mail's mark could not be written) is raised as it is;
    the connection is hung up before the ending dot, so the server keeps nothing of the mail,
    and the next send opens a fresh connection."""

    async def ready() -> None:
        raise OSError("schijf vol")

    async def run() -> None:
        sender = smtp(smtp_port, pool_size=1)
        try:
            with pytest.raises(OSError, match="schijf vol"):
                await sender.send_when_ready("adviesgroep@example.org", "lid@example.org", HELD_BACK % 1,
                                             ready)
            await sender.send("adviesgroep@example.org", "lid@example.org", HELD_BACK % 2)
        finally:
            await sender.close()

    asyncio.run(run())
    assert recorder.ids == Counter({"<held-2@example.org>": 1})


def test_a_refused_recipient_fails_the_mail_and_the_secretariat_is_told(
        service: Service, sqlite_engine: Engine, clock: FrozenClock, recorder: Recorder,
        smtp_port: int) -> None:
    tid = start(service)["id"]
    recorder.refuse[ADVISER] = "550 5.1.1 Deze gebruiker bestaat niet"

    report = deliver(sqlite_engine, smtp(smtp_port), clock)

    assert (report.failed, report.notices, report.sent) == (1, 1, 1)
    failed, notice = outbox_rows(sqlite_engine)
    assert failed.status == "failed"
    assert failed.attempts == 1
    assert "550 5.1.1" in (failed.last_error or "")
    assert (notice.template, notice.recipient, notice.trajectory_id) == ("delivery_failed", SECRETARIAT, tid)
    assert notice.status == "sent"
    assert notice.subject == f"Mail niet bezorgd: {TITLE}"
    [mail] = recorder.to(SECRETARIAT)
    text = mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert ADVISER in text
    assert failed.subject in text
    assert "550 5.1.1" in text
    assert f"advies outbox retry {failed.id}" in text
    assert mail["Message-ID"] == notice.message_id
    assert mail["From"].addresses[0].addr_spec == failed.sender


def test_a_notice_that_cannot_be_delivered_does_not_make_another(
        service: Service, sqlite_engine: Engine, clock: FrozenClock, recorder: Recorder,
        smtp_port: int) -> None:
    start(service)
    recorder.refuse[ADVISER] = recorder.refuse[SECRETARIAT] = "550 5.1.1 Weg"

    report = deliver(sqlite_engine, smtp(smtp_port), clock)

    assert (report.failed, report.notices) == (2, 1)
    assert [(m.template, m.status) for m in outbox_rows(sqlite_engine)] == [
        ("asked_advice/receipt", "failed"), ("delivery_failed", "failed")]


def test_after_ten_temporary_failures_the_mail_fails_and_the_secretariat_is_told(
        service: Service, sqlite_engine: Engine, clock: FrozenClock) -> None:
    start(service)
    sender = MemorySender()
    sender.fail(ADVISER, *[TemporaryFailure("Postvak vol.", "452 4.2.2 Vol", 452)] * outbox.MAX_ATTEMPTS)
    waits = []
    for _ in range(outbox.MAX_ATTEMPTS):
        report = deliver(sqlite_engine, sender, clock)
        mail = outbox_rows(sqlite_engine)[0]
        waits.append(mail.next_attempt_at - clock.now())
        clock.set(mail.next_attempt_at)
    assert report.failed == 1
    assert report.notices == 1
    assert waits[:-1] == [timedelta(minutes=2 ** n) for n in range(outbox.MAX_ATTEMPTS - 1)]
    assert outbox.backoff(12) == timedelta(hours=6)  # the longest wait
    failed, notice = outbox_rows(sqlite_engine)
    assert failed.status == "failed"
    assert failed.attempts == outbox.MAX_ATTEMPTS
    assert notice.template == "delivery_failed"
    assert sender.sent[-1].recipient == SECRETARIAT
    text = email.message_from_bytes(sender.sent[-1].raw, policy=email.policy.default)
    assert "Het lukte 10 keer niet" in text.get_body(("plain",)).get_content()  # type: ignore[union-attr]


# --- login and TLS ------------------------------------------------------------------------------


def _authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"advies", b"ge heim")
    return AuthResult(success=ok, handled=False)


def test_a_wrong_password_pauses_the_queue_without_using_up_attempts(
        service: Service, sqlite_engine: Engine, clock: FrozenClock, recorder: Recorder) -> None:
    for _ in range(3):
        start(service)
    with smtp_server(recorder, authenticator=_authenticator, auth_require_tls=False) as port:
        report = deliver(sqlite_engine, smtp(port, login="advies:fout@"), clock)
        assert report.paused
        assert "Inloggen" in report.paused
        assert report.sent == 0
        rows = outbox_rows(sqlite_engine)
        assert all(m.status == "queued" and m.attempts == 0 for m in rows)
        assert all(m.next_attempt_at == clock.now() + timedelta(minutes=5) for m in rows)

        clock.advance(timedelta(minutes=5))
        assert deliver(sqlite_engine, smtp(port, login="advies:ge%20heim@"), clock).sent == 3
    assert len(recorder.ids) == 3


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is niet beschikbaar om een testcertificaat te maken")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True)
    return cert, key


def _server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


@pytest.mark.parametrize("scheme", ["smtp+starttls", "smtps"])
def test_tls_modes_deliver_and_log_in(scheme: str, certificate: tuple[Path, Path], service: Service,
                                      sqlite_engine: Engine, clock: FrozenClock, recorder: Recorder) -> None:
    start(service)
    server_tls = _server_context(certificate)
    options: dict[str, Any] = {"authenticator": _authenticator, "auth_require_tls": True}
    if scheme == "smtps":  # aiosmtpd does not see its own implicit TLS when it offers AUTH
        options.update(ssl_context=server_tls, auth_require_tls=False)
    else:
        options.update(tls_context=server_tls, require_starttls=True)
    client_tls = ssl.create_default_context(cafile=str(certificate[0]))
    with smtp_server(recorder, **options) as port:
        sender = smtp(port, scheme=scheme, context=client_tls, login="advies:ge%20heim@")
        assert deliver(sqlite_engine, sender, clock).sent == 1, outbox_rows(sqlite_engine)[0].last_error
    assert len(recorder.ids) == 1


class _StalledGoodbye(Controller):
    """A TLS server that answers QUIT and then freezes (its whole event loop) until `release`
    is set: it never sends its half of the TLS goodbye while the client is still there."""

    def __init__(self, release: threading.Event, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.release = release

    def factory(self) -> SMTP:
        release = self.release

        class Server(SMTP):
            async def smtp_QUIT(self, arg: str) -> None:
                await self.push("221 Tot ziens")
                release.wait(timeout=30)  # blocks this server's loop: a server that hangs
                assert self.transport is not None
                self.transport.close()

        return Server(self.handler, **self.SMTP_kwargs)


@pytest.mark.parametrize("scheme", ["smtp+starttls", "smtps"])
def test_closing_leaves_no_socket_open_when_the_server_hangs_after_quit(
        scheme: str, certificate: tuple[Path, Path], recorder: Recorder) -> None:
    server_tls = _server_context(certificate)
    options: dict[str, Any] = {"ssl_context" if scheme == "smtps" else "tls_context": server_tls}
    release = threading.Event()
    controller = _StalledGoodbye(release, recorder, hostname="127.0.0.1", port=free_port(),
                                 ready_timeout=10, **options)
    controller.start()
    config = parse_smtp_url(f"{scheme}://127.0.0.1:{controller.port}")
    client_tls = ssl.create_default_context(cafile=str(certificate[0]))
    raw = b"Message-ID: <afscheid@example.org>\r\nSubject: Hallo\r\n\r\nTekst\r\n"

    async def send_and_close() -> None:
        sender = SmtpSender(config, pool_size=1, timeout=5, quit_wait=0.2, tls_context=client_tls)
        try:
            await sender.send("secretariaat@example.org", "lid@example.org", raw)
        finally:
            await sender.close()

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            asyncio.run(send_and_close())
            gc.collect()
    finally:
        release.set()
        controller.stop()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
    assert sum(recorder.ids.values()) == 1


def test_plain_smtp_against_a_server_that_requires_starttls_pauses_the_queue(
        certificate: tuple[Path, Path], service: Service, sqlite_engine: Engine, clock: FrozenClock,
        recorder: Recorder) -> None:
    start(service)
    options = {"tls_context": _server_context(certificate), "require_starttls": True}
    with smtp_server(recorder, **options) as port:
        report = deliver(sqlite_engine, smtp(port), clock)
    assert report.paused
    assert report.sent == 0
    assert outbox_rows(sqlite_engine)[0].attempts == 0
    assert not recorder.ids


def test_a_closed_port_is_a_temporary_failure(service: Service, sqlite_engine: Engine,
                                              clock: FrozenClock) -> None:
    start(service)
    report = deliver(sqlite_engine, smtp(free_port()), clock)
    assert report.retried == 1
    assert outbox_rows(sqlite_engine)[0].status == "queued"


# --- without SMTP settings: files ------------------------------------------------------------------


def test_without_smtp_settings_mail_is_written_as_eml_files(
        service: Service, sqlite_engine: Engine, settings: Settings, clock: FrozenClock) -> None:
    for _ in range(2):
        start(service)

    report = deliver_once(sqlite_engine, settings, clock)

    assert report.sent == 2
    files = sorted(settings.mail_dir.iterdir())
    rows = outbox_rows(sqlite_engine)
    assert [f.name for f in files] == sorted(eml_name(m.raw) for m in rows)
    assert {f.read_bytes() for f in files} == {m.raw for m in rows}
    assert all(m.status == "sent" for m in rows)


def test_a_file_written_twice_stays_one_whole_file(tmp_path: Path) -> None:
    raw = b"Message-ID: <abc/../x@example.org>\r\nSubject: Hallo\r\n\r\nTekst\r\n"
    sender = FileSender(tmp_path / "mail")
    asyncio.run(sender.send("a@example.org", "b@example.org", raw))
    asyncio.run(sender.send("a@example.org", "b@example.org", raw))
    [written] = list((tmp_path / "mail").iterdir())
    assert written.name == "abc_.._x@example.org.eml"
    assert written.read_bytes() == raw
