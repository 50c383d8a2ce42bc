"""The personal link in a call mail: works once, not after the call closes, not when changed."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import timedelta
from urllib.parse import unquote

import pytest
from sqlalchemy import Engine

from app.service import Service
from engine import tokens
from engine.clock import FrozenClock
from tests.helpers import SECRETARIAT, member, outbox, start


def link_for(engine: Engine, who: str) -> str:
    row = next(m for m in outbox(engine) if m.template == "asked_advice/call" and m.recipient == who)
    message = email.message_from_bytes(row.raw, policy=email.policy.default)
    text = message.get_body(preferencelist=("plain",)).get_content()
    return unquote(re.search(r"/antwoord/(\S+)", text).group(1))


@pytest.fixture
def called(service: Service) -> int:
    tid = start(service)["id"]
    service.fire(tid, "call_participants", SECRETARIAT)
    return tid


def test_the_link_signs_the_member_up_once(service: Service, sqlite_engine: Engine, called: int) -> None:
    token = link_for(sqlite_engine, member("cor"))
    view = service.answer(token, "sign_up")
    assert view["data"]["signups"] == [member("cor")]
    assert view["history"][-1]["actor"] == member("cor")
    with pytest.raises(tokens.TokenRefused) as refused:
        service.answer(token, "withdraw_signup")
    assert refused.value.reason == "used"
    assert service.show(called)["data"]["signups"] == [member("cor")]


def test_the_link_expires_when_the_call_closes(service: Service, sqlite_engine: Engine,
                                               clock: FrozenClock, called: int) -> None:
    token = link_for(sqlite_engine, member("cor"))
    clock.advance(timedelta(days=14, hours=15))  # signup_closes is 07-04-2026; now 08-04 00:30
    with pytest.raises(tokens.TokenRefused) as refused:
        service.answer(token, "sign_up")
    assert refused.value.reason == "expired"
    assert "signups" not in service.show(called)["data"]


def test_a_changed_link_is_refused(service: Service, sqlite_engine: Engine, called: int) -> None:
    token = link_for(sqlite_engine, member("cor"))
    forged = token.replace(token[5], "x" if token[5] != "x" else "y", 1)
    with pytest.raises(tokens.TokenRefused) as refused:
        service.answer(forged, "sign_up")
    assert refused.value.reason == "tampered"
