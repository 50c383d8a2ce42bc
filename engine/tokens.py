"""Signed, expiring personal links ("tokens") for answering a call without an account.

The signature (itsdangerous, HMAC) makes a link tamper-proof; the expiry is checked against
the injected clock; single use is enforced by the runtime, which records each used `jti`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from itsdangerous import BadSignature, URLSafeSerializer

from engine.errors import AdviesError

SALT = "adviestraject.answer-link.v1"
MAX_ID = 2**63  # a database id is a signed 64-bit number


class TokenRefused(AdviesError):
    """The link cannot be used; `reason` is one of tampered, expired, used."""

    exit_code = 3

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


TAMPERED = TokenRefused("tampered", "Deze link is niet geldig. Gebruik de link uit de e-mail.")
USED = TokenRefused("used", "Deze link is al gebruikt. Een link werkt één keer.")


@dataclass(frozen=True)
class Claims:
    """What a link says. It names the person by id: no e-mail address travels in a URL."""

    trajectory_id: int
    person_id: int
    expires_at: datetime
    jti: str


def issue(secret: str, trajectory_id: int, person_id: int, expires_at: datetime) -> str:
    body = {"t": trajectory_id, "p": person_id, "x": expires_at.isoformat(),
            "j": secrets.token_hex(8)}
    return str(URLSafeSerializer(secret, salt=SALT).dumps(body))


def verify(secret: str, token: str, now: datetime) -> Claims:
    """The claims of a genuine, unexpired link; TokenRefused otherwise."""
    try:
        body = URLSafeSerializer(secret, salt=SALT).loads(token)
        claims = Claims(int(body["t"]), int(body["p"]), datetime.fromisoformat(body["x"]),
                        str(body["j"]))
    except (BadSignature, KeyError, TypeError, ValueError) as error:
        raise TAMPERED from error
    if not all(0 < n < MAX_ID for n in (claims.trajectory_id, claims.person_id)):
        raise TAMPERED
    if now >= claims.expires_at:
        raise TokenRefused("expired", "Deze link is verlopen: de aanmelding is gesloten.")
    return claims
