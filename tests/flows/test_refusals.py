"""Every kind of refusal: role, state, guard, unknown names, bad input. Nothing is written."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from app.service import Service
from engine.errors import InvalidInput, NotAllowed, NotFound
from tests.helpers import ADVISER, SECRETARIAT, member, outbox, start


def test_a_member_may_not_call_participants(service: Service) -> None:
    tid = start(service)["id"]
    with pytest.raises(NotAllowed, match=r"mag 'deelnemers oproepen' \(call_participants\) niet doen: "
                       r"dat mag alleen iemand met de rol stuurgroep of voorzitter\."):
        service.fire(tid, "call_participants", member("bram"))
    assert service.show(tid)["state"] == "requested"


def test_a_member_may_not_start_a_trajectory(service: Service) -> None:
    with pytest.raises(NotAllowed, match="mag geen traject starten"):
        service.start("asked_advice", "demo", "Iets", member("bram"), {"policy_adviser": ADVISER})


def test_event_not_possible_in_this_state(service: Service) -> None:
    tid = start(service)["id"]
    with pytest.raises(NotAllowed, match="kan niet in de stap"):
        service.fire(tid, "send_advice", SECRETARIAT, {"document": "x"})


def test_the_secretariat_cannot_sign_up_for_a_member(service: Service) -> None:
    tid = start(service)["id"]
    service.fire(tid, "call_participants", SECRETARIAT)
    with pytest.raises(NotAllowed, match=r"mag 'aanmelden' \(sign_up\) niet doen: "
                       r"dat mag alleen iemand met de rol deelnemer\."):
        service.fire(tid, "sign_up", SECRETARIAT)


def test_nothing_is_allowed_after_the_end(service: Service) -> None:
    tid = start(service)["id"]
    service.fire(tid, "withdraw", SECRETARIAT, {"reason": "weg"})
    with pytest.raises(NotAllowed):
        service.fire(tid, "withdraw", SECRETARIAT, {"reason": "nog eens"})


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda s, t: s.fire(t, "fly_away", SECRETARIAT), InvalidInput, "Onbekende gebeurtenis"),
        (lambda s, t: s.fire(999, "decline", SECRETARIAT), NotFound, "bestaat niet"),
        (lambda s, t: s.fire(t, "decline", "nobody@example.org"), NotFound, "niet"),
        (lambda s, t: s.fire(t, "decline", SECRETARIAT), InvalidInput, "reden"),
        (lambda s, t: s.fire(t, "decline", SECRETARIAT, {"reason": "a\nb"}), InvalidInput,
         "regelovergang"),
        (lambda s, t: s.fire(t, "decline", SECRETARIAT, {"reason": "x", "colour": "blue"}),
         InvalidInput, "kent het veld 'colour' niet"),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(service: Service, sqlite_engine: Engine,
                                                 call, error, message) -> None:
    tid = start(service)["id"]
    before = (service.show(tid), len(outbox(sqlite_engine)))
    with pytest.raises(error, match=message):
        call(service, tid)
    assert (service.show(tid), len(outbox(sqlite_engine))) == before


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "policy_adviser"),
        ({"policy_adviser": "not-an-address"}, "geen geldig e-mailadres"),
        ({"policy_adviser": "stranger@example.org"}, "staat niet in het bestand"),
        ({"policy_adviser": ADVISER, "received_on": "gisteren"}, "geen datum"),
    ],
)
def test_bad_start_input(service: Service, sqlite_engine: Engine, raw: dict, message: str) -> None:
    with pytest.raises((InvalidInput, NotFound), match=message):
        service.start("asked_advice", "demo", "Titel", SECRETARIAT, raw)
    assert outbox(sqlite_engine) == []


def test_unknown_flow_and_organisation(service: Service) -> None:
    with pytest.raises(NotFound, match="Onbekende stroom"):
        service.start("nope", "demo", "T", SECRETARIAT, {})
    with pytest.raises(NotFound, match="Organisatie 'elders'"):
        service.start("asked_advice", "elders", "T", SECRETARIAT, {"policy_adviser": ADVISER})


def test_title_with_line_break_is_refused(service: Service) -> None:
    with pytest.raises(InvalidInput, match="regelovergang"):
        service.start("asked_advice", "demo", "Titel\r\nBcc: x@evil.example", SECRETARIAT,
                      {"policy_adviser": ADVISER})
