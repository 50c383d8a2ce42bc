"""What every flow does (issue 6, point 6), driven through asked_advice: the people concerned
hear of a withdrawal, suspension, resumption or extension with the new dates; a term met after
its end is met late; entered dates are checked and used; a group member can be replaced."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from app.service import Service
from engine.clock import FrozenClock
from engine.errors import InvalidInput, NotAllowed
from tests.helpers import (
    ADVISER,
    LIAISON,
    SECRETARIAT,
    body,
    deadline,
    mails_to,
    member,
    start,
    to_awaiting_response,
    to_matching,
)

GROUP = [member(n) for n in ("anna", "bram", "cor", "dewi", "els", "farid")]




def test_suspend_and_resume_tell_the_adviser_and_the_group_the_new_date(
        service: Service, clock: FrozenClock, sqlite_engine: Engine) -> None:
    tid = to_matching(service, clock)
    service.fire(tid, "suspend", SECRETARIAT, {"reason": "Wachten op de gemeente"})
    assert sorted(mails_to(sqlite_engine, "common/suspended")) == sorted([ADVISER, *GROUP])
    clock.advance(timedelta(days=14))
    view = service.fire(tid, "resume", SECRETARIAT)
    assert sorted(mails_to(sqlite_engine, "common/resumed")) == sorted([ADVISER, *GROUP])
    assert deadline(view, "advice_due")["due"] == "2026-05-20"  # 6 May + 14 days stood still
    text = body(sqlite_engine, "common/resumed", ADVISER)
    assert "Adviestermijn: nieuwe einddatum woensdag 20 mei 2026." in text


def test_while_the_college_term_runs_the_liaison_and_secretariat_are_told(
        service: Service, clock: FrozenClock, sqlite_engine: Engine) -> None:
    tid = to_awaiting_response(service, clock)
    service.fire(tid, "extend", SECRETARIAT,
                 {"deadline": "response_due", "extra": "2w", "reason": "Collegevakantie"})
    told = mails_to(sqlite_engine, "common/extended")
    assert {LIAISON, SECRETARIAT, ADVISER, *GROUP} == set(told)
    assert "Collegevakantie" in body(sqlite_engine, "common/extended", LIAISON)


def test_extend_before_the_college_term_does_not_mail_the_liaison(
        service: Service, sqlite_engine: Engine) -> None:
    tid = start(service)["id"]
    service.fire(tid, "extend", SECRETARIAT,
                 {"deadline": "advice_due", "until": "2026-06-30", "reason": "Zomer"})
    assert mails_to(sqlite_engine, "common/extended") == [ADVISER]
    assert "dinsdag 30 juni 2026" in body(sqlite_engine, "common/extended", ADVISER)


def test_withdraw_tells_the_people_concerned(service: Service, clock: FrozenClock,
                                             sqlite_engine: Engine) -> None:
    tid = to_matching(service, clock)
    service.fire(tid, "withdraw", SECRETARIAT, {"reason": "De gemeente trekt de vraag in"})
    assert sorted(mails_to(sqlite_engine, "common/withdrawn")) == sorted([ADVISER, *GROUP])
    assert "De gemeente trekt de vraag in" in body(sqlite_engine, "common/withdrawn", member("bram"))


def test_a_term_met_after_its_end_is_met_late(service: Service, clock: FrozenClock) -> None:
    tid = to_matching(service, clock)
    service.fire(tid, "first_meeting_held", SECRETARIAT)
    service.fire(tid, "choose_contact", SECRETARIAT, {"contact_person": member("bram")})
    service.fire(tid, "consultation_done", member("bram"))
    clock.advance(timedelta(days=60))  # well past 6 May
    view = service.fire(tid, "send_advice", member("bram"), {"document": "Ons advies."})
    late = deadline(view, "advice_due")
    assert (late["status"], late["status_label"]) == ("met_late", "te laat")


def test_a_term_met_in_time_is_met(service: Service, clock: FrozenClock) -> None:
    tid = to_awaiting_response(service, clock)
    assert deadline(service.show(tid), "advice_due")["status"] == "met"


@pytest.mark.parametrize(("received_on", "problem"), [
    ("2026-03-01", "kan niet eerder binnenkomen dan het advies is verstuurd"),
    ("2027-01-01", "kan niet in de toekomst binnenkomen"),
])
def test_a_response_date_must_fit_the_trajectory(service: Service, clock: FrozenClock,
                                                 received_on: str, problem: str) -> None:
    tid = to_awaiting_response(service, clock)
    before = service.show(tid)
    with pytest.raises(InvalidInput, match=problem):
        service.fire(tid, "record_response", LIAISON,
                     {"received_on": received_on, "document": "Reactie."})
    after = service.show(tid)
    assert (after["state"], after["version"], len(after["history"])) == (
        before["state"], before["version"], len(before["history"]))


def test_follow_up_counts_from_the_day_the_response_arrived(service: Service,
                                                            clock: FrozenClock) -> None:
    tid = to_awaiting_response(service, clock)
    clock.advance(timedelta(days=20))  # typed in on 13 April, arrived on 2 April
    view = service.fire(tid, "record_response", LIAISON,
                        {"received_on": "2026-04-02", "document": "Reactie."})
    follow_up = deadline(view, "follow_up")
    assert follow_up["due"] == "2026-12-03"  # 6 months, plus the demo recess of July and August
    assert "02-04-2026" in follow_up["explanation"]


def test_replace_member_promotes_the_first_reserve_and_tells_both(
        service: Service, clock: FrozenClock, sqlite_engine: Engine) -> None:
    tid = to_matching(service, clock, signups=8)  # group of 6, reserves gerda and hamid
    view = service.fire(tid, "replace_member", SECRETARIAT, {"member": member("cor")})
    assert view["data"]["group"] == [*[m for m in GROUP if m != member("cor")], member("gerda")]
    assert view["data"]["reserves"] == [member("hamid")]
    assert mails_to(sqlite_engine, "call/left_group") == [member("cor")]
    assert mails_to(sqlite_engine, "call/joined_group") == [member("gerda")]
    assert "Gerda Bos neemt je plaats in" in body(sqlite_engine, "call/left_group", member("cor"))


def test_replace_member_without_reserves_only_removes(service: Service, clock: FrozenClock,
                                                      sqlite_engine: Engine) -> None:
    tid = to_matching(service, clock)
    view = service.fire(tid, "replace_member", SECRETARIAT, {"member": member("anna")})
    assert member("anna") not in view["data"]["group"]
    assert mails_to(sqlite_engine, "call/joined_group") == []


def test_replace_member_refuses_someone_outside_the_group(service: Service,
                                                          clock: FrozenClock) -> None:
    tid = to_matching(service, clock)
    with pytest.raises(NotAllowed, match="zit niet in de projectgroep"):
        service.fire(tid, "replace_member", SECRETARIAT, {"member": member("hamid")})


def test_refusals_and_history_speak_dutch(service: Service) -> None:
    tid = start(service)["id"]
    with pytest.raises(NotAllowed, match=r"'advies versturen' \(send_advice\) kan niet"):
        service.fire(tid, "send_advice", SECRETARIAT, {"document": "x"})
    view = service.fire(tid, "call_participants", SECRETARIAT)
    assert view["allowed_labels"]["close_signup"] == "aanmelding sluiten"
    entry = view["history"][-1]
    assert entry["event_label"] == "deelnemers oproepen"
    assert entry["at_local"] == "24-03-2026 09:30"  # Amsterdam time, not UTC (08:30)
