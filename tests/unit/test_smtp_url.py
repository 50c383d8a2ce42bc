"""ADVIES_SMTP_URL: the three modes, login, default ports, and Dutch errors without the password."""

from __future__ import annotations

import pytest

from notifications.smtp_url import SmtpConfig, parse_smtp_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://localhost", SmtpConfig("localhost", 25, "plain")),
        ("smtp://127.0.0.1:1025", SmtpConfig("127.0.0.1", 1025, "plain")),
        ("smtp+starttls://mail.example.org", SmtpConfig("mail.example.org", 587, "starttls")),
        ("SMTPS://Mail.Example.org", SmtpConfig("mail.example.org", 465, "tls")),
        ("smtps://u:p@[::1]:2465/", SmtpConfig("::1", 2465, "tls", "u", "p")),
        ("smtp+starttls://adviesgroep%40gemeente.nl:g%3Ah%40%2Fim@smtp.gemeente.nl:587",
         SmtpConfig("smtp.gemeente.nl", 587, "starttls", "adviesgroep@gemeente.nl", "g:h@/im")),
    ],
)
def test_good_urls(url: str, expected: SmtpConfig) -> None:
    assert parse_smtp_url(url) == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "leeg"),
        ("http://mail.example.org", "onbekend soort adres"),
        ("smtp+ssl://mail.example.org", r"smtp\+starttls://, smtps://"),
        ("smtp://", "noemt geen mailserver"),
        ("smtp://mail.example.org:99999", "poort"),
        ("smtp://mail.example.org:poort", "poort"),
        ("smtp://mail.example.org:0", "poort"),
        ("smtp://gebruiker@mail.example.org", "zonder wachtwoord"),
        ("smtp://:geheim-wachtwoord@mail.example.org", "zonder gebruikersnaam"),
        ("smtp://u:geheim-wachtwoord@mail.example.org/pad?x=1", "niets meer"),
    ],
)
def test_bad_urls_give_a_dutch_message_without_the_password(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        parse_smtp_url(url)
    assert "geheim-wachtwoord" not in str(caught.value)


def test_the_password_is_never_shown() -> None:
    config = parse_smtp_url("smtp+starttls://advies:geheim-wachtwoord@mail.example.org")
    assert config.password == "geheim-wachtwoord"
    assert "geheim" not in repr(config)
    assert "geheim" not in str(config)
    assert str(config) == "smtp+starttls://advies@mail.example.org:587"
