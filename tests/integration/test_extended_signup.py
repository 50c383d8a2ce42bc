"""Extending the sign-up term keeps the mailed links working, and tells the members (issue 7,
point 4).

The links in the call mail carried the old end of the sign-up term: after an extension they
expired at the old end while the call was still open. Now a link works until the call actually
closes (the end of the last day of its running sign-up term, Europe/Amsterdam), and everyone the
call went to hears the new date. Answered as a member would: the link from the real call mail,
opened and posted through the web page.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from datetime import datetime
from urllib.parse import unquote, urlsplit

import pytest
from sqlalchemy import Engine

from app.service import Service
from engine import tokens
from engine.clock import AMSTERDAM, FrozenClock
from tests.helpers import ADVISER, MEMBERS, SECRETARIAT, member, outbox, plain
from web.app import create_app

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

YES = {"antwoord": "sign_up"}
OLD_END = datetime(2026, 4, 7, 23, 59, tzinfo=AMSTERDAM)  # the call of 24 March closes 7 April


@pytest.fixture
def client(service: Service) -> Iterator[TestClient]:
    with TestClient(create_app(service)) as found:
        yield found


@pytest.fixture
def called(service: Service) -> int:
    raw = {"policy_adviser": ADVISER, "received_on": "2026-03-24"}
    tid = int(service.start("asked_advice", "demo", "Regiovisie beschermd wonen", SECRETARIAT, raw)["id"])
    service.fire(tid, "call_participants", SECRETARIAT)
    return tid


def link(engine: Engine, template: str, who: str) -> str:
    """The path of the personal link in the last mail of `template` to `who`."""
    row = next(m for m in reversed(outbox(engine)) if m.template == template and m.recipient == who)
    found = re.search(r"http://testserver/antwoord/\S+", plain(row))
    assert found is not None
    return urlsplit(found.group(0)).path


def extend(service: Service, tid: int, until: str) -> None:
    service.fire(tid, "extend", SECRETARIAT, {"deadline": "signup_closes", "until": until,
                                               "reason": "nog te weinig aanmeldingen"})


def test_the_old_link_works_until_the_extended_term_ends(service: Service, clock: FrozenClock,
                                                         sqlite_engine: Engine, client: TestClient,
                                                         called: int) -> None:
    cor, dewi = (link(sqlite_engine, "asked_advice/call", member(n)) for n in ("cor", "dewi"))
    extend(service, called, "2026-04-21")
    clock.set(datetime(2026, 4, 8, 0, 30, tzinfo=AMSTERDAM))  # past the old end, not the new one
    page = client.get(cor)
    assert page.status_code == 200, page.text
    assert "dinsdag 21 april 2026" in page.text
    answered = client.post(cor, data=YES)
    assert answered.status_code == 200, answered.text
    assert service.show(called)["data"]["signups"] == [member("cor")]

    clock.set(datetime(2026, 4, 22, 0, 0, tzinfo=AMSTERDAM))  # the extended term has ended
    late = client.get(dewi)
    assert late.status_code == 410
    assert "verlopen" in late.text


def test_the_service_checks_the_call_not_only_the_link(service: Service, clock: FrozenClock,
                                                       sqlite_engine: Engine, called: int) -> None:
    token = unquote(link(sqlite_engine, "asked_advice/call", member("els")).rsplit("/", 1)[1])
    claims = tokens.read(service.settings.signing_key(), token)
    assert claims.expires_at == datetime(2026, 4, 8, tzinfo=AMSTERDAM)  # what the link says
    extend(service, called, "2026-04-14")
    clock.set(datetime(2026, 4, 14, 23, 59, tzinfo=AMSTERDAM))
    assert member("els") in service.answer(token, "sign_up")["data"]["signups"]
    other = unquote(link(sqlite_engine, "asked_advice/call", member("farid")).rsplit("/", 1)[1])
    clock.set(datetime(2026, 4, 15, 0, 0, tzinfo=AMSTERDAM))
    with pytest.raises(tokens.TokenRefused) as refused:
        service.answer(other, "sign_up")
    assert refused.value.reason == "expired"


def test_everyone_called_hears_the_new_date_with_a_link(service: Service, clock: FrozenClock,
                                                        sqlite_engine: Engine, client: TestClient,
                                                        called: int) -> None:
    service.fire(called, "sign_up", member("anna"))
    extend(service, called, "2026-04-21")
    told = [m for m in outbox(sqlite_engine, called) if m.template == "call/signup_extended"]
    assert sorted(m.recipient for m in told) == sorted(member(n) for n in MEMBERS)
    assert {m.subject for m in told} == {"Je kunt je langer aanmelden: Regiovisie beschermd wonen"}
    body = plain(told[0])
    assert "tot en met dinsdag 21 april 2026" in body
    assert "Heb je je al aangemeld? Dan hoef je niets te doen." in body
    clock.set(datetime(2026, 4, 20, 12, 0, tzinfo=AMSTERDAM))
    fresh = link(sqlite_engine, "call/signup_extended", member("gerda"))
    assert client.post(fresh, data=YES).status_code == 200
    assert member("gerda") in service.show(called)["data"]["signups"]


def test_a_link_of_an_earlier_call_does_not_open_a_later_one(service: Service, clock: FrozenClock,
                                                             sqlite_engine: Engine, client: TestClient,
                                                             called: int) -> None:
    old = link(sqlite_engine, "asked_advice/call", member("hamid"))
    clock.set(datetime(2026, 4, 8, 9, 0, tzinfo=AMSTERDAM))
    service.fire(called, "close_signup", SECRETARIAT)  # nobody signed up: understaffed
    service.fire(called, "call_again", SECRETARIAT)  # a new call, a new term, new links
    assert client.get(old).status_code == 410
    new = link(sqlite_engine, "asked_advice/call", member("hamid"))
    assert new != old
    assert client.get(new).status_code == 200
