"""The sign-in pages and the overview in real Chromium, checked by axe-core (WCAG 2.1 AA)."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import LiveServer, assert_accessible, sign_in_as
from tests.helpers import SECRETARIAT


def test_the_sign_in_page_is_accessible(page: Any) -> None:
    page.goto("/inloggen")
    assert page.title().startswith("Inloggen")
    assert_accessible(page)


def test_a_wrong_address_is_shown_beside_the_field_accessibly(page: Any) -> None:
    page.goto("/inloggen")
    page.get_by_label("E-mailadres").fill("geen adres")
    page.get_by_role("button", name="Stuur mij een inloglink").click()
    assert "Vul je e-mailadres in" in page.locator("#email-fout").inner_text()
    assert_accessible(page)


def test_the_overview_is_accessible(page: Any, live: LiveServer) -> None:
    live.service.start("asked_advice", "demo", "Regiovisie beschermd wonen", SECRETARIAT,
                       {"policy_adviser": "beleid@example.org", "received_on": "2026-03-24"})
    sign_in_as(page, live, SECRETARIAT)
    assert page.url.endswith("/trajecten")
    assert page.get_by_role("link", name="Regiovisie beschermd wonen").is_visible()
    assert_accessible(page)


def test_axe_finds_what_is_wrong(page: Any) -> None:
    """The check can fail: a page without a language, title or image text has violations."""
    page.set_content("<html><body><img src='x.png'><input></body></html>")
    from tests.browser.conftest import axe_violations
    found = {v["id"] for v in axe_violations(page)}
    assert {"image-alt", "html-has-lang", "document-title", "label"} <= found
