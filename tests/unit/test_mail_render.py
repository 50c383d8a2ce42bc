"""Mail texts: every template renders; HTML is escaped; header injection is refused."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from app.service import Service
from flows import TEMPLATE_DIR
from notifications.message import HeaderInjection, Party, build
from notifications.render import Rendered, Renderer
from tests.helpers import ADVISER, SECRETARIAT, outbox


def test_html_is_escaped_but_text_is_not(service: Service, sqlite_engine: Engine) -> None:
    service.start("asked_advice", "demo", "Zorg & <script>alert(1)</script>", SECRETARIAT,
                  {"policy_adviser": ADVISER})
    message = email.message_from_bytes(outbox(sqlite_engine)[0].raw, policy=email.policy.default)
    html = message.get_body(preferencelist=("html",)).get_content()
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "&lt;script&gt;" in html
    assert "<script>" not in html
    assert "Zorg & <script>alert(1)</script>" in text
    assert message["Subject"].startswith("Adviesaanvraag ontvangen: Zorg &")
    assert message["Message-ID"] == outbox(sqlite_engine)[0].message_id


def test_every_template_has_both_parts() -> None:
    names = Renderer(TEMPLATE_DIR).template_names()
    bases = {n.rsplit(".", 2)[0] for n in names if n.startswith("asked_advice/")}
    for base in bases:
        assert {f"{base}.txt.j2", f"{base}.html.j2"} <= names


@pytest.mark.parametrize(
    ("name", "address", "subject"),
    [
        ("Anna\r\nBcc: evil@example.org", "anna@example.org", "Hallo"),
        ("Anna", "anna@example.org\r\nRCPT TO:<evil@example.org>", "Hallo"),
        ("Anna", "anna@example.org", "Hallo\nBcc: evil@example.org"),
    ],
)
def test_header_injection_is_refused(name: str, address: str, subject: str) -> None:
    with pytest.raises(HeaderInjection):
        build(sender=Party("Adviesgroep", "a@example.org"), recipient=Party(name, address),
              content=Rendered(subject, "tekst", "<p>tekst</p>"), message_id="<1@example.org>",
              sent_at=datetime(2026, 1, 1, tzinfo=UTC))
