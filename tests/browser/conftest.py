"""Real headless Chromium (Debian's `chromium`, driven by Playwright through its executable path)
against a real `uvicorn` serving the app on 127.0.0.1, and axe-core run in each page.

The app's clock is the tests' FrozenClock: tests move it, never wait for it.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from app.service import Service
from app.sign_in import SignIn
from web.app import create_app

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
CHROMIUM_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-background-networking", "--no-first-run", "--disable-extensions"]


def chromium_path() -> str | None:
    return os.environ.get("ADVIES_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    """One Chromium for the browser tests, closed when they are done: Playwright's sync API keeps
    an event loop running in this thread meanwhile, which other tests' asyncio.run() cannot share."""
    path = chromium_path()
    if path is None:
        if os.environ.get("ADVIES_REQUIRE_BROWSER"):
            pytest.fail("Chromium is vereist (ADVIES_REQUIRE_BROWSER) maar niet gevonden.")
        pytest.skip("Chromium niet gevonden: installeer het pakket 'chromium' (make test doet dat).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        found = playwright.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS)
        yield found
        found.close()


class LiveServer:
    def __init__(self, service: Service) -> None:
        self.service = service
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        config = uvicorn.Config(create_app(service), host="127.0.0.1", port=self.port,
                                log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        started = threading.Event()
        while not self.server.started and self.thread.is_alive():
            started.wait(0.01)  # uvicorn starting up in its thread, not the app's clock
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def live(service: Service) -> Iterator[LiveServer]:
    service.settings.base_url = ""  # set below, once the port is known
    with LiveServer(service) as server:
        service.settings.base_url = server.url
        yield server


@pytest.fixture
def page(browser: Any, live: LiveServer) -> Iterator[Any]:
    # bypass_csp lets the test inject axe-core; the app's own pages run no script at all. No
    # locale is emulated: a date input then takes its dates in the order navigator.language says.
    context = browser.new_context(base_url=live.url, bypass_csp=True)
    found = context.new_page()
    yield found
    context.close()


def sign_in_as(page: Any, live: LiveServer, email: str, org: str = "demo") -> None:
    """Open a fresh sign-in link for this person and press its button, as they would from the mail."""
    page.goto(SignIn(live.service).link_for(email, org))
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_load_state()


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.1 A and AA violations on the page as it is now."""
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    result = page.evaluate("""async (tags) => {
        const found = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
        return found.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary)}));
    }""", WCAG_AA)
    return list(result)


def assert_accessible(page: Any) -> None:
    violations = axe_violations(page)
    assert not violations, json.dumps(violations, indent=2, ensure_ascii=False)
