"""Mail configuration errors are named (issue 7, point 9), driven through the real commands.

`serve` and `worker` refuse to start with an ADVIES_SMTP_URL they cannot read or without a real
sender address (exit 2, the Dutch explanation); a TLS mismatch and a mail folder that cannot be
written pause delivery instead of using up the attempts; `worker --once` reports retries, and
exits 1 when mail failed for good or delivery is paused.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from storage import migrate
from storage.db import make_engine
from tests.conftest import TEST_SECRET
from tests.helpers import outbox as outbox_rows
from tests.integration.test_delivery_kill import START, queue_mails
from tests.integration.test_delivery_smtp import Recorder, free_port, smtp_server
from tests.integration.test_secret_key import ADVIES

SENDER = "Adviesgroep <adviesgroep@example.org>"


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Iterator[Engine]:
    """A migrated database without organisations: the only mail is what a test queues (no digest)."""
    engine = make_engine(sqlite_url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


def advies(tmp_path: Path, sqlite_url: str, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADVIES_")}
    env.update({"ADVIES_DATABASE_URL": sqlite_url, "ADVIES_SECRET_KEY": TEST_SECRET,
                "ADVIES_NOW": (START + timedelta(minutes=1)).isoformat(),
                "ADVIES_MAIL_DIR": str(tmp_path / "mail"), **settings})
    return subprocess.run([ADVIES, *args], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=30)


# --- refused at start ---------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "said"), [
    ("smtp://:25", "ADVIES_SMTP_URL noemt geen mailserver"),
    ("smtp://mail.example.org:99999", "De poort in ADVIES_SMTP_URL is geen getal tussen 1 en 65535"),
])
def test_the_worker_refuses_an_smtp_url_it_cannot_read_and_says_why(
        url: str, said: str, tmp_path: Path, sqlite_url: str, sqlite_engine: Engine) -> None:
    queue_mails(sqlite_engine, 1, START)
    result = advies(tmp_path, sqlite_url, "worker", "--once", ADVIES_SMTP_URL=url, ADVIES_MAIL_FROM=SENDER)
    assert result.returncode == 2, result.stderr
    assert said in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert {m.attempts for m in outbox_rows(sqlite_engine)} == {0}  # nothing was tried


@pytest.mark.parametrize(("command", "settings", "said"), [
    ("serve", {"ADVIES_SMTP_URL": "smtps://mail.example.org/pad"}, "ADVIES_SMTP_URL mag na de poort"),
    ("serve", {"ADVIES_SMTP_URL": "smtp://mail.example.org"}, "ADVIES_MAIL_FROM is niet ingesteld"),
    ("worker", {"ADVIES_SMTP_URL": "smtp://mail.example.org"}, "ADVIES_MAIL_FROM is niet ingesteld"),
])
def test_serve_and_worker_refuse_to_start_with_mail_settings_that_cannot_work(
        command: str, settings: dict[str, str], said: str, tmp_path: Path, sqlite_url: str,
        sqlite_engine: Engine) -> None:
    port = ["--port", str(free_port())] if command == "serve" else []
    result = advies(tmp_path, sqlite_url, command, *port, **settings)
    assert result.returncode == 2, result.stderr
    assert said in result.stderr
    assert "Traceback" not in result.stderr


def test_a_sender_no_mail_server_takes_is_refused(tmp_path: Path, sqlite_url: str,
                                                 sqlite_engine: Engine) -> None:
    result = advies(tmp_path, sqlite_url, "worker", "--once", ADVIES_SMTP_URL="smtp://mail.example.org",
                    ADVIES_MAIL_FROM="Adviestraject <adviestraject@localhost>")
    assert result.returncode == 2, result.stderr
    assert "is geen bruikbaar afzenderadres" in result.stderr


# --- paused, not used up ------------------------------------------------------------------------------


def test_smtps_to_a_plain_server_pauses_delivery_instead_of_using_up_attempts(
        tmp_path: Path, sqlite_url: str, sqlite_engine: Engine) -> None:
    queue_mails(sqlite_engine, 3, START)
    recorder = Recorder()
    with smtp_server(recorder) as port:  # plain SMTP, no TLS
        result = advies(tmp_path, sqlite_url, "worker", "--once", ADVIES_SMTP_URL=f"smtps://127.0.0.1:{port}",
                        ADVIES_MAIL_FROM=SENDER)
    assert result.returncode == 1, result.stderr
    assert "Probleem: mail: versturen gepauzeerd. De beveiligde verbinding (TLS)" in result.stdout
    assert "Mail: 0 verstuurd, 0 later opnieuw, 0 mislukt." in result.stdout
    assert {(m.status, m.attempts) for m in outbox_rows(sqlite_engine)} == {("queued", 0)}
    assert not recorder.ids


def test_a_mail_folder_that_cannot_be_written_pauses_delivery_and_says_so(
        tmp_path: Path, sqlite_url: str, sqlite_engine: Engine) -> None:
    queue_mails(sqlite_engine, 2, START)
    (tmp_path / "bestand").write_text("geen map")
    folder = tmp_path / "bestand" / "mail"  # under a file: no one can write there, not even root

    result = advies(tmp_path, sqlite_url, "worker", "--once", ADVIES_MAIL_DIR=str(folder))

    assert result.returncode == 1, result.stderr
    assert f"Probleem: mail: versturen gepauzeerd. De map voor mail ({folder}) kan niet worden beschreven" \
        in result.stdout
    assert "Mail versturen gepauzeerd: De map voor mail" in result.stderr  # and in the log
    assert {(m.status, m.attempts) for m in outbox_rows(sqlite_engine)} == {("queued", 0)}


# --- what --once reports --------------------------------------------------------------------------------


def test_once_reports_retries_and_exits_0_when_nothing_failed_for_good(
        tmp_path: Path, sqlite_url: str, sqlite_engine: Engine) -> None:
    queue_mails(sqlite_engine, 2, START)
    recorder = Recorder()
    recorder.busy = True  # 421 on every DATA: try again later
    with smtp_server(recorder) as port:
        result = advies(tmp_path, sqlite_url, "worker", "--once", ADVIES_SMTP_URL=f"smtp://127.0.0.1:{port}",
                        ADVIES_MAIL_FROM=SENDER)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Mail: 0 verstuurd, 2 later opnieuw, 0 mislukt." in result.stdout


def test_once_exits_1_when_mail_failed_for_good(tmp_path: Path, sqlite_url: str,
                                                 sqlite_engine: Engine) -> None:
    queue_mails(sqlite_engine, 2, START)
    recorder = Recorder()
    recorder.refuse["lid1@example.org"] = "550 5.1.1 Deze gebruiker bestaat niet"
    with smtp_server(recorder) as port:
        result = advies(tmp_path, sqlite_url, "worker", "--once", ADVIES_SMTP_URL=f"smtp://127.0.0.1:{port}",
                        ADVIES_MAIL_FROM=SENDER)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Mail: 1 verstuurd, 0 later opnieuw, 1 mislukt." in result.stdout
    assert "Probleem: mail: 1 mail(s) definitief niet bezorgd (zie advies outbox --failed)" in result.stdout
    assert sorted(m.status for m in outbox_rows(sqlite_engine)) == ["failed", "sent"]
