"""Walk every state and exit of asked_advice through the real service on a SQLite file."""

from __future__ import annotations

import email
import email.policy
from datetime import timedelta

import pytest
from sqlalchemy import Engine

from app.service import Service
from engine.clock import FrozenClock
from engine.errors import NotAllowed
from tests.helpers import (
    ADVISER,
    LIAISON,
    MEMBERS,
    SECRETARIAT,
    deadline,
    mails_to,
    member,
    outbox,
    start,
    to_awaiting_response,
    to_matching,
)

ALL_MEMBERS = {member(n) for n in MEMBERS}



def test_request_mails_receipt_and_starts_advice_term(service: Service, sqlite_engine: Engine) -> None:
    view = start(service)
    assert view["state"] == "requested"
    due = deadline(view, "advice_due")
    assert due["due"] == "2026-05-06"
    assert due["explanation"] == (
        "6 weken na ontvangst op 24-03-2026 = 05-05-2026 (Bevrijdingsdag) → woensdag 06-05-2026"
    )
    assert mails_to(sqlite_engine, "asked_advice/receipt") == [ADVISER]
    assert view["allowed_events"][:2] == ["call_participants", "decline"]
    assert "resume" not in view["allowed_events"]  # nothing to resume until suspended


def test_explicit_advice_date_from_the_request(service: Service) -> None:
    view = start(service, advice_due="2026-06-15")
    assert deadline(view, "advice_due")["due"] == "2026-06-15"


def test_decline_tells_the_policy_adviser_and_cancels_terms(service: Service, sqlite_engine: Engine) -> None:
    tid = start(service)["id"]
    view = service.fire(tid, "decline", SECRETARIAT, {"reason": "Valt buiten ons domein"})
    assert view["state"] == "declined"
    assert view["allowed_events"] == []
    assert deadline(view, "advice_due")["status"] == "cancelled"
    assert mails_to(sqlite_engine, "asked_advice/declined") == [ADVISER]


def test_call_mails_every_member_a_personal_link(service: Service, sqlite_engine: Engine) -> None:
    tid = start(service)["id"]
    view = service.fire(tid, "call_participants", SECRETARIAT)
    assert view["state"] == "calling"
    calls = [m for m in outbox(sqlite_engine) if m.template == "asked_advice/call"]
    assert {m.recipient for m in calls} == ALL_MEMBERS
    links = {m.raw.split(b"/antwoord/")[1][:40] for m in calls}
    assert len(links) == len(calls)  # every member has their own link
    assert deadline(view, "signup_closes")["due"] == "2026-04-07"  # 10 days → Good Friday → Tue


def test_signups_beyond_the_maximum_are_reserves(service: Service, clock: FrozenClock,
                                                 sqlite_engine: Engine) -> None:
    tid = to_matching(service, clock, signups=8)  # demo organisation: at most 6
    view = service.show(tid)
    assert view["state"] == "matching"
    assert view["data"]["group"] == [member(n) for n in MEMBERS[:6]]
    assert view["data"]["reserves"] == [member(n) for n in MEMBERS[6:8]]
    assert sorted(mails_to(sqlite_engine, "call/signup_reserve")) == [
        member("gerda"), member("hamid")]
    assert sorted(mails_to(sqlite_engine, "call/reserve_list")) == [
        member("gerda"), member("hamid")]
    formed = set(mails_to(sqlite_engine, "asked_advice/group_formed"))
    assert formed == {ADVISER, *(member(n) for n in MEMBERS[:6])}


def test_withdraw_signup_and_signing_up_twice(service: Service) -> None:
    tid = start(service)["id"]
    service.fire(tid, "call_participants", SECRETARIAT)
    service.fire(tid, "sign_up", member("anna"))
    with pytest.raises(NotAllowed, match="al aangemeld"):
        service.fire(tid, "sign_up", member("anna"))
    view = service.fire(tid, "withdraw_signup", member("anna"))
    assert view["data"]["signups"] == []
    with pytest.raises(NotAllowed, match="niet aangemeld"):
        service.fire(tid, "withdraw_signup", member("anna"))


def test_too_few_signups_is_understaffed_then_call_again(service: Service, clock: FrozenClock) -> None:
    tid = to_matching(service, clock, signups=2)
    view = service.show(tid)
    assert view["state"] == "understaffed"
    assert deadline(view, "signup_closes")["status"] == "met"
    view = service.fire(tid, "call_again", SECRETARIAT)
    assert view["state"] == "calling"
    running = [d for d in view["deadlines"] if d["name"] == "signup_closes" and d["status"] == "running"]
    assert len(running) == 1


def test_proceed_anyway_needs_a_reason_and_a_signup(service: Service, clock: FrozenClock) -> None:
    tid = to_matching(service, clock, signups=2)
    view = service.fire(tid, "proceed_anyway", SECRETARIAT, {"reason": "Klein maar deskundig"})
    assert view["state"] == "matching"
    assert view["data"]["group"] == [member("anna"), member("bram")]


def test_proceed_anyway_refused_without_signups(service: Service, clock: FrozenClock) -> None:
    tid = to_matching(service, clock, signups=0)
    with pytest.raises(NotAllowed, match="nog niemand"):
        service.fire(tid, "proceed_anyway", SECRETARIAT, {"reason": "toch"})


def test_understaffed_can_be_declined(service: Service, clock: FrozenClock) -> None:
    tid = to_matching(service, clock, signups=1)
    assert service.fire(tid, "decline", SECRETARIAT, {"reason": "geen mensen"})["state"] == "declined"


def test_meeting_invitation_has_an_icalendar_part(service: Service, clock: FrozenClock,
                                                  sqlite_engine: Engine) -> None:
    tid = to_matching(service, clock)
    service.fire(tid, "plan_meeting", SECRETARIAT,
                 {"meeting_on": "2026-04-14", "meeting_time": "19:30", "meeting_place": "Stadhuis"})
    invites = [m for m in outbox(sqlite_engine) if m.template == "asked_advice/meeting_invitation"]
    assert len(invites) == 7  # six members and the policy adviser
    message = email.message_from_bytes(invites[0].raw, policy=email.policy.default)
    calendar = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
    ics = calendar.get_payload(decode=True)
    assert b"BEGIN:VCALENDAR" in ics
    assert b"DTSTART;TZID=Europe/Amsterdam:20260414T193000" in ics


def test_contact_person_must_be_in_the_group(service: Service, clock: FrozenClock) -> None:
    tid = to_matching(service, clock)
    service.fire(tid, "first_meeting_held", SECRETARIAT)
    with pytest.raises(NotAllowed, match="in de projectgroep"):
        service.fire(tid, "choose_contact", SECRETARIAT, {"contact_person": member("hamid")})
    view = service.fire(tid, "choose_contact", SECRETARIAT, {"contact_person": member("bram")})
    assert view["state"] == "consulting"


def test_send_advice_starts_the_response_term(service: Service, clock: FrozenClock,
                                              sqlite_engine: Engine) -> None:
    tid = to_awaiting_response(service, clock)
    view = service.show(tid)
    assert view["state"] == "awaiting_response"
    assert deadline(view, "advice_due")["status"] == "met"
    response = deadline(view, "response_due")
    assert response["due"] == "2026-05-08"  # sent 27-03-2026 + 6 weeks
    sent = set(mails_to(sqlite_engine, "asked_advice/advice_sent"))
    assert {LIAISON, ADVISER, "wethouder@example.org"} <= sent


def test_response_goes_to_group_and_all_members(service: Service, clock: FrozenClock,
                                                sqlite_engine: Engine) -> None:
    tid = to_awaiting_response(service, clock)
    service.fire(tid, "publish", SECRETARIAT, {"url": "https://example.org/advies-1"})
    clock.advance(timedelta(days=20))
    view = service.fire(tid, "record_response", LIAISON,
                        {"received_on": "2026-04-16", "document": "Het college neemt het over."})
    assert view["state"] == "monitoring"
    assert deadline(view, "response_due")["status"] == "met"
    # 6 months from 16-04-2026 plus the 62 days of the demo organisation's summer recess
    assert deadline(view, "follow_up")["due"] == "2026-12-17"
    assert set(mails_to(sqlite_engine, "asked_advice/response_received")) == ALL_MEMBERS | {ADVISER}
    view = service.fire(tid, "close", SECRETARIAT)
    assert view["state"] == "closed"
    assert deadline(view, "follow_up")["status"] == "met"


def test_publish_only_once_and_only_after_sending(service: Service, clock: FrozenClock) -> None:
    tid = start(service)["id"]
    with pytest.raises(NotAllowed):
        service.fire(tid, "publish", SECRETARIAT, {"url": "https://example.org/a"})
    tid = to_awaiting_response(service, clock)
    service.fire(tid, "publish", SECRETARIAT, {"url": "https://example.org/a"})
    with pytest.raises(NotAllowed, match="al vastgelegd"):
        service.fire(tid, "publish", SECRETARIAT, {"url": "https://example.org/b"})


def test_conclude_jointly_goes_to_monitoring_with_agreed_date(service: Service, clock: FrozenClock) -> None:
    tid = to_matching(service, clock)
    service.fire(tid, "first_meeting_held", ADVISER)
    service.fire(tid, "choose_contact", SECRETARIAT, {"contact_person": member("anna")})
    service.fire(tid, "consultation_done", SECRETARIAT)
    view = service.fire(tid, "conclude_jointly", member("anna"), {"follow_up_on": "2026-12-01"})
    assert view["state"] == "monitoring"
    assert deadline(view, "follow_up")["due"] == "2026-12-01"


@pytest.mark.parametrize("state_walk", ["requested", "calling", "matching", "awaiting_response"])
def test_withdraw_from_any_open_state(service: Service, clock: FrozenClock, state_walk: str) -> None:
    if state_walk == "requested":
        tid = start(service)["id"]
    elif state_walk == "calling":
        tid = start(service)["id"]
        service.fire(tid, "call_participants", SECRETARIAT)
    elif state_walk == "matching":
        tid = to_matching(service, clock)
    else:
        tid = to_awaiting_response(service, clock)
    view = service.fire(tid, "withdraw", SECRETARIAT, {"reason": "De gemeente trekt de vraag in"})
    assert view["state"] == "withdrawn"
    assert all(d["status"] in ("cancelled", "met") for d in view["deadlines"])
    assert any(d["status"] == "cancelled" for d in view["deadlines"])


def test_suspend_pauses_terms_and_resume_moves_them(service: Service, clock: FrozenClock) -> None:
    tid = start(service)["id"]
    view = service.fire(tid, "suspend", SECRETARIAT)
    assert deadline(view, "advice_due")["status"] == "suspended"
    assert view["allowed_events"] == ["withdraw", "resume", "extend"]
    with pytest.raises(NotAllowed, match="opgeschort"):
        service.fire(tid, "call_participants", SECRETARIAT)
    clock.advance(timedelta(days=10))
    view = service.fire(tid, "resume", SECRETARIAT)
    due = deadline(view, "advice_due")
    assert due["status"] == "running"
    assert due["due"] == "2026-05-18"  # 06-05 + 10 days = Sat 16-05 → Mon 18-05 (15-05 is a KB day)
    assert "Opgeschort op 24-03-2026." in due["explanation"]
    assert "10 dagen opgeschort" in due["explanation"]


def test_extend_moves_the_end_and_explains_why(service: Service) -> None:
    tid = start(service)["id"]
    view = service.fire(tid, "extend", SECRETARIAT,
                        {"deadline": "advice_due", "extra": "2w", "reason": "Extra overleg"})
    due = deadline(view, "advice_due")
    assert due["due"] == "2026-05-20"
    assert "Verlengd op 24-03-2026 (Extra overleg)" in due["explanation"]
    with pytest.raises(NotAllowed, match="na 20-05-2026"):
        service.fire(tid, "extend", SECRETARIAT,
                     {"deadline": "advice_due", "until": "2026-05-01", "reason": "x"})
    with pytest.raises(NotAllowed, match="loopt niet"):
        service.fire(tid, "extend", SECRETARIAT,
                     {"deadline": "response_due", "until": "2026-09-01", "reason": "x"})


def test_history_records_who_did_what(service: Service) -> None:
    tid = start(service)["id"]
    view = service.fire(tid, "call_participants", SECRETARIAT, note="Oproep via nieuwsbrief")
    assert [(h["event"], h["from"], h["to"], h["actor"]) for h in view["history"]] == [
        ("start", None, "requested", SECRETARIAT),
        ("call_participants", "requested", "calling", SECRETARIAT),
    ]
    assert view["history"][1]["note"] == "Oproep via nieuwsbrief"
