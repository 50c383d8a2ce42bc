"""Midden-Drenthe's two flows walked through every state and exit on the real service: the
signal from a theme group to the officer, the alderman and an unasked advice; the asked advice
with a theme group or work group and the Platform Inclusie; their refusals and alerts."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import date, datetime, time, timedelta
from urllib.parse import unquote

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from app.service import Service
from app.sweep import Sweep
from engine.clock import AMSTERDAM, FrozenClock
from engine.errors import InvalidInput, NotAllowed, NotFound
from storage.tables import Trajectory
from tests.helpers import mails_to, outbox

ORG = "demo-md"


def md(name: str) -> str:
    return f"{name}@voorbeeldveld.example.org"


SECRETARY, LIAISON, OFFICER, COLLEGE, CLERK = (md("secretaris"), md("verbinding"), md("beleid"),
                                              md("college"), md("griffie"))
PARTICIPEREN = [md("aaltje"), md("harm")]
SIGNAL = {"theme_group": "Participeren", "domain": "Wmo", "individual_case": "nee",
          "summary": "Inwoners wachten maanden op een indicatie."}


def signal(service: Service, actor: str = SECRETARY, **changes: str) -> dict:
    return service.start("md_signal", ORG, "Wachtlijst huishoudelijke hulp", actor,
                         {**SIGNAL, **changes})


def deadline(view: dict, name: str) -> dict:
    return next(d for d in reversed(view["deadlines"]) if d["name"] == name)


def trajectories(engine: Engine) -> int:
    with Session(engine) as session:
        return len(session.exec(select(Trajectory)).all())


def to_assessing_report(service: Service, clock: FrozenClock) -> int:
    tid = int(signal(service)["id"])
    service.fire(tid, "share_with_officer", SECRETARY, {"officer": OFFICER, "meeting_on": "2026-04-07"})
    clock.advance(timedelta(days=14))
    service.fire(tid, "officer_meeting_held", SECRETARY)
    service.fire(tid, "record_report", SECRETARY, {"document": "Verslag.\nActie: onderzoek."})
    return tid


def test_a_signal_by_a_theme_group_chair_goes_to_the_secretary_and_the_group(
        service: Service, sqlite_engine: Engine) -> None:
    view = signal(service, actor=md("harm"))
    assert view["state"] == "signal_noted"
    assert view["data"]["group"] == PARTICIPEREN
    assert sorted(mails_to(sqlite_engine, "md_signal/noted")) == sorted([SECRETARY, *PARTICIPEREN])


@pytest.mark.parametrize(("changes", "error", "message"), [
    ({"individual_case": "ja"}, InvalidInput, "(?i)individuele casussen kunnen niet worden ingebracht"),
    ({"domain": "Sport"}, InvalidInput, "Kies uit: Wmo, Jeugdwet, Participatiewet, "
                                        "schuldhulpverlening, armoedebeleid, leerlingenvervoer"),
    ({"theme_group": "Wonen"}, NotFound, "de groep 'Wonen' bestaat niet"),
    ({"individual_case": ""}, InvalidInput, "individual_case"),
])
def test_signal_refusals_write_nothing(service: Service, sqlite_engine: Engine,
                                       changes: dict[str, str], error: type[Exception],
                                       message: str) -> None:
    with pytest.raises(error, match=message):
        signal(service, **changes)
    assert trajectories(sqlite_engine) == 0
    assert outbox(sqlite_engine) == []


def test_a_group_chair_files_only_for_their_own_group(service: Service, sqlite_engine: Engine) -> None:
    with pytest.raises(NotAllowed, match="alleen een signaal inbrengen voor je eigen themagroep"):
        signal(service, actor=md("wilma"))  # chair of 'Zorg en welzijn'
    with pytest.raises(NotAllowed, match="mag geen traject starten"):
        signal(service, actor=md("aaltje"))  # a member, not a chair
    assert trajectories(sqlite_engine) == 0


def test_an_organisation_that_does_not_use_the_flow(service: Service) -> None:
    with pytest.raises(NotAllowed, match="Deze organisatie gebruikt: asked_advice, unasked_advice"):
        service.start("md_signal", "demo", "Signaal", "secretariaat@example.org", SIGNAL)


def test_the_officer_hears_domain_and_summary_and_the_report_term_runs(
        service: Service, clock: FrozenClock, sqlite_engine: Engine) -> None:
    tid = int(signal(service)["id"])
    with pytest.raises(InvalidInput, match="heeft niet de rol beleidsadviseur"):
        service.fire(tid, "share_with_officer", SECRETARY, {"officer": md("aaltje"),
                                                            "meeting_on": "2026-04-07"})
    view = service.fire(tid, "share_with_officer", SECRETARY,
                        {"officer": OFFICER, "meeting_on": "2026-04-07"})
    assert view["state"] == "officer_meeting_planned"
    assert mails_to(sqlite_engine, "md_signal/officer_briefing") == [OFFICER]
    view = service.fire(tid, "officer_meeting_held", SECRETARY)
    due = deadline(view, "report_due")
    assert due["due"] == "2026-05-06"  # 4 weeks after 7 April = 5 May (Bevrijdingsdag) → 6 May
    assert "het gesprek op 07-04-2026" in due["explanation"]


def sweep_on(service: Service, clock: FrozenClock, day: date) -> None:
    clock.set(datetime.combine(day, time(7), AMSTERDAM))
    Sweep(service).run()


def test_report_due_alerts_the_liaison_and_the_secretary(service: Service, clock: FrozenClock,
                                                         sqlite_engine: Engine) -> None:
    tid = int(signal(service)["id"])
    service.fire(tid, "share_with_officer", SECRETARY, {"officer": OFFICER, "meeting_on": "2026-04-07"})
    service.fire(tid, "officer_meeting_held", SECRETARY)
    sweep_on(service, clock, date(2026, 5, 7))
    assert sorted(mails_to(sqlite_engine, "deadline_overdue")) == sorted([LIAISON, SECRETARY])


def test_the_whole_escalation_from_signal_to_council(service: Service, clock: FrozenClock,
                                                     sqlite_engine: Engine) -> None:
    tid = to_assessing_report(service, clock)
    view = service.fire(tid, "escalate_to_alderman", SECRETARY)
    assert view["state"] == "alderman_meeting_requested"
    assert mails_to(sqlite_engine, "md_signal/alderman_requested") == [OFFICER]
    assert mails_to(sqlite_engine, "md_signal/alderman_requested_liaison") == [LIAISON]
    assert deadline(view, "alderman_meeting_due")["due"] == "2026-05-19"  # 6 weeks after 7 April
    sweep_on(service, clock, date(2026, 5, 20))
    assert sorted(mails_to(sqlite_engine, "deadline_overdue")) == sorted([LIAISON, SECRETARY])
    view = service.fire(tid, "alderman_meeting_held", SECRETARY, {"document": "Geen toezegging."})
    assert view["state"] == "assessing_alderman_outcome"
    assert deadline(view, "alderman_meeting_due")["status"] == "met_late"
    view = service.fire(tid, "escalate_to_unasked_advice", SECRETARY)
    assert view["state"] == "drafting_advice"
    with pytest.raises(NotAllowed, match="aangekondigd bij het college en vastgesteld"):
        service.fire(tid, "send_advice", SECRETARY, {"document": "Advies."})
    service.fire(tid, "announce_advice", SECRETARY, {"subject": "Wachtlijst", "explanation": "Te lang."})
    assert mails_to(sqlite_engine, "md_signal/announced") == [COLLEGE]
    with pytest.raises(NotAllowed, match="vastgesteld in de plenaire vergadering"):
        service.fire(tid, "send_advice", SECRETARY, {"document": "Advies."})
    with pytest.raises(InvalidInput, match="toekomst"):
        service.fire(tid, "adopt_advice", SECRETARY, {"adopted_on": "2027-01-01"})
    service.fire(tid, "adopt_advice", SECRETARY, {"adopted_on": "2026-05-19"})
    view = service.fire(tid, "send_advice", SECRETARY, {"document": "Advies.\nTweede regel."})
    assert view["state"] == "awaiting_response"
    assert COLLEGE in mails_to(sqlite_engine, "md_signal/advice_sent")
    assert deadline(view, "response_due")["status"] == "running"
    service.fire(tid, "publish", SECRETARY, {"url": "https://example.org/advies"})
    view = service.fire(tid, "record_response", LIAISON,
                        {"received_on": "2026-05-20", "document": "Reactie."})
    assert view["state"] == "forward_to_council"
    view = service.fire(tid, "forwarded", LIAISON)
    assert view["state"] == "closed"
    assert mails_to(sqlite_engine, "md_signal/to_council") == [CLERK]
    html = next(m for m in outbox(sqlite_engine) if m.template == "md_signal/to_council").raw
    assert b"Advies.<br>" in html  # the document's line break kept in HTML


@pytest.mark.parametrize("moment", ["assessing_report", "assessing_alderman_outcome"])
def test_accepting_the_outcome_resolves_the_signal(service: Service, clock: FrozenClock,
                                                   sqlite_engine: Engine, moment: str) -> None:
    tid = to_assessing_report(service, clock)
    if moment == "assessing_alderman_outcome":
        service.fire(tid, "escalate_to_alderman", SECRETARY)
        service.fire(tid, "alderman_meeting_held", SECRETARY)
    view = service.fire(tid, "accept_outcome", SECRETARY)
    assert (view["state"], view["final"]) == ("resolved", True)
    assert sorted(mails_to(sqlite_engine, "md_signal/resolved")) == sorted(PARTICIPEREN)


def test_withdraw_suspend_resume_extend_tell_the_officer_and_the_group(
        service: Service, clock: FrozenClock, sqlite_engine: Engine) -> None:
    tid = to_assessing_report(service, clock)
    service.fire(tid, "escalate_to_alderman", SECRETARY)
    service.fire(tid, "suspend", SECRETARY)
    service.fire(tid, "resume", SECRETARY)
    service.fire(tid, "extend", SECRETARY, {"deadline": "alderman_meeting_due", "extra": "2w",
                                            "reason": "Zomer"})
    view = service.fire(tid, "withdraw", SECRETARY, {"reason": "Opgelost buiten de raad"})
    assert view["state"] == "withdrawn"
    for template in ("common/suspended", "common/resumed", "common/extended", "common/withdrawn"):
        assert sorted(mails_to(sqlite_engine, template)) == sorted([OFFICER, *PARTICIPEREN])


# --- md_asked_advice -------------------------------------------------------------------------


def asked(service: Service, document_type: str = "verordening") -> int:
    return int(service.start("md_asked_advice", ORG, "Verordening Wmo 2027", SECRETARY,
                             {"policy_adviser": OFFICER, "received_on": "2026-03-24",
                              "document_type": document_type})["id"])


def test_every_member_receives_the_request(service: Service, sqlite_engine: Engine) -> None:
    asked(service)
    assert sorted(mails_to(sqlite_engine, "md_asked_advice/incoming")) == sorted(
        md(n) for n in ("aaltje", "harm", "wilma", "kees"))
    assert mails_to(sqlite_engine, "md_asked_advice/receipt") == [OFFICER]


def test_a_work_group_needs_members(service: Service) -> None:
    tid = asked(service)
    with pytest.raises(InvalidInput, match="Een werkgroep heeft leden nodig"):
        service.fire(tid, "assign", SECRETARY, {"group": "werkgroep"})
    view = service.fire(tid, "assign", SECRETARY,
                        {"group": "werkgroep", "members": f"{md('aaltje')}, {md('kees')}"})
    assert view["data"]["group"] == [md("aaltje"), md("kees")]


def test_the_platform_inclusie_answers_by_personal_link(service: Service, clock: FrozenClock,
                                                        sqlite_engine: Engine) -> None:
    tid = asked(service)
    service.fire(tid, "assign", SECRETARY, {"group": "Participeren"})
    assert sorted(mails_to(sqlite_engine, "md_asked_advice/assigned")) == sorted(PARTICIPEREN)
    calls = [m for m in outbox(sqlite_engine) if m.template == "md_asked_advice/platform_call"]
    assert sorted(m.recipient for m in calls) == [md("roos"), md("tom")]
    roos = next(m for m in calls if m.recipient == md("roos"))
    message = email.message_from_bytes(roos.raw, policy=email.policy.default)
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    found = re.search(r"/antwoord/(\S+)", str(body.get_content()))
    assert found is not None
    token = unquote(found.group(1))
    view = service.answer(token, "sign_up")
    assert view["data"]["platform_signups"] == [md("roos")]
    assert view["call"] == {"role": "inclusion_platform", "window": "signup_closes",
                            "signups": [md("roos")]}
    view = service.fire(tid, "close_signup", SECRETARY)
    assert view["data"]["platform_group"] == [md("roos")]


def test_the_asked_advice_from_request_to_council(service: Service, clock: FrozenClock,
                                                  sqlite_engine: Engine) -> None:
    tid = asked(service)
    service.fire(tid, "assign", SECRETARY, {"group": "Participeren"})
    service.fire(tid, "officer_briefing_held", SECRETARY)
    service.fire(tid, "submit_draft", SECRETARY, {"document": "Concept"})
    view = service.fire(tid, "return_draft", SECRETARY, {"reason": "Meer over de eigen bijdrage"})
    assert view["state"] == "drafting"
    assert sorted(mails_to(sqlite_engine, "md_asked_advice/draft_returned")) == sorted(PARTICIPEREN)
    service.fire(tid, "submit_draft", SECRETARY, {"document": "Concept 2"})
    clock.advance(timedelta(days=7))
    service.fire(tid, "adopt_advice", SECRETARY, {"adopted_on": "2026-03-31"})
    view = service.fire(tid, "send_advice", SECRETARY, {"document": "Advies"})
    assert sorted(mails_to(sqlite_engine, "md_asked_advice/advice_sent")) == sorted(
        [COLLEGE, LIAISON, OFFICER, *PARTICIPEREN])
    assert deadline(view, "advice_due")["status"] == "met"
    view = service.fire(tid, "record_response", LIAISON, {"received_on": "2026-03-31", "document": "R"})
    assert view["state"] == "forward_to_council"
    view = service.fire(tid, "forwarded", LIAISON)
    assert view["state"] == "closed"
    assert mails_to(sqlite_engine, "md_asked_advice/to_council") == [CLERK]


def test_a_beleidsregel_closes_without_the_council(service: Service, clock: FrozenClock) -> None:
    tid = asked(service, "beleidsregel")
    service.fire(tid, "assign", SECRETARY, {"group": "Zorg en welzijn"})
    service.fire(tid, "officer_briefing_held", SECRETARY)
    service.fire(tid, "submit_draft", SECRETARY, {"document": "Concept"})
    service.fire(tid, "adopt_advice", SECRETARY, {"adopted_on": "2026-03-24"})
    clock.advance(timedelta(days=60))
    view = service.fire(tid, "send_advice", SECRETARY, {"document": "Advies"})
    assert deadline(view, "advice_due")["status"] == "met_late"
    view = service.fire(tid, "record_response", LIAISON, {"received_on": "2026-05-23", "document": "R"})
    assert view["state"] == "closed"
