"""Mails written directly (notifications.mime) read as the `email` package's own did.

Each case is built twice: by `build` and by the standard library as `build` did before
(`EmailMessage`, policy SMTP, `as_bytes`), and both are parsed with `policy=default`: the same
headers, the same parts with the same content, and no defects. Where the `email` package
itself loses what it was given (it decodes a literal "=?…?=" in a subject or name and makes
two spaces in a name one), the new mail must keep it. Awkward inputs on purpose:
accents, emoji, long subjects and names, quotes and commas, a line of 1,000 characters, "From "
at a line start, a lone dot, a meeting invitation.
"""

from __future__ import annotations

import email
import email.policy
import itertools
from datetime import UTC, date, datetime, time
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.policy import SMTP
from email.utils import format_datetime

import pytest

from app.invitation import Meeting, ics
from notifications import mime
from notifications.message import Attachment, HeaderInjection, Letterhead, Party, build
from notifications.render import Rendered

SENT_AT = datetime(2026, 3, 24, 8, 0, tzinfo=UTC)
SENDER = Party("Adviesgroep Zorg & Welzijn", "adviesgroep@example.org")
NAMES = [
    "Anna",
    "Jöhn Doe-Ñame",
    'Émile "de Baas", jr.',
    "Zoë 😀",
    "O'Brien, Seán",
    "Jan  de Vries",  # two spaces
    "Anna (secretaris) \\ test",
    "Pietje Puk van der Heijden-Bakker tot Oosterwijk en Groot-Ammers bij Utrecht",
    "Ærøskøbing Ünal Çelik Łukasz Ğüneş Þórunn Ðorđević Ñúñez Œuvre Ŵŷ ŁŁŁ",
    "=?utf-8?q?nep?=",
    "",
]
ADDRESSES = ["anna@example.org", "o'brien+raad@sub.example.org", '"anna de v"@example.org']
SUBJECTS = [
    "Hallo",
    "Doe je mee? Advies over \"Één ärger\", met komma's",
    "Uitnodiging 😀 — eerste bijeenkomst",
    "Advies over " + " ".join(["een heel lang onderwerp"] * 12),
    "Lang woord: " + "x" * 120,
    "Over =?utf-8?q?nep?= en  twee spaties",
    "",
]
TEXTS = [
    "Beste Anna,\n\nGewoon een tekst.\n",
    "Beste Zoë,\n\nFrom the start\n.\nnog een regel met spaties aan het eind   \n" + "ä" * 1000,
    "a" * 1000 + "\r\nregel\rna CR\n\ttab aan het begin\n= is geen =3D\n..\n. \nEnd",
    "",
]
HTMLS = [
    "<p>Beste Anna,</p>\n<p><a href=\"https://example.org/antwoord/" + "x" * 200 + "\">link</a></p>\n",
    "<!doctype html>\n<p style=\"font-family: Arial, sans-serif; font-size: 16px; line-height: 1.5;\">"
    "&ldquo;Zoë&rdquo; 😀</p>\nFrom here\n.\n",
]


def old_build(sender: Party, recipient: Party, content: Rendered, message_id: str,
              attachment: Attachment | None) -> bytes:
    """What `build` made before it wrote the bytes itself."""
    message = EmailMessage(policy=SMTP)
    message["From"] = _address(sender)
    message["To"] = _address(recipient)
    message["Subject"] = content.subject
    message["Message-ID"] = message_id
    message["Date"] = format_datetime(SENT_AT)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(content.text)
    message.add_alternative(content.html, subtype="html")
    if attachment is not None:
        message.add_attachment(attachment.data, maintype=attachment.maintype,
                               subtype=attachment.subtype, filename=attachment.filename,
                               params=dict(attachment.params))
    return message.as_bytes()


def _address(party: Party) -> Address:
    user, _, domain = party.email.rpartition("@")
    return Address(display_name=party.name, username=user, domain=domain)


def _taken_apart(party: Party) -> tuple[str, str, str]:
    user, _, domain = party.email.rpartition("@")
    return party.name, user, domain


def invitation() -> Attachment:
    meeting = Meeting("traject-3-eerste-bijeenkomst@example.org", 2, "Eerste bijeenkomst: Zorg, één",
                      date(2026, 4, 14), time(19, 30), "Zaal 1; Stadhuis")
    return ics(meeting, organizer=SENDER, stamp=SENT_AT,
               attendees=[Party(name, "lid@example.org") for name in NAMES])


def parsed(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def headers(message: EmailMessage) -> dict[str, object]:
    """Every header as a reader sees it, the addresses taken apart, without the boundary."""
    found: dict[str, object] = {name: str(value) for name, value in message.items()
                                if name != "Content-Type"}
    for name in ("From", "To"):
        found[name + " addresses"] = [(a.display_name, a.username, a.domain)
                                      for a in message[name].addresses]
    found["Content-Type"] = message.get_content_type()
    return found


def parts(message: Message) -> list[tuple[object, ...]]:
    """Each part: its type, parameters (but the boundary), disposition, file name, content."""
    found: list[tuple[object, ...]] = []
    for part in message.walk():
        assert isinstance(part, EmailMessage)
        params = [p for p in part.get_params() or [] if p[0] != "boundary"]
        content = None if part.is_multipart() else part.get_content()
        found.append((part.get_content_type(), params, part.get_content_disposition(),
                      part.get_filename(), content))
    return found


def assert_same(recipient: Party, content: Rendered, attachment: Attachment | None = None) -> bytes:
    message_id = "<0123456789abcdef@example.org>"
    new = build(sender=SENDER, recipient=recipient, content=content, message_id=message_id,
                sent_at=SENT_AT, attachment=attachment)
    old = old_build(SENDER, recipient, content, message_id, attachment)
    new_message, old_message = parsed(new), parsed(old)
    new_headers, old_headers = headers(new_message), headers(old_message)
    given = {("Subject",): content.subject, ("To addresses", "To"): [_taken_apart(recipient)]}
    for names, value in given.items():
        if new_headers[names[0]] != old_headers[names[0]]:  # where `email` lost what it got
            assert new_headers[names[0]] == value
            for name in names:
                new_headers.pop(name), old_headers.pop(name)
    assert new_headers == old_headers
    assert parts(new_message) == parts(old_message)
    assert all(not part.defects for part in new_message.walk())
    return new


def assert_well_formed(raw: bytes) -> None:
    """CRLF line ends only; header lines of at most 78, body lines of at most 76 characters."""
    head, _, body = raw.partition(b"\r\n\r\n")
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert b"\r" not in raw.replace(b"\r\n", b"")
    assert raw.isascii()
    assert all(len(line) <= 78 for line in head.split(b"\r\n"))
    assert all(len(line) <= 76 for line in body.split(b"\r\n"))
    assert not any(line.startswith(b"From ") for line in raw.split(b"\r\n"))
    assert b"\r\n.\r\n" not in raw


@pytest.mark.parametrize(("name", "subject"), list(itertools.product(NAMES, SUBJECTS)))
def test_names_and_subjects_read_as_before(name: str, subject: str) -> None:
    raw = assert_same(Party(name, "anna@example.org"), Rendered(subject, TEXTS[0], HTMLS[0]))
    if len(name) < 60 and "Lang woord" not in subject:  # the email package writes longer lines
        assert_well_formed(raw)


@pytest.mark.parametrize("address", ADDRESSES)
@pytest.mark.parametrize("name", ["Anna", "Zoë 😀", ""])
def test_addresses_read_as_before(address: str, name: str) -> None:
    assert_same(Party(name, address), Rendered("Hallo", TEXTS[0], HTMLS[0]))


@pytest.mark.parametrize(("text", "html"), list(itertools.product(TEXTS, HTMLS)))
def test_bodies_read_as_before(text: str, html: str) -> None:
    raw = assert_same(Party("Zoë", "zoe@example.org"), Rendered("Hallo", text, html))
    assert_well_formed(raw)


@pytest.mark.parametrize("name", ["Anna", "Zoë 😀", 'Émile "de Baas", jr.'])
def test_a_meeting_invitation_reads_as_before(name: str) -> None:
    raw = assert_same(Party(name, "lid@example.org"),
                      Rendered("Uitnodiging: één bijeenkomst", TEXTS[1], HTMLS[1]), invitation())
    assert_well_formed(raw)


def test_one_letterhead_gives_each_recipient_their_own_mail() -> None:
    letterhead = Letterhead(SENDER, SENT_AT, invitation())
    mails = [parsed(letterhead.build(Party(f"Lid {n}", f"lid{n}@example.org"),
                                     Rendered("Hallo", f"Beste Lid {n},\n", f"<p>Lid {n}</p>\n"),
                                     f"<{n}@example.org>"))
             for n in range(3)]
    for n, message in enumerate(mails):
        assert message["To"].addresses[0].addr_spec == f"lid{n}@example.org"
        assert message["Message-ID"] == f"<{n}@example.org>"
        plain = message.get_body(("plain",))
        assert plain is not None
        assert plain.get_content() == f"Beste Lid {n},\r\n"
        assert [p.get_filename() for p in message.iter_attachments()] == ["uitnodiging.ics"]


@pytest.mark.parametrize("char", ["\r", "\n", "\x0b", "\x0c", "\x1c", "\x85", "\u2028", "\u2029"])
def test_a_letterhead_refuses_line_breaks_per_recipient(char: str) -> None:
    letterhead = Letterhead(SENDER, SENT_AT)
    for recipient, subject, message_id in [
        (Party(f"Anna{char}Bcc: x@example.org", "a@example.org"), "Hallo", "<1@example.org>"),
        (Party("Anna", f"a@example.org{char}x"), "Hallo", "<1@example.org>"),
        (Party("Anna", "a@example.org"), f"Hallo{char}Bcc: x@example.org", "<1@example.org>"),
        (Party("Anna", "a@example.org"), "Hallo", f"<1@example.org>{char}Bcc: x"),
    ]:
        with pytest.raises(HeaderInjection, match="regelovergang of stuurteken"):
            letterhead.build(recipient, Rendered(subject, "tekst", "<p>tekst</p>"), message_id)
    with pytest.raises(HeaderInjection):
        Letterhead(Party(f"Adviesgroep{char}", "a@example.org"), SENT_AT)


def test_encoded_words_never_split_a_character() -> None:
    words = mime.encoded_words("😀" * 40, 60)
    assert len(words) > 1
    assert all(len(word) <= mime.ENCODED_WORD for word in words)
    assert all(word.count("=F0") * 4 * 3 == len(word) - len("=?utf-8?q??=") for word in words)
