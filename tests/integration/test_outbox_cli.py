"""`advies outbox [--failed] [--json]` and `advies outbox retry ID` on a real SQLite file."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner, Result

from app.service import Service
from cli import outbox_cmd
from engine.clock import FrozenClock
from notifications.delivery import deliver_all_due
from notifications.senders import MemorySender, PermanentFailure
from tests.helpers import ADVISER, SECRETARIAT, outbox, start

Invoke = Callable[..., Result]


@pytest.fixture
def invoke(sqlite_url: str, clock: FrozenClock) -> Invoke:
    runner = CliRunner()
    env = {"ADVIES_DATABASE_URL": sqlite_url, "ADVIES_NOW": clock.now().isoformat(),
           "ADVIES_SMTP_URL": ""}

    def run(*args: str) -> Result:
        return runner.invoke(outbox_cmd.app, list(args), env=env)

    return run


def fail_the_adviser(engine: Engine, clock: FrozenClock) -> MemorySender:
    sender = MemorySender()
    refused = PermanentFailure("De mailserver neemt dit adres niet aan.", "550 5.1.1 Onbekend", 550)
    sender.fail(ADVISER, refused)
    asyncio.run(deliver_all_due(engine, sender, clock.now))
    return sender


def test_the_listing_shows_each_mail_and_its_state(service: Service, sqlite_engine: Engine,
                                                  clock: FrozenClock, invoke: Invoke) -> None:
    start(service)
    listed = invoke()
    assert listed.exit_code == 0, listed.output
    assert "wacht" in listed.output
    assert ADVISER in listed.output

    [row] = json.loads(invoke("--json").stdout)
    assert row["status"] == "queued"
    assert row["recipient"] == ADVISER
    assert row["attempts"] == 0
    assert row["message_id"] == outbox(sqlite_engine)[0].message_id
    assert "raw" not in row
    assert json.loads(invoke("--failed", "--json").stdout) == []
    assert "geen mislukte mail" in invoke("--failed").output


def test_failed_mail_is_listed_and_can_be_retried(service: Service, sqlite_engine: Engine,
                                                 clock: FrozenClock, invoke: Invoke) -> None:
    start(service)
    fail_the_adviser(sqlite_engine, clock)
    failed = json.loads(invoke("--failed", "--json").stdout)
    assert [(r["recipient"], r["status"]) for r in failed] == [(ADVISER, "failed")]
    assert "550 5.1.1" in failed[0]["last_error"]
    assert "mislukt" in invoke("--failed").output
    assert {r["recipient"] for r in json.loads(invoke("--json").stdout)} == {ADVISER, SECRETARIAT}

    retried = invoke("retry", str(failed[0]["id"]))

    assert retried.exit_code == 0, retried.output
    assert "staat weer klaar" in retried.output
    mail = outbox(sqlite_engine)[0]
    assert (mail.status, mail.attempts, mail.next_attempt_at) == ("queued", 0, clock.now())
    sender = MemorySender()
    asyncio.run(deliver_all_due(sqlite_engine, sender, clock.now))
    assert [m.recipient for m in sender.sent] == [ADVISER]


def test_retry_refuses_unknown_and_sent_mail(service: Service, sqlite_engine: Engine, clock: FrozenClock,
                                            invoke: Invoke) -> None:
    start(service)
    unknown = invoke("retry", "999")
    assert unknown.exit_code == 2
    assert "Mail 999 staat niet in de uitgaande post" in unknown.stderr

    fail_the_adviser(sqlite_engine, clock)
    notice = outbox(sqlite_engine)[1]
    assert notice.status == "sent"
    again = invoke("retry", str(notice.id), "--json")
    assert again.exit_code == 3
    assert "al verstuurd" in json.loads(again.stdout)["error"]

    as_json = json.loads(invoke("retry", str(outbox(sqlite_engine)[0].id), "--json").stdout)
    assert as_json["status"] == "queued"
    assert as_json["attempts"] == 0
