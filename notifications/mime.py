"""The bytes of a mail written directly: headers (RFC 5322, RFC 2047) and MIME parts (RFC 2045-2046).

The standard library's `email` package parses every header it is given and folds it again on
output: about 1.5 ms a mail, most of the cost of a call to fifty members. What our mails hold is
simple and known, so it is written here at once: header values checked by the caller (no line
breaks), ASCII text as it is and folded at spaces to lines of at most 78 characters, anything
else as Q encoded-words of UTF-8; text and HTML parts quoted-printable (lines of at most 76
characters, CRLF, "From " and a lone dot at a line start encoded); an attachment base64. An
address this module does not write itself (a quoted local part, a non-ASCII domain) is written
by `email` as before.

Boundaries start with "=_", which neither quoted-printable nor base64 ever writes, so no body can
contain one and none is searched for.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from collections.abc import Sequence
from email.headerregistry import Address
from email.policy import SMTP
from functools import lru_cache

CRLF = b"\r\n"
LINE = 78  # the longest header line (RFC 5322 2.1.1, "SHOULD")
ENCODED_WORD = 75  # the longest encoded-word (RFC 2047 2)
OPEN, CLOSE = "=?utf-8?q?", "?="
#: What a Q encoded-word may hold as it is, also in a display name (RFC 2047 5 (3)).
Q_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-/")
ATEXT = r"[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]"
#: A display name of atoms, one space between them: written without quotes.
ATOMS = re.compile(rf"{ATEXT}+(?: {ATEXT}+)*\Z")
#: An address written as it is: a dot-atom local part at an ASCII host name.
PLAIN_ADDRESS = re.compile(rf"{ATEXT}+(?:\.{ATEXT}+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\Z")
TEXT_HEAD = (b'Content-Type: text/plain; charset="utf-8"\r\n'
             b"Content-Transfer-Encoding: quoted-printable\r\n\r\n")
HTML_HEAD = (b'Content-Type: text/html; charset="utf-8"\r\n'
             b"Content-Transfer-Encoding: quoted-printable\r\n\r\n")


def _plain_text(value: str) -> bool:
    """ASCII a reader sees as it is: nothing a parser would decode, no word too long to fold."""
    return (value.isascii() and "=?" not in value and value == value.strip(" ")
            and all(len(word) <= LINE - 12 for word in value.split(" ")))


@lru_cache(maxsize=256)  # a call's mails share their subject; names and addresses are not kept
def unstructured(name: str, value: str) -> bytes:
    """A header of free text (Subject): plain ASCII folded at spaces, else encoded-words."""
    if _plain_text(value):
        return _fold(name, value.split(" "))
    return _fold(name, encoded_words(value, LINE - len(name) - 2))


def address(name: str, display: str, email: str) -> bytes:
    """An address header (From, To): `display <email>`, or the bare address without a name."""
    if not PLAIN_ADDRESS.match(email) or "=?" in email:
        return _by_email_package(name, display, email)
    if not display:
        return _fold(name, [email])
    if _plain_text(display) and len(display) <= LINE - len(name) - 4:
        phrase = display if ATOMS.match(display) else _quoted(display)
        return _fold(name, [phrase, f"<{email}>"])
    words = encoded_words(display, LINE - len(name) - 2)
    if len(words) > 1:  # parsers differ on the space between two encoded-words of a name
        return _by_email_package(name, display, email)
    return _fold(name, [words[0], f"<{email}>"])


def simple(name: str, value: str) -> bytes:
    """A header whose value is written as it is (Message-ID, Date, Auto-Submitted)."""
    if not value.isascii() or len(value) > LINE - len(name) - 2:
        return _by_email_package(name, "", value)
    return f"{name}: {value}\r\n".encode("ascii")


def _quoted(display: str) -> str:
    return '"' + display.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _fold(name: str, items: Sequence[str]) -> bytes:
    """`name: items` with one space between the items, a line broken before an item that would
    make it longer than LINE (never before an empty item: a line must hold more than spaces)."""
    lines, line = [], f"{name}: {items[0]}"
    for item in items[1:]:
        if item and len(line) + 1 + len(item) > LINE:
            lines.append(line)
            line = " " + item
        else:
            line += " " + item
    lines.append(line)
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def encoded_words(text: str, first: int) -> list[str]:
    """`text` as Q encoded-words of UTF-8 (RFC 2047), no character split over two: the first
    at most `first` long, the others at most ENCODED_WORD (a folded line: a space and a word)."""
    words: list[str] = []
    room = min(first, ENCODED_WORD) - len(OPEN) - len(CLOSE)
    chunk = ""
    for char in text:
        encoded = _q(char)
        if chunk and len(chunk) + len(encoded) > room:
            words.append(OPEN + chunk + CLOSE)
            chunk, room = "", ENCODED_WORD - len(OPEN) - len(CLOSE)
        chunk += encoded
    words.append(OPEN + chunk + CLOSE)
    return words


@lru_cache(maxsize=4096)
def _q(char: str) -> str:
    if char in Q_SAFE:
        return char
    if char == " ":
        return "_"
    return "".join(f"={byte:02X}" for byte in char.encode("utf-8"))


def _by_email_package(name: str, display: str, value: str) -> bytes:
    """What `email` (policy SMTP) writes for a header this module leaves to it."""
    if name in ("From", "To"):
        user, _, domain = value.rpartition("@")
        parsed = SMTP.header_store_parse(name, Address(display, user, domain))
    else:
        parsed = SMTP.header_store_parse(name, value)
    return SMTP.fold_binary(*parsed)


def quoted_printable(text: str) -> bytes:
    """A text part's body as the `email` package takes it (every \\r, \\n or \\r\\n a line end,
    one after the last line), quoted-printable with CRLF line ends."""
    body = b"\n".join(text.encode("utf-8").splitlines()) + b"\n"
    encoded = binascii.b2a_qp(body, istext=True)  # lines ≤ 76, a lone dot line encoded
    if encoded.startswith(b"From "):
        encoded = b"=46" + encoded[1:]
    return encoded.replace(b"\nFrom ", b"\n=46rom ").replace(b"\n", CRLF)


def base64_body(data: bytes) -> bytes:
    return base64.encodebytes(data).replace(b"\n", CRLF)


def boundary(kind: str) -> str:
    """A boundary no part can contain (see the module's text); `kind` keeps two apart."""
    return f"=_{kind}{secrets.token_hex(12)}"


def content_type(kind: str, params: Sequence[tuple[str, str]]) -> bytes:
    """`Content-Type: kind; name="value"…` folded before each parameter that would not fit."""
    return parameterised("Content-Type", kind, params)


def parameterised(name: str, value: str, params: Sequence[tuple[str, str]]) -> bytes:
    """A header of a value and parameters (Content-Type, Content-Disposition)."""
    return _fold(name, [value + (";" if params else ""), *_params(params)])


def _params(params: Sequence[tuple[str, str]]) -> list[str]:
    written = [f'{key}="{_param_value(value)}"' for key, value in params]
    return [item + ";" for item in written[:-1]] + written[-1:]


def _param_value(value: str) -> str:
    if not value.isascii() or not value.isprintable() or '"' in value or "\\" in value:
        raise ValueError(f"Parameter value {value!r} is not plain ASCII.")
    return value


def multipart(separator: str, parts: Sequence[bytes]) -> bytes:
    """The body of a multipart: each part (its headers, a blank line, its body) between
    delimiter lines, the closing delimiter last."""
    delimiter = b"--" + separator.encode("ascii")
    return b"".join(delimiter + CRLF + part + CRLF for part in parts) + delimiter + b"--" + CRLF
