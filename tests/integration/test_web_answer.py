"""The page behind a member's personal link, answered as a member would: from a real call mail."""

from __future__ import annotations

import email
import email.policy
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from app.service import Service
from engine.clock import AMSTERDAM, FrozenClock
from storage.tables import UsedToken
from tests.helpers import ADVISER, MEMBERS, SECRETARIAT, member, outbox
from web.app import RedactLinks, create_app

with warnings.catch_warnings():
    # Starlette 1.x prefers httpx2 for its TestClient and warns about httpx; both work.
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

YES = {"antwoord": "sign_up"}
NO = {"antwoord": "withdraw_signup"}


# --- helpers ----------------------------------------------------------------------------


def call(service: Service, title: str = "Regiovisie beschermd wonen") -> int:
    raw = {"policy_adviser": ADVISER, "received_on": "2026-03-24"}
    tid = int(service.start("asked_advice", "demo", title, SECRETARIAT, raw)["id"])
    service.fire(tid, "call_participants", SECRETARIAT)
    return tid


def link(engine: Engine, tid: int, who: str) -> str:
    """The path of the personal link in the call mail to `who`, as the mail reader sees it."""
    row = next(m for m in outbox(engine, tid)
               if m.template == "asked_advice/call" and m.recipient == who)
    message = email.message_from_bytes(row.raw, policy=email.policy.default)
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    found = re.search(r"http://testserver/antwoord/\S+", body.get_content())
    assert found is not None
    return urlsplit(found.group(0)).path


def snapshot(service: Service, engine: Engine, tid: int) -> tuple[Any, ...]:
    """Everything an answer could change: the trajectory (data, history), mail, used links."""
    with Session(engine) as session:
        used = session.exec(select(func.count()).select_from(UsedToken)).one()
    return service.show(tid), len(outbox(engine)), used


def signup_closes(service: Service, tid: int) -> date:
    found = next(d for d in service.show(tid)["deadlines"] if d["name"] == "signup_closes")
    return date.fromisoformat(found["due"])


@pytest.fixture
def client(service: Service) -> Iterator[TestClient]:
    with TestClient(create_app(service)) as found:
        yield found


@pytest.fixture
def tid(service: Service) -> int:
    return call(service)


# --- looking never changes anything ------------------------------------------------------


def test_get_shows_the_call_and_changes_nothing(client: TestClient, service: Service,
                                                sqlite_engine: Engine, tid: int) -> None:
    path = link(sqlite_engine, tid, member("cor"))
    before = snapshot(service, sqlite_engine, tid)
    for _ in range(2):
        page = client.get(path)
        assert page.status_code == 200
        for shown in ("Regiovisie beschermd wonen", "Adviesgroep Sociaal Domein Voorbeeldstad",
                      "Ja, ik doe mee", "Nee, ik doe niet mee", 'value="sign_up"',
                      'value="withdraw_signup"', "dinsdag 7 april 2026", "De gemeente vraagt"):
            assert shown in page.text
    assert snapshot(service, sqlite_engine, tid) == before
    assert "<script" not in page.text


def test_get_tells_a_signed_up_member_so(client: TestClient, service: Service,
                                         sqlite_engine: Engine, tid: int) -> None:
    service.fire(tid, "sign_up", member("cor"))
    page = client.get(link(sqlite_engine, tid, member("cor")))
    assert page.status_code == 200
    assert "Je bent al aangemeld" in page.text


# --- answering -----------------------------------------------------------------------------


def test_yes_signs_the_member_up_with_the_member_as_actor(client: TestClient, service: Service,
                                                          sqlite_engine: Engine, tid: int) -> None:
    page = client.post(link(sqlite_engine, tid, member("cor")), data=YES)
    assert page.status_code == 200
    assert "Je doet mee" in page.text
    view = service.show(tid)
    assert view["data"]["signups"] == [member("cor")]
    assert view["history"][-1]["actor"] == member("cor")
    assert view["history"][-1]["event"] == "sign_up"


def test_the_same_link_twice_is_refused_and_changes_nothing(
        client: TestClient, service: Service, sqlite_engine: Engine, tid: int) -> None:
    path = link(sqlite_engine, tid, member("cor"))
    assert client.post(path, data=YES).status_code == 200
    before = snapshot(service, sqlite_engine, tid)
    again = client.post(path, data=NO)
    assert again.status_code == 409
    assert "al gebruikt" in again.text
    assert client.get(path).status_code == 409
    assert snapshot(service, sqlite_engine, tid) == before


def test_no_from_a_member_not_signed_up_changes_nothing_and_keeps_the_link(
        client: TestClient, service: Service, sqlite_engine: Engine, tid: int) -> None:
    path = link(sqlite_engine, tid, member("cor"))
    before = snapshot(service, sqlite_engine, tid)
    page = client.post(path, data=NO)
    assert page.status_code == 200
    assert "Dank je wel voor je antwoord" in page.text
    assert snapshot(service, sqlite_engine, tid) == before
    assert client.post(path, data=YES).status_code == 200
    assert service.show(tid)["data"]["signups"] == [member("cor")]


def test_no_from_a_signed_up_member_withdraws(client: TestClient, service: Service,
                                              sqlite_engine: Engine, tid: int) -> None:
    service.fire(tid, "sign_up", member("cor"))
    page = client.post(link(sqlite_engine, tid, member("cor")), data=NO)
    assert page.status_code == 200
    assert "Je bent afgemeld" in page.text
    view = service.show(tid)
    assert view["data"]["signups"] == []
    assert view["history"][-1]["actor"] == member("cor")
    assert view["history"][-1]["event"] == "withdraw_signup"


def test_yes_when_the_group_is_full_says_reserve(client: TestClient, service: Service,
                                                 sqlite_engine: Engine, tid: int) -> None:
    for name in MEMBERS[:6]:  # the demo organisation's group_max is 6
        service.fire(tid, "sign_up", member(name))
    page = client.post(link(sqlite_engine, tid, member("gerda")), data=YES)
    assert page.status_code == 200
    assert "reservelijst" in page.text


# --- refusals ------------------------------------------------------------------------------


def test_a_changed_link_is_refused(client: TestClient, service: Service,
                                   sqlite_engine: Engine, tid: int) -> None:
    path = link(sqlite_engine, tid, member("cor"))
    at = len("/antwoord/") + 5
    forged = path[:at] + ("x" if path[at] != "x" else "y") + path[at + 1:]
    before = snapshot(service, sqlite_engine, tid)
    assert client.get(forged).status_code == 400
    refused = client.post(forged, data=YES)
    assert refused.status_code == 400
    assert "niet geldig" in refused.text
    assert snapshot(service, sqlite_engine, tid) == before


def test_an_expired_link_is_refused(client: TestClient, service: Service, sqlite_engine: Engine,
                                    clock: FrozenClock, tid: int) -> None:
    path = link(sqlite_engine, tid, member("cor"))
    day_after = signup_closes(service, tid) + timedelta(days=1)
    clock.set(datetime(day_after.year, day_after.month, day_after.day, 9, 0, tzinfo=AMSTERDAM))
    before = snapshot(service, sqlite_engine, tid)
    shown = client.get(path)
    assert shown.status_code == 410
    assert "verlopen" in shown.text
    assert client.post(path, data=YES).status_code == 410
    assert snapshot(service, sqlite_engine, tid) == before


def test_a_closed_call_is_refused(client: TestClient, service: Service,
                                  sqlite_engine: Engine, tid: int) -> None:
    service.fire(tid, "close_signup", SECRETARIAT)
    path = link(sqlite_engine, tid, member("cor"))
    before = snapshot(service, sqlite_engine, tid)
    assert client.get(path).status_code == 409
    refused = client.post(path, data=YES)
    assert refused.status_code == 409
    assert "gesloten" in refused.text
    assert snapshot(service, sqlite_engine, tid) == before


def test_a_post_from_another_site_or_without_an_answer_changes_nothing(
        client: TestClient, service: Service, sqlite_engine: Engine, tid: int) -> None:
    path = link(sqlite_engine, tid, member("cor"))
    before = snapshot(service, sqlite_engine, tid)
    assert client.post(path, data=YES, headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert client.post(path, data={"antwoord": "close_signup"}).status_code == 400
    assert client.post(path).status_code == 400
    assert snapshot(service, sqlite_engine, tid) == before


# --- safety --------------------------------------------------------------------------------


def test_the_title_is_escaped(client: TestClient, service: Service, sqlite_engine: Engine) -> None:
    tid = call(service, "Zorg <script>alert(1)</script> & meer")
    page = client.get(link(sqlite_engine, tid, member("cor")))
    assert page.status_code == 200
    assert "<script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; meer" in page.text


def test_every_page_has_the_security_headers(client: TestClient, sqlite_engine: Engine,
                                             tid: int) -> None:
    path = link(sqlite_engine, tid, member("cor"))
    for response in (client.get(path), client.get("/antwoord/kapot"), client.get("/"),
                     client.get("/gezond")):
        headers = response.headers
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["cache-control"] == "no-store"
        policy = headers["content-security-policy"]
        assert "default-src 'none'" in policy
        assert "unsafe-inline" not in policy
        assert "script-src" not in policy  # falls back to default-src 'none': no scripts at all
    page = client.get(path)
    nonce = re.search(r'<style nonce="([^"]+)">', page.text)
    assert nonce is not None
    assert f"style-src 'nonce-{nonce.group(1)}'" in page.headers["content-security-policy"]


def test_the_start_page_and_the_health_check(client: TestClient) -> None:
    start = client.get("/", follow_redirects=False)
    assert start.status_code == 303
    assert start.headers["location"] == "/inloggen"
    assert client.get("/gezond").json() == {"status": "ok"}


def test_access_log_lines_hide_the_link_and_the_client() -> None:
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("10.1.2.3:5000", "GET", "/antwoord/eyJ0Ijo.abc?x=1", "1.1", 200), None)
    assert RedactLinks().filter(record)
    assert record.getMessage() == '- - "GET /antwoord/[link]?x=1 HTTP/1.1" 200'


# --- advies serve --------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_healthy(port: int, process: subprocess.Popen[bytes]) -> dict[str, Any]:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            said = process.stderr.read().decode() if process.stderr else ""
            pytest.fail(f"advies serve stopte meteen (code {process.returncode}): {said}")
        try:
            return dict(httpx.get(f"http://127.0.0.1:{port}/gezond", timeout=1).json())
        except httpx.TransportError:
            time.sleep(0.1)
    pytest.fail("advies serve gaf binnen 15 seconden geen antwoord op /gezond")


def _stop(process: subprocess.Popen[bytes]) -> tuple[int, str]:
    """SIGTERM, then the exit code and everything the server wrote (stdout and stderr)."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        out, err = process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise
    return process.returncode, out.decode() + err.decode()


def test_advies_serve_serves_and_stops_cleanly(tmp_path: Path) -> None:
    advies = str(Path(sys.executable).parent / "advies")
    env = {**os.environ, "ADVIES_DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}",
           "ADVIES_MAIL_DIR": str(tmp_path / "mail")}
    env.pop("ADVIES_NOW", None)
    subprocess.run([advies, "init", "--demo"], env=env, cwd=tmp_path, check=True,
                   capture_output=True, timeout=60)
    port = _free_port()
    process = subprocess.Popen([advies, "serve", "--port", str(port), "--inloglinks"], env=env,
                               cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert _wait_healthy(port, process) == {"status": "ok"}
        assert httpx.get(f"http://127.0.0.1:{port}/antwoord/geheim.link", timeout=5).status_code == 400
        link = subprocess.run([advies, "inloglink", "verbinding@example.org", "--org", "demo"],
                              env=env, cwd=tmp_path, check=True, capture_output=True, text=True,
                              timeout=60).stdout.strip()
        assert link.startswith("http://127.0.0.1:8000/inloggen/")  # ADVIES_BASE_URL's default
        with httpx.Client(timeout=5) as browser:
            path = link.removeprefix("http://127.0.0.1:8000")
            assert browser.post(f"http://127.0.0.1:{port}{path}").status_code == 303
            assert "Verlopen termijnen" in browser.get(f"http://127.0.0.1:{port}/trajecten").text
    finally:
        code, logged = _stop(process)
    assert code == 0, logged
    assert "/antwoord/[link]" in logged  # the access log names the page, not the link
    assert "geheim.link" not in logged
    assert f"verbindingsmedewerker (Joost Visser): http://127.0.0.1:{port}/inloggen/" in logged
    assert link.rsplit("/", 1)[1] not in logged.split("(Ctrl-C stopt).")[1].split("Verlopen?")[1]
