"""Read ADVIES_SMTP_URL: `smtp://`, `smtp+starttls://` or `smtps://`, optionally with `user:pass@`.

The password never appears in a repr, a str or an error message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import SplitResult, unquote, urlsplit

Mode = Literal["plain", "starttls", "tls"]

SCHEMES: dict[str, tuple[Mode, int]] = {
    "smtp": ("plain", 25),
    "smtp+starttls": ("starttls", 587),
    "smtps": ("tls", 465),
}
EXAMPLE = "smtp+starttls://gebruiker:wachtwoord@mail.example.org:587"


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    mode: Mode
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    def __str__(self) -> str:
        """The URL without the password, safe for logs and messages."""
        scheme = {mode: name for name, (mode, _) in SCHEMES.items()}[self.mode]
        user = f"{self.username}@" if self.username else ""
        return f"{scheme}://{user}{self.host}:{self.port}"


def parse_smtp_url(url: str) -> SmtpConfig:
    """Parse ADVIES_SMTP_URL; anything unclear is a ValueError with a Dutch message."""
    parts = _split(url.strip())
    mode, default_port = _mode(parts.scheme)
    username, password = _credentials(parts)
    return SmtpConfig(host=_host(parts), port=_port(parts, default_port), mode=mode,
                      username=username, password=password)


def _split(url: str) -> SplitResult:
    if not url:
        raise ValueError(f"ADVIES_SMTP_URL is leeg. Schrijf bijvoorbeeld {EXAMPLE}")
    try:
        parts = urlsplit(url)
    except ValueError as error:
        raise ValueError(f"ADVIES_SMTP_URL is geen geldig adres. Voorbeeld: {EXAMPLE}") from error
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError("ADVIES_SMTP_URL mag na de poort niets meer bevatten (geen pad, ? of #).")
    return parts


def _mode(scheme: str) -> tuple[Mode, int]:
    if scheme.lower() not in SCHEMES:
        known = ", ".join(f"{name}://" for name in SCHEMES)
        raise ValueError(f"ADVIES_SMTP_URL begint met een onbekend soort adres. Kies uit: {known}")
    return SCHEMES[scheme.lower()]


def _host(parts: SplitResult) -> str:
    if not parts.hostname:
        raise ValueError(f"ADVIES_SMTP_URL noemt geen mailserver. Voorbeeld: {EXAMPLE}")
    return parts.hostname


def _port(parts: SplitResult, default: int) -> int:
    try:
        port = parts.port
    except ValueError as error:
        raise ValueError("De poort in ADVIES_SMTP_URL is geen getal tussen 1 en 65535.") from error
    if port == 0:
        raise ValueError("De poort in ADVIES_SMTP_URL is geen getal tussen 1 en 65535.")
    return port or default


def _credentials(parts: SplitResult) -> tuple[str | None, str | None]:
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    if username and password is None:
        raise ValueError("ADVIES_SMTP_URL noemt een gebruikersnaam zonder wachtwoord. "
                         "Schrijf gebruiker:wachtwoord@server.")
    if password is not None and not username:
        raise ValueError("ADVIES_SMTP_URL noemt een wachtwoord zonder gebruikersnaam.")
    return username, password
