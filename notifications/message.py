"""Build the bytes of one mail, once, when the transition commits.

What is the same for every recipient of one mailing (sender, date, the MIME structure, the
boundaries, an attachment's encoded bytes) is written once, in a `Letterhead`; per recipient
only what differs (To, Subject, Message-ID and the two text parts). The bytes are written
directly (notifications.mime), not by the `email` package: a message `email` parses to the same
headers and parts as one it built itself (tests/unit/test_mime.py compares them).

Header values are checked here: a line break in a name, subject or address is refused
(header injection), never silently folded. That is every Unicode line break (CR, LF, VT, FF,
U+001C-U+001E, NEL U+0085, U+2028, U+2029) and every other control character: the last line of
defence behind the input checks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from functools import lru_cache

from notifications import mime
from notifications.render import Encoded, Rendered

BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class HeaderInjection(ValueError):
    """A header value holds a line break or another control character."""


@dataclass(frozen=True)
class Party:
    name: str
    email: str


@dataclass(frozen=True)
class Attachment:
    data: bytes
    maintype: str
    subtype: str
    filename: str
    params: tuple[tuple[str, str], ...] = ()  # on its Content-Type, e.g. (("method", "REQUEST"),)


def _clean(value: str, what: str) -> str:
    if BREAKS.search(value):
        raise HeaderInjection(f"{what} bevat een regelovergang of stuurteken; zo'n mail wordt "
                              "niet gemaakt.")
    return value


def _address(header: str, party: Party) -> bytes:
    return mime.address(header, _clean(party.name, "De naam"),
                        _clean(party.email, "Het e-mailadres"))


@lru_cache(maxsize=16)  # the sender of every mail, checked and written once
def _from(sender: Party) -> bytes:
    return _address("From", sender)


@lru_cache(maxsize=16)  # the mails of one second (a sweep's batch) share their Date
def _dated(sent_at: datetime) -> bytes:
    return (mime.simple("Date", format_datetime(sent_at))
            + mime.simple("Auto-Submitted", "auto-generated")
            + b"MIME-Version: 1.0\r\n")


class Letterhead:
    """What every mail of one mailing shares, written once: a multipart/alternative (text and
    HTML), inside a multipart/mixed with the attachment when there is one."""

    def __init__(self, sender: Party, sent_at: datetime,
                 attachment: Attachment | None = None) -> None:
        self.sent_at = sent_at
        self.sender = _from(sender)
        self.alternative = mime.boundary("a")
        self.trailer = _dated(sent_at.replace(microsecond=0))
        alternative_type = mime.content_type("multipart/alternative",
                                             [("boundary", self.alternative)])
        if attachment is None:
            self.trailer += alternative_type + mime.CRLF
            self.before, self.after = b"", b""
        else:
            self._wrap(alternative_type, attachment)

    def _wrap(self, alternative_type: bytes, attachment: Attachment) -> None:
        """The alternative as the first part of a multipart/mixed, the attachment second."""
        mixed = mime.boundary("m")
        self.trailer += mime.content_type("multipart/mixed", [("boundary", mixed)]) + mime.CRLF
        delimiter = b"--" + mixed.encode("ascii") + mime.CRLF
        self.before = delimiter + alternative_type + mime.CRLF
        self.after = mime.CRLF + mime.multipart(mixed, [_attachment_part(attachment)])

    def build(self, recipient: Party, content: Rendered | Encoded, message_id: str) -> bytes:
        """One recipient's mail (its text and HTML encoded already, or encoded here)."""
        encoded = content.encoded() if isinstance(content, Rendered) else content
        return b"".join((
            self.sender,
            _address("To", recipient),
            mime.unstructured("Subject", _clean(encoded.subject, "Het onderwerp")),
            mime.simple("Message-ID", _clean(message_id, "Het Message-ID")),
            self.trailer,
            self.before,
            mime.multipart(self.alternative, [mime.TEXT_HEAD + encoded.text,
                                              mime.HTML_HEAD + encoded.html]),
            self.after,
        ))


def _attachment_part(attachment: Attachment) -> bytes:
    kind = f"{attachment.maintype}/{attachment.subtype}"
    return b"".join((
        mime.content_type(kind, attachment.params),
        b"Content-Transfer-Encoding: base64\r\n",
        mime.parameterised("Content-Disposition", "attachment",
                               [("filename", attachment.filename)]),
        mime.CRLF,
        mime.base64_body(attachment.data),
    ))


def build(
    *,
    sender: Party,
    recipient: Party,
    content: Rendered,
    message_id: str,
    sent_at: datetime,
    attachment: Attachment | None = None,
) -> bytes:
    """A multipart/alternative mail (text and HTML), optionally with a calendar invitation."""
    return Letterhead(sender, sent_at, attachment).build(recipient, content, message_id)
