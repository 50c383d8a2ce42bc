"""Every page of the web interface, as the role that uses it, in real Chromium: no axe-core
violation (WCAG 2.1 AA), readable at 200 % and 400 % zoom without scrolling sideways (a viewport
of 640 and 320 CSS pixels: 1280 pixels at that zoom), and a focus ring that can be seen."""

from __future__ import annotations

from typing import Any

import pytest

from app.service import Service
from tests.browser.conftest import LiveServer, assert_accessible, sign_in_as
from tests.helpers import ADVISER, SECRETARIAT, member

STAFF_PAGES = ["/trajecten", "/trajecten/{id}", "/starten", "/starten/asked_advice",
               "/organisatie", "/termijnen", "/agenda", "/mijn", "/importeren", "/planning",
               "/planning/nieuw", "/stromen", "/jaarverslag", "/deelname"]
MEMBER_PAGES = ["/mijn", "/trajecten/{id}", "/agenda"]
ZOOMS = {"200%": 640, "400%": 320}


def a_running_call(service: Service) -> int:
    raw = {"policy_adviser": ADVISER, "received_on": "2026-03-24"}
    tid = int(service.start("asked_advice", "demo", "Regiovisie beschermd wonen", SECRETARIAT, raw)["id"])
    service.fire(tid, "call_participants", SECRETARIAT)
    service.fire(tid, "sign_up", member("bram"))
    return tid


def sideways_overflow(page: Any) -> int:
    return int(page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth"))


def check_page(page: Any, path: str) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    response = page.goto(path)
    assert response is not None
    assert response.status == 200, path
    assert_accessible(page)
    for zoom, width in ZOOMS.items():
        page.set_viewport_size({"width": width, "height": 800})
        assert sideways_overflow(page) <= 0, f"{path} schuift zijwaarts bij {zoom}"


@pytest.mark.parametrize(("who", "paths"), [(SECRETARIAT, STAFF_PAGES), (member("bram"), MEMBER_PAGES)],
                         ids=["secretariaat", "deelnemer"])
def test_every_page_is_accessible_and_reflows(page: Any, live: LiveServer, who: str,
                                              paths: list[str]) -> None:
    tid = a_running_call(live.service)
    sign_in_as(page, live, who)
    for path in paths:
        check_page(page, path.format(id=tid))


def test_the_focus_ring_is_visible(page: Any, live: LiveServer) -> None:
    sign_in_as(page, live, SECRETARIAT)
    page.keyboard.press("Tab")
    ring = page.evaluate("""() => { const s = getComputedStyle(document.activeElement);
        return [document.activeElement.textContent.trim(), s.outlineStyle, s.outlineWidth, s.boxShadow]; }""")
    assert ring[0] == "Naar de inhoud"  # the skip link comes first
    assert ring[1] == "solid"
    assert float(ring[2].removesuffix("px")) >= 3
    assert "rgb(0, 0, 0)" in ring[3]  # a black edge around the yellow ring: contrast on any background
