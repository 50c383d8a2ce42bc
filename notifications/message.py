"""Build the bytes of one mail, once, when the transition commits.

Header values are checked here: a line break in a name, subject or address is refused
(header injection), never silently folded. That is every Unicode line break (CR, LF, VT, FF,
U+001C-U+001E, NEL U+0085, U+2028, U+2029) and every other control character: the last line of
defence behind the input checks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from notifications.render import Rendered

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


def _address(party: Party) -> Address:
    user, _, domain = _clean(party.email, "Het e-mailadres").rpartition("@")
    return Address(display_name=_clean(party.name, "De naam"), username=user, domain=domain)


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
    message = EmailMessage(policy=SMTP)
    message["From"] = _address(sender)
    message["To"] = _address(recipient)
    message["Subject"] = _clean(content.subject, "Het onderwerp")
    message["Message-ID"] = _clean(message_id, "Het Message-ID")
    message["Date"] = format_datetime(sent_at)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(content.text)
    message.add_alternative(content.html, subtype="html")
    if attachment is not None:
        message.add_attachment(attachment.data, maintype=attachment.maintype,
                               subtype=attachment.subtype, filename=attachment.filename,
                               params=dict(attachment.params))
    return message.as_bytes()
