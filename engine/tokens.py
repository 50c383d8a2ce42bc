"""Signed, expiring personal links ("tokens") for answering a call without an account.

The signature (itsdangerous, HMAC) makes a link tamper-proof; single use is enforced by the
runtime, which records each used `jti`. A link works until its call closes: while the call's
sign-up term runs, until the end of that term's last day (Europe/Amsterdam), also when the term
was extended after the link was mailed (`check_open`); otherwise until the expiry it carries.
"""

from __future__ import annotations

import base64
import functools
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from itsdangerous import BadSignature, URLSafeSerializer

from engine.clock import AMSTERDAM
from engine.errors import AdviesError

SALT = "adviestraject.answer-link.v1"
MAX_ID = 2**63  # a database id is a signed 64-bit number
#: JSON as itsdangerous writes it (its _CompactJSON), the encoder made once.
COMPACT_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


class TokenRefused(AdviesError):
    """The link cannot be used; `reason` is one of tampered, expired, used."""

    exit_code = 3

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


TAMPERED = TokenRefused("tampered", "Deze link is niet geldig. Gebruik de link uit de e-mail.")
USED = TokenRefused("used", "Deze link is al gebruikt. Een link werkt één keer.")
EXPIRED = TokenRefused("expired", "Deze link is verlopen: de aanmelding is gesloten.")


@dataclass(frozen=True)
class Claims:
    """What a link says. It names the person by id: no e-mail address travels in a URL."""

    trajectory_id: int
    person_id: int
    expires_at: datetime
    jti: str


def issue(secret: str, trajectory_id: int, person_id: int, expires_at: datetime) -> str:
    """A link's token, as itsdangerous's URLSafeSerializer writes it (and `read` reads it): the
    claims as compact JSON in URL-safe base64, a dot, their HMAC-SHA1 with the key itsdangerous
    derives from the secret. Signed here at once, with the derived key kept per secret: through
    the serializer each of a call's fifty links cost a new signer, a key derivation, a
    pure-Python HMAC and a zlib attempt. The claims are never compressed (the serializer does
    when that saves two bytes, with long ids; `read` takes both forms, and the attempt cost as
    much as the rest of the link)."""
    body = {"t": trajectory_id, "p": person_id, "x": expires_at.isoformat(),
            "j": secrets.token_hex(8)}
    payload = _base64(COMPACT_JSON.encode(body).encode())
    signature = hmac.digest(_signing_key(secret), payload, "sha1")
    return (payload + b"." + _base64(signature)).decode("ascii")


def _base64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


@functools.lru_cache(maxsize=8)
def _serializer(secret: str) -> URLSafeSerializer:
    """One serializer per key (a call makes fifty links with the same key); a new key gets its
    own, so a rotated key never verifies with the old one."""
    return URLSafeSerializer(secret, salt=SALT)


@functools.lru_cache(maxsize=8)
def _signing_key(secret: str) -> bytes:
    """The key the serializer of `secret` signs with (itsdangerous's own derivation, done once
    per secret: a new secret gets its own key)."""
    signer = _serializer(secret).make_signer()
    assert signer.digest_method().name == "sha1"  # what `issue` signs with
    return signer.derive_key()


@dataclass(frozen=True)
class CallWindow:
    """The sign-up term of the call a link answers, as it stands now."""

    started_on: date
    due: date

    @property
    def closes_at(self) -> datetime:
        """The end of the term's last day, Europe/Amsterdam."""
        return datetime.combine(self.due + timedelta(days=1), time(0), AMSTERDAM)

    def issued_within(self, claims: Claims) -> bool:
        """Whether the link was made for this call: it did not expire before the call began
        (a link of an earlier, closed call does not open a later one)."""
        return claims.expires_at > datetime.combine(self.started_on, time(0), AMSTERDAM)


def read(secret: str, token: str) -> Claims:
    """The claims of a genuine link (its expiry not yet checked); TokenRefused otherwise."""
    try:
        body = _serializer(secret).loads(token)
        claims = Claims(int(body["t"]), int(body["p"]), datetime.fromisoformat(body["x"]),
                        str(body["j"]))
    except (BadSignature, KeyError, TypeError, ValueError) as error:
        raise TAMPERED from error
    if not all(0 < n < MAX_ID for n in (claims.trajectory_id, claims.person_id)):
        raise TAMPERED
    if claims.expires_at.tzinfo is None:
        raise TAMPERED
    return claims


def check_open(claims: Claims, now: datetime, window: CallWindow | None) -> None:
    """Refuse a link whose call has closed: the running sign-up term decides when there is one
    the link belongs to, else the expiry the link carries."""
    closes_at = window.closes_at if window and window.issued_within(claims) else claims.expires_at
    if now >= closes_at:
        raise EXPIRED


def verify(secret: str, token: str, now: datetime) -> Claims:
    """The claims of a genuine link that has not passed its own expiry; TokenRefused otherwise."""
    claims = read(secret, token)
    check_open(claims, now, None)
    return claims
