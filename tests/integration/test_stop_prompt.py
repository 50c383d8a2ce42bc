"""Stopping is prompt (issue 7, point 10), and `serve` says why it cannot listen (points 7, 12).

A mail server that accepts the connection and never answers does not keep `advies worker` or
`advies serve` from stopping: on SIGTERM or Ctrl-C (SIGINT) the real process exits within
seconds, the mail in hand is handed back (queued again, the attempt not counted) and the rest
stays queued.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time as wallclock
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.conftest import TEST_SECRET
from tests.helpers import outbox as outbox_rows
from tests.integration.test_delivery_kill import START, queue_mails
from tests.integration.test_delivery_smtp import free_port
from tests.integration.test_secret_key import ADVIES

MAILS = 6
STOPS_WITHIN = 10.0  # seconds from the signal to the end of the process


@pytest.fixture
def hanging_smtp() -> Iterator[int]:
    """A server on 127.0.0.1 that takes every connection and never says a word."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(64)  # the kernel accepts; nobody ever answers
        yield int(server.getsockname()[1])


def environment(sqlite_url: str, tmp_path: Path, smtp_port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADVIES_")}
    env.update(ADVIES_DATABASE_URL=sqlite_url, ADVIES_SECRET_KEY=TEST_SECRET,
               ADVIES_SMTP_URL=f"smtp://127.0.0.1:{smtp_port}",
               ADVIES_MAIL_FROM="Adviesgroep <adviesgroep@example.org>",
               ADVIES_NOW=(START + timedelta(minutes=1)).isoformat())
    return env


def wait_until_sending(engine: Engine, process: subprocess.Popen[str]) -> None:
    """Poll the database (bounded) until the process holds mail in hand."""
    for _ in range(1500):  # at most ~30 s for the process to start and claim
        if any(m.status == "sending" for m in outbox_rows(engine)):
            return
        assert process.poll() is None, process.communicate()[0]
        wallclock.sleep(0.02)
    raise AssertionError("the process never started sending")


def wait_until_serving(port: int, process: subprocess.Popen[str]) -> None:
    """Poll (bounded) until the web server answers: stop a running server, not one starting up."""
    for _ in range(1500):  # at most ~30 s
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
                connection.sendall(b"GET /gezond HTTP/1.0\r\n\r\n")
                if connection.recv(64).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            pass
        assert process.poll() is None, process.communicate()[0]
        wallclock.sleep(0.02)
    raise AssertionError("the web server never answered")


def stop(process: subprocess.Popen[str], signum: signal.Signals) -> tuple[int, float, str]:
    began = wallclock.monotonic()
    process.send_signal(signum)
    try:
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    return process.returncode, wallclock.monotonic() - began, output


COMMANDS = {"worker": ["worker"], "worker --once": ["worker", "--once"], "serve": ["serve", "--port"]}


@pytest.mark.parametrize(("command", "signum"), [
    pytest.param(command, signum, id=f"{command}-{signum.name}")
    for command, signum in [("worker", signal.SIGTERM), ("worker", signal.SIGINT), ("serve", signal.SIGTERM),
                            ("serve", signal.SIGINT), ("worker --once", signal.SIGTERM)]])
def test_a_hanging_mail_server_does_not_keep_the_process_from_stopping(
        command: str, signum: signal.Signals, sqlite_url: str, sqlite_engine: Engine, tmp_path: Path,
        hanging_smtp: int) -> None:
    queue_mails(sqlite_engine, MAILS, START)
    arguments = [*COMMANDS[command], *([str(free_port())] if command == "serve" else [])]
    process = subprocess.Popen([ADVIES, *arguments], cwd=tmp_path, text=True,
                               env=environment(sqlite_url, tmp_path, hanging_smtp),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    wait_until_sending(sqlite_engine, process)
    if command == "serve":
        wait_until_serving(int(arguments[-1]), process)

    code, took, output = stop(process, signum)

    assert took < STOPS_WITHIN, output[-3000:]
    assert code == 0, output[-3000:]
    assert "Traceback" not in output
    rows = outbox_rows(sqlite_engine)
    assert {(m.status, m.attempts) for m in rows} == {("queued", 0)}  # handed back, nothing used up
    assert {m.claimed_by for m in rows} == {None}


# --- serve: a port that does not exist, and why it cannot listen -----------------------------------


def serve(sqlite_url: str, tmp_path: Path, *arguments: str,
          prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADVIES_")}
    env.update(ADVIES_DATABASE_URL=sqlite_url, ADVIES_SECRET_KEY=TEST_SECRET)
    return subprocess.run([*prefix, ADVIES, "serve", *arguments], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("port", ["70000", "0"])
def test_a_port_that_does_not_exist_is_one_dutch_line_and_exit_2(
        port: str, sqlite_url: str, sqlite_engine: Engine, tmp_path: Path) -> None:
    result = serve(sqlite_url, tmp_path, "--port", port)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        f"Fout: Poort {port} bestaat niet: kies met --port een getal van 1 tot en met 65535."]


def test_an_address_this_computer_does_not_have_is_named_as_such(
        sqlite_url: str, sqlite_engine: Engine, tmp_path: Path) -> None:
    result = serve(sqlite_url, tmp_path, "--host", "192.0.2.1", "--port", str(free_port()))  # TEST-NET-1
    assert result.returncode == 2, result.stderr
    assert "hoort niet bij deze computer" in result.stderr
    assert "in gebruik" not in result.stderr
    assert "Traceback" not in result.stderr


def test_a_port_without_permission_is_named_as_such(sqlite_url: str, sqlite_engine: Engine,
                                                    tmp_path: Path) -> None:
    prefix: tuple[str, ...] = ()
    if os.geteuid() == 0:  # root may listen anywhere: take that right away from the process
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("as root, setpriv is needed to drop the right to use ports under 1024")
        prefix = (setpriv, "--bounding-set=-net_bind_service")
    result = serve(sqlite_url, tmp_path, "--port", "81", prefix=prefix)
    assert result.returncode == 1, result.stderr
    assert "Geen toestemming om op poort 81 te luisteren" in result.stderr
    assert "in gebruik" not in result.stderr
