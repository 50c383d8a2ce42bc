"""The short way of sending one mail (notifications.smtp_wire), against aiosmtpd on 127.0.0.1.

What the server receives on the short way is what aiosmtplib's own `sendmail` sends; a refusal is
raised as `sendmail` raises it, and the connection goes on; anything out of the ordinary (an
unusual address, a mail not in wire form, no EHLO yet) goes through `sendmail` itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import aiosmtplib
import pytest
from aiosmtpd.controller import Controller
from aiosmtplib.email import parse_address
from sqlalchemy import Engine

from app.service import Service
from notifications import smtp_wire
from notifications.senders import DeliveryFailure, PermanentFailure, SetupFailure, SmtpSender, classify
from notifications.smtp_url import parse_smtp_url
from tests.helpers import outbox as outbox_rows
from tests.helpers import start
from tests.integration.test_delivery_smtp import free_port

SENDER = "adviesgroep@example.org"
MAIL = (b"From: Adviesgroep <adviesgroep@example.org>\r\nTo: lid@example.org\r\n"
        b"Subject: Kort\r\nMessage-ID: <kort-%d@example.org>\r\n\r\nEen regel.\r\nNog een.\r\n")


class Envelopes:
    """An aiosmtpd handler that keeps every envelope it accepts, whole, and refuses on request."""

    def __init__(self) -> None:
        self.seen: list[tuple[Any, ...]] = []
        self.refuse_sender = ""  # reply to MAIL, when set
        self.refuse_recipient: dict[str, str] = {}  # recipient -> reply to RCPT
        self.refuse_data = ""  # reply to the end of DATA, when set

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str,
                          mail_options: list[str]) -> str:
        if self.refuse_sender:
            return self.refuse_sender
        envelope.mail_from, envelope.mail_options = address, list(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address in self.refuse_recipient:
            return self.refuse_recipient[address]
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse_data:
            return self.refuse_data
        self.seen.append((envelope.mail_from, tuple(envelope.mail_options), tuple(envelope.rcpt_tos),
                          tuple(envelope.rcpt_options), envelope.original_content))
        return "250 OK bewaard"


@pytest.fixture
def envelopes() -> Envelopes:
    return Envelopes()


@pytest.fixture
def port(envelopes: Envelopes) -> Iterator[int]:
    number = free_port()
    controller = Controller(envelopes, hostname="127.0.0.1", port=number, ready_timeout=10)
    controller.start()
    try:
        yield number
    finally:
        controller.stop()


async def nothing() -> None:
    return None


def both_ways(port: int, recipient: str, message: bytes) -> bool:
    """Send `message` with aiosmtplib's sendmail, then `smtp_wire.send_one`, over one
    connection; returns whether the short way could be taken."""

    async def run() -> bool:
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=5)
        await client.connect()
        try:
            await client.sendmail(SENDER, [recipient], message)
            short = smtp_wire.takes_short_way(client, SENDER, recipient, message)
            await smtp_wire.send_one(client, SENDER, recipient, message, nothing, 5)
            return short
        finally:
            await client.quit()

    return asyncio.run(run())


def test_the_short_way_sends_the_products_mail_as_sendmail_does(
        service: Service, sqlite_engine: Engine, envelopes: Envelopes, port: int) -> None:
    start(service)
    mail = outbox_rows(sqlite_engine)[0]

    assert both_ways(port, mail.recipient, mail.raw) is True

    by_sendmail, short = envelopes.seen
    assert short == by_sendmail
    assert by_sendmail[:4] == (SENDER, (f"SIZE={len(mail.raw)}",), (mail.recipient,), ())
    assert by_sendmail[4] == mail.raw


def twice_by_the_product(port: int, recipient: str, message: bytes) -> None:
    """Two sends over one connection of the product's sender: the first one does the EHLO."""

    async def run() -> None:
        sender = SmtpSender(parse_smtp_url(f"smtp://127.0.0.1:{port}"), pool_size=1, timeout=5)
        try:
            await sender.send(SENDER, recipient, message)
            await sender.send(SENDER, recipient, message)
        finally:
            await sender.close()

    asyncio.run(run())


@pytest.mark.parametrize("message", [
    b"Subject: LF\n\nEen regel met alleen LF.\n",
    b"Subject: punt\r\n\r\n.Een regel die met een punt begint\r\n",
    b"Subject: CR\r\n\r\nEen losse\rCR\r\n",
    b"Subject: geen einde\r\n\r\nZonder CRLF aan het eind",
    b".Subject: punt vooraan\r\n\r\nx\r\n",
])
def test_a_mail_not_in_wire_form_is_not_sent_the_short_way_and_arrives_as_sendmail_sends_it(
        envelopes: Envelopes, port: int, message: bytes) -> None:
    assert smtp_wire.in_wire_form(message) is False

    twice_by_the_product(port, "lid@example.org", message)

    by_sendmail, second = envelopes.seen
    assert second == by_sendmail


PLAIN = ["lid@example.org", "a.b-c_d+e@sub.example.nl", "Lid.Naam@Gemeente-Groningen.NL", "x@y",
         "o'brien@example.org", "lid%x@example.org", "a!#$&*/=?^`{|}~@example.org"]
UNUSUAL = ["Naam <lid@example.org>", "lid @example.org", "lid@example.org\r\nRCPT TO:<x@y.nl>",
           "ïlse@voorbeeld.nl", '"lid"@example.org', "lid..naam@example.org", ".lid@example.org",
           "lid@example..org", "lid@", "@example.org", "", "lid@[127.0.0.1]", "lid@example.org\n"]


@pytest.mark.parametrize("address", PLAIN)
def test_a_plain_address_is_what_aiosmtplib_would_send(address: str) -> None:
    assert smtp_wire.plain_address(address) is True
    assert parse_address(address) == address


@pytest.mark.parametrize("address", UNUSUAL)
def test_an_unusual_address_goes_through_sendmail(address: str) -> None:
    assert smtp_wire.plain_address(address) is False


def test_before_the_server_was_greeted_the_short_way_is_not_taken(port: int) -> None:
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=5)  # not connected: no EHLO

    assert smtp_wire.takes_short_way(client, SENDER, "lid@example.org", MAIL % 1) is False


def refuse(envelopes: Envelopes, what: str, on: bool) -> None:
    if what == "refuse_recipient":
        envelopes.refuse_recipient = {"weg@example.org": "550 5.1.1 Onbekend"} if on else {}
    else:
        setattr(envelopes, what, "554 5.7.1 Nee" if on else "")


def failures(port: int, envelopes: Envelopes, what: str) -> tuple[DeliveryFailure, DeliveryFailure]:
    """The same refusal met by aiosmtplib's sendmail and by the product's sender on the short
    way (its second mail over the connection: the first one greeted the server); then that
    connection sends one more mail."""

    async def run() -> tuple[DeliveryFailure, DeliveryFailure]:
        refuse(envelopes, what, True)
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=5)
        await client.connect()
        with pytest.raises(aiosmtplib.SMTPException) as by_sendmail:
            await client.sendmail(SENDER, ["weg@example.org"], MAIL % 1)
        await client.quit()
        sender = SmtpSender(parse_smtp_url(f"smtp://127.0.0.1:{port}"), pool_size=1, timeout=5)
        try:
            refuse(envelopes, what, False)
            await sender.send(SENDER, "lid@example.org", MAIL % 2)
            refuse(envelopes, what, True)
            with pytest.raises(DeliveryFailure) as short:
                await sender.send(SENDER, "weg@example.org", MAIL % 3)
            refuse(envelopes, what, False)
            await sender.send(SENDER, "lid@example.org", MAIL % 4)
        finally:
            await sender.close()
        return classify(by_sendmail.value), short.value

    assert smtp_wire.plain_address("weg@example.org")
    assert smtp_wire.in_wire_form(MAIL % 3)
    return asyncio.run(run())


@pytest.mark.parametrize(("what", "kind"), [("refuse_sender", SetupFailure),
                                            ("refuse_recipient", PermanentFailure),
                                            ("refuse_data", PermanentFailure)])
def test_a_refusal_on_the_short_way_fails_as_on_sendmail_and_the_connection_goes_on(
        envelopes: Envelopes, port: int, what: str, kind: type[DeliveryFailure]) -> None:
    by_sendmail, short = failures(port, envelopes, what)

    assert type(short) is type(by_sendmail) is kind
    assert (short.reason, short.reply, short.code) == (by_sendmail.reason, by_sendmail.reply,
                                                       by_sendmail.code)
    assert [seen[4] for seen in envelopes.seen] == [MAIL % 2, MAIL % 4]
