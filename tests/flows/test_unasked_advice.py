"""Walk every state and exit of unasked_advice through the real service on a SQLite file."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, func, select

from app import org_file
from app.service import Service
from app.sweep import Sweep
from engine.clock import AMSTERDAM, FrozenClock
from engine.errors import InvalidInput, NotAllowed, NotFound
from storage.tables import Trajectory
from tests.helpers import ADVISER, LIAISON, MEMBERS, SECRETARIAT, body, deadline, mails_to, member, outbox

OFFICIAL = ADVISER  # the demo organisation's only policy adviser
ALDERMAN = "wethouder@example.org"
ALL_MEMBERS = {member(n) for n in MEMBERS}
GROUP = [member(n) for n in MEMBERS[:6]]  # the demo organisation's groups hold at most 6
TITLE = "Wachtlijst huishoudelijke hulp"
SUMMARY = "Mensen wachten maanden op hulp.\nDe wijkteams weten niet wanneer het beter wordt."


# --- helpers -------------------------------------------------------------------------------




def link_for(engine: Engine, who: str) -> str:
    text = body(engine, "unasked_advice/call", who)
    found = re.search(r"/antwoord/(\S+)", text)
    assert found is not None
    return unquote(found.group(1))


def signal(service: Service, actor: str = SECRETARIAT, **raw: str) -> dict[str, Any]:
    return service.start("unasked_advice", "demo", TITLE, actor, raw)


def to_contacting(service: Service) -> int:
    tid = int(signal(service, signalled_by=member("bram"), summary=SUMMARY)["id"])
    service.fire(tid, "contact_official", SECRETARIAT, {"official": OFFICIAL})
    return tid


def to_deciding(service: Service) -> int:
    tid = to_contacting(service)
    service.fire(tid, "appointment_held", SECRETARIAT, {"note": "De gemeente herkent het."})
    return tid


def to_own_track(service: Service) -> int:
    tid = to_deciding(service)
    service.fire(tid, "start_own_track", SECRETARIAT)
    return tid


def to_group(service: Service, clock: FrozenClock, engine: Engine, signups: int = 6) -> int:
    """The own track's call: `signups` members answer by their link, then the call closes."""
    tid = to_own_track(service)
    service.fire(tid, "call_participants", SECRETARIAT)
    for name in MEMBERS[:signups]:
        service.answer(link_for(engine, member(name)), "sign_up")
    clock.advance(timedelta(days=3))
    service.fire(tid, "close_signup", SECRETARIAT)
    return tid


def to_awaiting_response(service: Service, clock: FrozenClock, engine: Engine) -> int:
    tid = to_group(service, clock, engine)
    service.fire(tid, "send_advice", SECRETARIAT, {"document": "Ons advies:\nkort de wachtlijst in."})
    return tid


def unchanged(service: Service, tid: int, before: dict[str, Any]) -> None:
    after = service.show(tid)
    assert (after["state"], after["version"], len(after["history"]), after["data"]) == (
        before["state"], before["version"], len(before["history"]), before["data"])


def trajectory_count(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(Trajectory)).one())


# --- signalled -------------------------------------------------------------------------------


def test_the_secretariat_signals_for_a_member_and_is_told(service: Service,
                                                          sqlite_engine: Engine) -> None:
    view = signal(service, signalled_by=member("bram"), summary=SUMMARY)
    assert view["state"] == "signalled"
    assert view["state_label"] == "Signaal ontvangen"
    assert view["data"] == {"title": TITLE, "signalled_by": member("bram"), "summary": SUMMARY}
    assert view["deadlines"] == []
    assert view["allowed_events"][:2] == ["contact_official", "drop"]
    assert mails_to(sqlite_engine, "unasked_advice/signal_received") == [SECRETARIAT]
    text = body(sqlite_engine, "unasked_advice/signal_received", SECRETARIAT)
    assert "Het signaal komt van Bram Jansen." in text
    assert "Mensen wachten maanden op hulp." in text
    assert [(h["event"], h["to"], h["actor"]) for h in view["history"]] == [
        ("start", "signalled", SECRETARIAT)]


def test_a_member_who_signals_is_the_signaller(service: Service, sqlite_engine: Engine) -> None:
    view = signal(service, actor=member("bram"))
    assert view["data"]["signalled_by"] == member("bram")
    assert "summary" not in view["data"]
    assert view["history"][0]["actor"] == member("bram")
    assert "Waar het over gaat" not in body(sqlite_engine, "unasked_advice/signal_received",
                                            SECRETARIAT)


def test_only_the_council_signals(service: Service) -> None:
    with pytest.raises(NotAllowed, match="mag geen traject starten"):
        signal(service, actor=LIAISON)
    with pytest.raises(NotFound, match="staat niet in het bestand"):
        signal(service, signalled_by="onbekend@example.org")


def test_drop_tells_the_signaller_why(service: Service, sqlite_engine: Engine) -> None:
    tid = signal(service, signalled_by=member("cor"))["id"]
    with pytest.raises(InvalidInput, match="reden"):
        service.fire(tid, "drop", SECRETARIAT)
    view = service.fire(tid, "drop", SECRETARIAT, {"reason": "Dit speelt alleen in één straat."})
    assert (view["state"], view["final"], view["allowed_events"]) == ("dropped", True, [])
    assert view["data"]["reason"] == "Dit speelt alleen in één straat."
    assert mails_to(sqlite_engine, "unasked_advice/dropped") == [member("cor")]
    assert "Dit speelt alleen in één straat." in body(sqlite_engine, "unasked_advice/dropped",
                                                      member("cor"))


def test_a_member_cannot_contact_the_official(service: Service) -> None:
    tid = signal(service, actor=member("bram"))["id"]
    with pytest.raises(NotAllowed, match="stuurgroep of voorzitter"):
        service.fire(tid, "contact_official", member("bram"), {"official": OFFICIAL})


# --- contacting ------------------------------------------------------------------------------


def test_contact_official_asks_for_an_appointment_within_three_weeks(
        service: Service, sqlite_engine: Engine) -> None:
    tid = to_contacting(service)
    view = service.show(tid)
    assert view["state"] == "contacting"
    assert view["data"]["official"] == OFFICIAL
    due = deadline(view, "appointment")
    assert (due["due"], due["status"]) == ("2026-04-14", "running")  # Tue 24 March + 3 weeks
    assert due["explanation"].startswith("3 weken na het verzoek om een afspraak op 24-03-2026")
    assert mails_to(sqlite_engine, "unasked_advice/appointment_request") == [OFFICIAL]
    text = body(sqlite_engine, "unasked_advice/appointment_request", OFFICIAL)
    assert TITLE in text
    assert "De wijkteams weten niet wanneer het beter wordt." in text
    assert "uiterlijk op dinsdag 14 april 2026" in text


def test_the_appointment_term_rolls_past_liberation_day(service: Service, clock: FrozenClock) -> None:
    tid = signal(service)["id"]
    clock.advance(timedelta(days=21))  # Tuesday 14 April: 3 weeks later is 5 May
    view = service.fire(tid, "contact_official", SECRETARIAT, {"official": OFFICIAL})
    due = deadline(view, "appointment")
    assert due["due"] == "2026-05-06"
    assert "05-05-2026 (Bevrijdingsdag)" in due["explanation"]


def test_contact_official_refuses_someone_without_the_role(service: Service,
                                                          sqlite_engine: Engine) -> None:
    tid = signal(service)["id"]
    before = service.show(tid)
    no_role = r"verbinding@example\.org heeft niet de rol beleidsadviseur en kan dus geen ambtenaar"
    with pytest.raises(NotFound, match=no_role):
        service.fire(tid, "contact_official", SECRETARIAT, {"official": LIAISON})
    with pytest.raises(NotFound, match=r"niemand@example\.org staat niet in het bestand"):
        service.fire(tid, "contact_official", SECRETARIAT, {"official": "niemand@example.org"})
    unchanged(service, tid, before)
    assert mails_to(sqlite_engine, "unasked_advice/appointment_request") == []


def test_an_appointment_not_held_in_time_alerts_the_secretariat(
        service: Service, clock: FrozenClock, sqlite_engine: Engine) -> None:
    tid = to_contacting(service)
    clock.set(datetime.combine(date(2026, 4, 15), time(7), AMSTERDAM))  # the day after the end
    Sweep(service).run()
    Sweep(service).run()  # a second pass sends nothing twice
    assert deadline(service.show(tid), "appointment")["status"] == "overdue"
    overdue = [m for m in outbox(sqlite_engine, tid) if m.template == "deadline_overdue"]
    assert [m.recipient for m in overdue] == [SECRETARIAT]
    reminders = [m.recipient for m in outbox(sqlite_engine, tid) if m.template == "deadline_reminder"]
    assert set(reminders) <= {SECRETARIAT}


def test_an_appointment_held_after_the_term_is_met_late(service: Service,
                                                        clock: FrozenClock) -> None:
    tid = to_contacting(service)
    clock.advance(timedelta(days=30))
    view = service.fire(tid, "appointment_held", OFFICIAL)  # the official may record it too
    assert view["state"] == "deciding"
    late = deadline(view, "appointment")
    assert (late["status"], late["status_label"]) == ("met_late", "te laat")
    assert "note" not in view["data"]


# --- deciding --------------------------------------------------------------------------------


def test_appointment_held_keeps_what_was_found(service: Service) -> None:
    view = service.show(to_deciding(service))
    assert view["state"] == "deciding"
    assert view["data"]["note"] == "De gemeente herkent het."
    assert deadline(view, "appointment")["status"] == "met"
    assert {"start_own_track", "no_action", "collaboration_agreed"} <= set(view["allowed_events"])
    assert "appointment_held" not in view["allowed_events"]


def test_no_action_closes_and_tells_the_signaller_why(service: Service,
                                                      sqlite_engine: Engine) -> None:
    tid = to_deciding(service)
    view = service.fire(tid, "no_action", SECRETARIAT, {"reason": "De gemeente lost het zelf op."})
    assert (view["state"], view["final"]) == ("closed", True)
    assert mails_to(sqlite_engine, "unasked_advice/no_action") == [member("bram")]
    assert "De gemeente lost het zelf op." in body(sqlite_engine, "unasked_advice/no_action",
                                                   member("bram"))
    assert deadline(view, "appointment")["status"] == "met"


# --- handed_over -----------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["contacting", "deciding"])
def test_collaboration_continues_as_a_linked_asked_advice(
        service: Service, sqlite_engine: Engine, where: str) -> None:
    tid = to_contacting(service) if where == "contacting" else to_deciding(service)
    view = service.fire(tid, "collaboration_agreed", SECRETARIAT)
    assert (view["state"], view["final"]) == ("handed_over", True)
    assert deadline(view, "appointment")["status"] == "met"  # not cancelled: the work goes on
    links = [{k: link[k] for k in ("id", "flow", "relation")} for link in view["links"]]
    asked_id = view["links"][0]["id"]
    assert links == [{"id": asked_id, "flow": "asked_advice", "relation": "continued_as"}]
    assert view["history"][-1]["event"] == "linked"
    assert view["history"][-1]["note"] == f"Voortgezet als gevraagd advies, traject {asked_id}."
    assert view["history"][-2]["event"] == "collaboration_agreed"

    asked = service.show(asked_id)
    assert (asked["flow"], asked["state"], asked["title"]) == ("asked_advice", "requested", TITLE)
    assert asked["data"] == {"title": TITLE, "policy_adviser": OFFICIAL,
                             "received_on": "2026-03-24", "signalled_by": member("bram"),
                             "summary": SUMMARY}
    assert [{k: link[k] for k in ("id", "flow", "relation")} for link in asked["links"]] == [
        {"id": tid, "flow": "unasked_advice", "relation": "continues"}]
    assert [(h["event"], h["to"], h["actor"], h["note"]) for h in asked["history"]] == [
        ("start", "requested", SECRETARIAT, f"Vervolg van ongevraagd advies, traject {tid}.")]
    assert deadline(asked, "advice_due")["due"] == "2026-05-06"  # the asked advice term runs
    assert mails_to(sqlite_engine, "asked_advice/receipt") == [OFFICIAL]
    assert set(mails_to(sqlite_engine, "unasked_advice/handed_over")) == {
        SECRETARIAT, OFFICIAL, member("bram")}


def test_no_handoff_where_the_organisation_has_no_asked_advice(
        service: Service, sqlite_engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "klein.toml"
    path.write_text('''
[[organisation]]
slug = "klein"
name = "Adviesraad Klein"
flows = ["unasked_advice"]

[[organisation.person]]
name = "Sam Secretaris"
email = "sam@klein.example.org"
roles = ["secretariat"]

[[organisation.person]]
name = "Bea Beleid"
email = "bea@klein.example.org"
roles = ["policy_adviser"]
''', encoding="utf-8")
    org_file.load(sqlite_engine, path)
    tid = service.start("unasked_advice", "klein", TITLE, "sam@klein.example.org", {})["id"]
    service.fire(tid, "contact_official", "sam@klein.example.org", {"official": "bea@klein.example.org"})
    before, count, mails = service.show(tid), trajectory_count(sqlite_engine), len(outbox(sqlite_engine))
    with pytest.raises(NotAllowed, match="Adviesraad Klein gebruikt geen gevraagd advies"):
        service.fire(tid, "collaboration_agreed", "sam@klein.example.org")
    unchanged(service, tid, before)
    assert trajectory_count(sqlite_engine) == count
    assert len(outbox(sqlite_engine)) == mails
    assert service.show(tid)["links"] == []


# --- own_track -------------------------------------------------------------------------------


def test_own_track_tells_the_secretariat_the_signaller_and_the_official(
        service: Service, sqlite_engine: Engine) -> None:
    view = service.show(to_own_track(service))
    assert view["state"] == "own_track"
    assert set(mails_to(sqlite_engine, "unasked_advice/own_track")) == {
        SECRETARIAT, member("bram"), OFFICIAL}
    assert "De gemeente herkent het." in body(sqlite_engine, "unasked_advice/own_track", OFFICIAL)


def test_the_own_track_call_is_the_call_of_asked_advice(service: Service, clock: FrozenClock,
                                                         sqlite_engine: Engine) -> None:
    tid = to_own_track(service)
    view = service.fire(tid, "call_participants", SECRETARIAT)
    assert (view["state"], view["state_label"]) == ("own_track_calling", "Oproep aan de deelnemers")
    assert view["call"] == {"role": "member", "window": "signup_closes", "signups": []}
    assert deadline(view, "signup_closes")["due"] == "2026-04-07"  # 10 days → Good Friday → Tue
    calls = [m for m in outbox(sqlite_engine) if m.template == "unasked_advice/call"]
    assert {m.recipient for m in calls} == ALL_MEMBERS
    assert len({link_for(sqlite_engine, m.recipient) for m in calls}) == len(calls)
    for name in MEMBERS:  # eight answer by their own link: six places, two reserves
        view = service.answer(link_for(sqlite_engine, member(name)), "sign_up")
        assert view["history"][-1]["actor"] == member(name)
    assert sorted(mails_to(sqlite_engine, "call/signup_confirmed")) == sorted(GROUP)
    assert sorted(mails_to(sqlite_engine, "call/signup_reserve")) == [member("gerda"), member("hamid")]
    clock.advance(timedelta(days=3))
    view = service.fire(tid, "close_signup", SECRETARIAT)
    assert view["state"] == "own_track"
    assert view["data"]["group"] == GROUP
    assert view["data"]["reserves"] == [member("gerda"), member("hamid")]
    assert deadline(view, "signup_closes")["status"] == "met"
    assert set(mails_to(sqlite_engine, "unasked_advice/group_formed")) == {SECRETARIAT, *GROUP}
    assert "- Farid Yilmaz" in body(sqlite_engine, "unasked_advice/group_formed", SECRETARIAT)
    assert sorted(mails_to(sqlite_engine, "call/reserve_list")) == [member("gerda"), member("hamid")]

    view = service.fire(tid, "replace_member", SECRETARIAT, {"member": member("cor")})
    assert view["data"]["group"] == [*(m for m in GROUP if m != member("cor")), member("gerda")]
    assert view["data"]["reserves"] == [member("hamid")]
    assert mails_to(sqlite_engine, "call/left_group") == [member("cor")]
    assert mails_to(sqlite_engine, "call/joined_group") == [member("gerda")]


def test_a_call_nobody_answers_still_goes_on(service: Service, clock: FrozenClock,
                                             sqlite_engine: Engine) -> None:
    tid = to_group(service, clock, sqlite_engine, signups=0)
    view = service.show(tid)
    assert view["state"] == "own_track"  # no minimum: the council writes this advice itself
    assert view["data"]["group"] == []
    assert mails_to(sqlite_engine, "unasked_advice/group_formed") == [SECRETARIAT]
    assert "niemand aangemeld" in body(sqlite_engine, "unasked_advice/group_formed", SECRETARIAT)
    assert service.fire(tid, "call_participants", SECRETARIAT)["state"] == "own_track_calling"


def test_the_sweep_closes_the_own_track_call(service: Service, clock: FrozenClock,
                                             sqlite_engine: Engine) -> None:
    tid = to_own_track(service)
    service.fire(tid, "call_participants", SECRETARIAT)
    service.answer(link_for(sqlite_engine, member("dewi")), "sign_up")
    clock.set(datetime.combine(date(2026, 4, 8), time(7), AMSTERDAM))
    Sweep(service).run()
    view = service.show(tid)
    assert view["state"] == "own_track"
    assert view["data"]["group"] == [member("dewi")]
    assert view["history"][-1]["actor"] == "systeem"


def test_send_advice_starts_the_college_term(service: Service, clock: FrozenClock,
                                             sqlite_engine: Engine) -> None:
    tid = to_awaiting_response(service, clock, sqlite_engine)
    view = service.show(tid)
    assert view["state"] == "awaiting_response"
    assert view["data"]["advice_sent_on"] == "2026-03-27"
    assert view["data"]["document"] == "Ons advies:\nkort de wachtlijst in."
    response = deadline(view, "response_due")
    assert (response["due"], response["status"]) == ("2026-05-08", "running")  # 27 March + 6 w
    assert set(mails_to(sqlite_engine, "unasked_advice/advice_sent")) == {
        LIAISON, ALDERMAN, OFFICIAL, *GROUP}
    text = body(sqlite_engine, "unasked_advice/advice_sent", ALDERMAN)
    assert "kort de wachtlijst in." in text
    assert "vrijdag 8 mei 2026" in text


def test_a_group_member_cannot_send_the_advice(service: Service, clock: FrozenClock,
                                                     sqlite_engine: Engine) -> None:
    tid = to_group(service, clock, sqlite_engine)
    with pytest.raises(NotAllowed, match="advies versturen"):
        service.fire(tid, "send_advice", member("bram"), {"document": "Advies."})


@pytest.mark.parametrize(("received_on", "problem"), [
    ("2026-03-01", "kan niet eerder binnenkomen dan het advies is verstuurd"),
    ("2027-01-01", "kan niet in de toekomst binnenkomen"),
])
def test_a_response_date_must_fit(service: Service, clock: FrozenClock, sqlite_engine: Engine,
                                  received_on: str, problem: str) -> None:
    tid = to_awaiting_response(service, clock, sqlite_engine)
    before = service.show(tid)
    with pytest.raises(InvalidInput, match=problem):
        service.fire(tid, "record_response", LIAISON,
                     {"received_on": received_on, "document": "Reactie."})
    unchanged(service, tid, before)


def test_response_follow_up_publish_and_close(service: Service, clock: FrozenClock,
                                              sqlite_engine: Engine) -> None:
    tid = to_awaiting_response(service, clock, sqlite_engine)
    service.fire(tid, "publish", SECRETARIAT, {"url": "https://example.org/advies-wachtlijst"})
    with pytest.raises(NotAllowed, match="al vastgelegd"):
        service.fire(tid, "publish", SECRETARIAT, {"url": "https://example.org/b"})
    clock.advance(timedelta(days=17))  # typed in on 13 April, arrived on 2 April
    view = service.fire(tid, "record_response", LIAISON,
                        {"received_on": "2026-04-02", "document": "Het college pakt het op."})
    assert view["state"] == "monitoring"
    assert view["data"]["response_received_on"] == "2026-04-02"
    assert view["data"]["response_document"] == "Het college pakt het op."
    assert deadline(view, "response_due")["status"] == "met"
    follow_up = deadline(view, "follow_up")
    assert follow_up["due"] == "2026-12-03"  # 6 months, plus the demo recess of July and August
    assert "02-04-2026" in follow_up["explanation"]
    assert set(mails_to(sqlite_engine, "unasked_advice/response_received")) == ALL_MEMBERS | {OFFICIAL}
    assert "Het college pakt het op." in body(sqlite_engine, "unasked_advice/response_received",
                                              member("hamid"))
    view = service.fire(tid, "close", SECRETARIAT)
    assert (view["state"], view["final"]) == ("closed", True)
    assert deadline(view, "follow_up")["status"] == "met"
    assert view["data"]["published_url"] == "https://example.org/advies-wachtlijst"


def test_publish_in_monitoring_and_not_before_the_advice(service: Service, clock: FrozenClock,
                                                         sqlite_engine: Engine) -> None:
    tid = to_own_track(service)
    with pytest.raises(NotAllowed, match="publicatie vastleggen"):
        service.fire(tid, "publish", SECRETARIAT, {"url": "https://example.org/a"})
    tid = to_awaiting_response(service, clock, sqlite_engine)
    service.fire(tid, "record_response", SECRETARIAT,
                 {"received_on": "2026-03-27", "document": "Reactie.", "follow_up_on": "2026-10-01"})
    view = service.fire(tid, "publish", SECRETARIAT, {"url": "https://example.org/a"})
    assert (view["state"], view["data"]["published_url"]) == ("monitoring", "https://example.org/a")
    assert deadline(view, "follow_up")["due"] == "2026-10-01"  # the agreed date


# --- in every state: withdraw, suspend, resume, extend ----------------------------------------


def test_suspend_and_resume_tell_the_official_and_the_group(
        service: Service, clock: FrozenClock, sqlite_engine: Engine) -> None:
    tid = to_group(service, clock, sqlite_engine)
    view = service.fire(tid, "suspend", SECRETARIAT, {"reason": "Wachten op de gemeente"})
    assert view["suspended"]
    assert view["allowed_events"] == ["withdraw", "resume", "extend"]
    assert sorted(mails_to(sqlite_engine, "common/suspended")) == sorted([OFFICIAL, *GROUP])
    view = service.fire(tid, "resume", SECRETARIAT)
    assert not view["suspended"]
    assert sorted(mails_to(sqlite_engine, "common/resumed")) == sorted([OFFICIAL, *GROUP])


def test_extend_the_appointment_tells_the_official(service: Service, sqlite_engine: Engine) -> None:
    tid = to_contacting(service)
    view = service.fire(tid, "extend", SECRETARIAT,
                        {"deadline": "appointment", "extra": "1w", "reason": "Vakantie"})
    assert deadline(view, "appointment")["due"] == "2026-04-21"
    assert mails_to(sqlite_engine, "common/extended") == [OFFICIAL, member("bram")]  # and the signaller
    assert "dinsdag 21 april 2026" in body(sqlite_engine, "common/extended", OFFICIAL)


def test_while_the_college_term_runs_the_liaison_and_secretariat_hear_too(
        service: Service, clock: FrozenClock, sqlite_engine: Engine) -> None:
    tid = to_awaiting_response(service, clock, sqlite_engine)
    service.fire(tid, "extend", SECRETARIAT,
                 {"deadline": "response_due", "extra": "2w", "reason": "Collegevakantie"})
    assert set(mails_to(sqlite_engine, "common/extended")) == {LIAISON, SECRETARIAT, OFFICIAL, *GROUP}
    view = service.fire(tid, "withdraw", SECRETARIAT, {"reason": "Het probleem is opgelost"})
    assert (view["state"], view["final"]) == ("withdrawn", True)
    assert deadline(view, "response_due")["status"] == "cancelled"
    assert set(mails_to(sqlite_engine, "common/withdrawn")) == {LIAISON, SECRETARIAT, OFFICIAL, *GROUP}
    assert "Het probleem is opgelost" in body(sqlite_engine, "common/withdrawn", member("anna"))


@pytest.mark.parametrize("where", ["signalled", "contacting", "deciding", "own_track"])
def test_withdraw_from_any_open_state(service: Service, where: str,
                                      sqlite_engine: Engine) -> None:
    walk = {"signalled": lambda: signal(service)["id"], "contacting": lambda: to_contacting(service),
            "deciding": lambda: to_deciding(service), "own_track": lambda: to_own_track(service)}
    tid = walk[where]()
    assert service.show(tid)["state"] == where
    view = service.fire(tid, "withdraw", SECRETARIAT, {"reason": "Niet meer nodig"})
    assert view["state"] == "withdrawn"
    assert all(d["status"] in ("cancelled", "met") for d in view["deadlines"])
    told = mails_to(sqlite_engine, "common/withdrawn")
    signaller = SECRETARIAT if where == "signalled" else member("bram")
    assert told == ([signaller] if where == "signalled" else [OFFICIAL, signaller])


def test_every_state_and_event_speaks_dutch(service: Service) -> None:
    compiled = service.flow("unasked_advice")
    assert all(s.label for s in compiled.flow.states)
    assert all(t.label for t in compiled.transitions)
    assert set(compiled.flow.final_states) == {"handed_over", "dropped", "withdrawn", "closed"}
    assert {s.name for s in compiled.flow.states if s.cancels} == {"dropped", "withdrawn"}
