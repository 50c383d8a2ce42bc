"""Screenshots of the main pages for the README (`make screenshots`): a fresh demo database, the
demo walked, `advies serve` started, each page opened in headless Chromium as the role that uses it.

Run with the project's venv: `.venv/bin/python scripts/screenshots.py [OUT_DIR]`.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import httpx
from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
ADVIES = str(Path(sys.executable).parent / "advies")
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]

#: (file, who signs in, organisation, path, what is done before the picture)
PAGES = [
    ("01-inloggen.png", None, None, "/inloggen", None),
    ("02-overzicht.png", "secretariaat@example.org", "demo", "/trajecten", None),
    ("03-traject.png", "secretariaat@example.org", "demo", "/trajecten/{running}", None),
    ("04-traject-starten.png", "secretariaat@example.org", "demo", "/starten/asked_advice", None),
    ("05-organisatie.png", "secretariaat@example.org", "demo", "/organisatie", None),
    ("06-termijnen.png", "verbinding@example.org", "demo", "/termijnen", None),
    ("07-mijn-trajecten.png", "harm@voorbeeldveld.example.org", "demo-md", "/mijn", None),
    ("08-agenda.png", "secretariaat@example.org", "demo", "/agenda", None),
    ("09-signaal-midden-drenthe.png", "secretaris@voorbeeldveld.example.org", "demo-md",
     "/trajecten?stroom=md_signal", None),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run(env: dict[str, str], *args: str) -> str:
    return subprocess.run([ADVIES, *args], env=env, check=True, capture_output=True, text=True,
                          timeout=300).stdout


def wait_until_up(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/gezond", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)  # a real server starting in another process: no clock to move
    raise SystemExit("advies serve kwam niet op")


def sign_in(page: Page, env: dict[str, str], email: str, org: str) -> None:
    page.context.clear_cookies()
    page.goto(run(env, "inloglink", email, "--org", org).strip())
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_load_state()


def main(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="advies-shots-"))
    port = free_port()
    env = {**os.environ, "ADVIES_DATABASE_URL": f"sqlite:///{work / 'advies.db'}",
           "ADVIES_MAIL_DIR": str(work / "mail"), "ADVIES_BASE_URL": f"http://127.0.0.1:{port}"}
    env.pop("ADVIES_SECRET_KEY", None)
    run(env, "init", "--demo")
    run(env, "demo")
    running = json.loads(run(env, "start", "asked_advice", "--org", "demo", "--title",
                             "Minimabeleid 2027", "--actor", "secretariaat@example.org",
                             "--set", "policy_adviser=beleid@example.org",
                             "--set", f"received_on={date.today().isoformat()}", "--json"))["id"]
    run(env, "fire", str(running), "call_participants", "--actor", "secretariaat@example.org")
    server = subprocess.Popen([ADVIES, "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_up(f"http://127.0.0.1:{port}")
        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=FLAGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900},
                                    base_url=f"http://127.0.0.1:{port}", locale="nl-NL")
            for name, email, org, path, _ in PAGES:
                if email and org:
                    sign_in(page, env, email, org)
                page.goto(path.format(running=running))
                page.screenshot(path=str(out_dir / name))
                sys.stdout.write(f"{out_dir / name}: {page.title()}\n")
            browser.close()
    finally:
        server.terminate()
        server.wait(15)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots")
