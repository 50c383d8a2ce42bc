"""One mail to one recipient over an open aiosmtplib connection, the short way when it can be.

aiosmtplib's `sendmail` parses both addresses four times (`email.utils.parseaddr`, to check
them and again to quote them) and runs regular expressions over the whole mail three times
(line endings for SIZE, line endings again and the doubling of leading dots for DATA). For the
product's own mails none of that changes a byte: their addresses are plain addr-specs, checked
when the mail was queued, and `notifications.message` builds every mail with CRLF line endings.
Over ten connections to a local aiosmtpd it was a third of the client's CPU per mail, and on a
two-core machine the mail server needs that core (BENCHMARKS.md, delivery).

`send_one` sends the commands `sendmail` would send, byte for byte, when `takes_short_way` says
that the parsing and the regular expressions would give back what they were given: EHLO done,
both addresses plain ASCII dot-atoms, the mail already in its wire form. Anything else goes
through `sendmail` itself, so an unusual address or mail is handled exactly as aiosmtplib
handles it. Either way the dot that ends the mail waits for `ready` (`data_ending_when_ready`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from notifications import mime

if TYPE_CHECKING:
    import aiosmtplib
    from aiosmtplib.response import SMTPResponse

Ready = Callable[[], Awaitable[None]]


def plain_address(address: str) -> bool:
    """True for an addr-spec that aiosmtplib would send as it is (between < and >): a dot-atom
    at an ASCII host name (`mime.PLAIN_ADDRESS`), which `parseaddr` gives back unchanged and in
    which no character can end or change an SMTP command line."""
    return mime.PLAIN_ADDRESS.match(address) is not None


def in_wire_form(message: bytes) -> bool:
    """True when DATA carries `message` unchanged (RFC 5321 4.5.2): every line ends in CRLF,
    there is no lone CR or LF, and no line starts with a dot."""
    crlf = message.count(b"\r\n")
    return (message.endswith(b"\r\n") and message.count(b"\n") == crlf == message.count(b"\r")
            and not message.startswith(b".") and b"\n." not in message)


def wire_form(message: bytes) -> bytes:
    """`message` as DATA carries it: what aiosmtplib makes of it, without its regular
    expressions when nothing would change."""
    if in_wire_form(message):
        return message
    from aiosmtplib.protocol import PERIOD_REGEX, normalize_message_line_endings

    return PERIOD_REGEX.sub(b"..", normalize_message_line_endings(message))


def takes_short_way(client: aiosmtplib.SMTP, envelope_from: str, recipient: str,
                    message: bytes) -> bool:
    """True when `send_one` may skip aiosmtplib's parsing: it would change nothing."""
    return (not client.is_ehlo_or_helo_needed and plain_address(envelope_from)
            and plain_address(recipient) and in_wire_form(message))


async def send_one(client: aiosmtplib.SMTP, envelope_from: str, recipient: str, message: bytes,
                   ready: Ready, timeout: float | None) -> SMTPResponse:
    """MAIL, RCPT, DATA and the mail, the dot that ends it once `ready()` returned; as
    `sendmail` sends them for a mail that `takes_short_way`, and raising what it raises: a
    refused sender (SMTPSenderRefused) or recipient (SMTPRecipientsRefused) or mail
    (SMTPDataError), after which the envelope is reset (RSET) as `sendmail` does."""
    import aiosmtplib
    from aiosmtplib.status import SMTPStatus

    size = [b"size=%d" % len(message)] if client.supports_extension("size") else []
    try:
        sender_reply = await client.execute_command(
            b"MAIL", b"FROM:<" + envelope_from.encode("ascii") + b">", *size, timeout=timeout)
        if sender_reply.code != SMTPStatus.completed:
            raise aiosmtplib.SMTPSenderRefused(sender_reply.code, sender_reply.message, envelope_from)
        recipient_reply = await client.execute_command(
            b"RCPT", b"TO:<" + recipient.encode("ascii") + b">", timeout=timeout)
        if recipient_reply.code not in (SMTPStatus.completed, SMTPStatus.will_forward):
            raise aiosmtplib.SMTPRecipientsRefused([aiosmtplib.SMTPRecipientRefused(
                recipient_reply.code, recipient_reply.message, recipient)])
        return await _data_ending_when_ready(client, message, ready, timeout)
    except (aiosmtplib.SMTPResponseException, aiosmtplib.SMTPRecipientsRefused):
        await _reset(client, timeout)
        raise


async def _reset(client: aiosmtplib.SMTP, timeout: float | None) -> None:
    import aiosmtplib

    try:
        await client.rset(timeout=timeout)
    except (ConnectionError, aiosmtplib.SMTPResponseException):
        pass  # as sendmail: the error that made us reset is the one to report


async def data_ending_when_ready(client: aiosmtplib.SMTP, message: bytes, ready: Ready,
                                 timeout: float | None = None) -> SMTPResponse:
    """DATA and the mail as aiosmtplib sends them, with the dot that ends the mail held back
    until `ready()` returned: the last moment at which the server has not taken the mail yet (a
    server keeps nothing of a mail whose connection closes before that dot, RFC 5321 4.1.1.4).
    An error of `ready` is raised as it is, the dot unsent."""
    return await _data_ending_when_ready(client, wire_form(message), ready, timeout)


async def _data_ending_when_ready(client: aiosmtplib.SMTP, wire: bytes, ready: Ready,
                                  timeout: float | None) -> SMTPResponse:
    """`data_ending_when_ready` for a mail already in wire form."""
    import aiosmtplib
    from aiosmtplib.status import SMTPStatus

    start = await client.execute_command(b"DATA", timeout=timeout)
    if start.code != SMTPStatus.start_input:
        raise aiosmtplib.SMTPDataError(start.code, start.message)
    if client.protocol is None:
        raise aiosmtplib.SMTPServerDisconnected("Connection lost")
    client.protocol.write(wire)
    await ready()
    done = await client.execute_command(b".", timeout=timeout)
    if done.code != SMTPStatus.completed:
        raise aiosmtplib.SMTPDataError(done.code, done.message)
    return done
