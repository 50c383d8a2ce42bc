"""Midden-Drenthe's two flows (DESIGN.md §3, seed 004 ch. 4, 9, 11, 13), driven on the real
service with the demo organisation `demo-md` as its people would drive them.

md_signal: a theme group's signal goes to the officer, the municipality reports, the alderman is
asked, and an unasked advice is announced, adopted, sent and forwarded to the griffie. Its
refusals write nothing. md_asked_advice: every member sees the request, a theme group or a work
group drafts with the Platform Inclusie (the same call mechanism as the members' call), the
plenary meeting adopts, and the council's own documents go on to the griffie."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import unquote

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from app.reports import Filters, Reports
from app.service import Service
from app.sweep import Sweep
from engine import tokens
from engine.clock import AMSTERDAM, FrozenClock
from engine.errors import InvalidInput, NotAllowed, NotFound
from storage.tables import HistoryEntry, OutboxMessage, Trajectory
from tests.helpers import body, deadline, outbox, plain

ORG = "demo-md"


def md(name: str) -> str:
    return f"{name}@voorbeeldveld.example.org"


SECRETARY, LIAISON, OFFICER, ALDERMAN = md("secretaris"), md("verbinding"), md("beleid"), md("wethouder")
COLLEGE, CLERK, ROOS, TOM = md("college"), md("griffie"), md("roos"), md("tom")
AALTJE, HARM, WILMA, KEES = md("aaltje"), md("harm"), md("wilma"), md("kees")
PARTICIPEREN = [AALTJE, HARM]  # chair: harm
ZORG = [WILMA, KEES]  # chair: wilma
MEMBERS = [AALTJE, HARM, WILMA, KEES]
SIX_DOMAINS = "Wmo, Jeugdwet, Participatiewet, schuldhulpverlening, armoedebeleid, leerlingenvervoer"
SIGNAL = {"theme_group": "Participeren", "domain": "Wmo", "individual_case": "nee",
          "summary": "Inwoners wachten maanden op een indicatie.\nVooral ouderen."}


# --- helpers ---------------------------------------------------------------------------------


def signal(service: Service, actor: str = SECRETARY, **changes: str) -> dict[str, Any]:
    return service.start("md_signal", ORG, "Wachtlijst huishoudelijke hulp", actor,
                         {**SIGNAL, **changes})



def to(engine: Engine, template: str, tid: int | None = None) -> list[str]:
    """The recipients of a template, sorted."""
    return sorted(m.recipient for m in outbox(engine, tid) if m.template == template)




def subject(engine: Engine, template: str, recipient: str) -> str:
    row = next(m for m in reversed(outbox(engine)) if m.template == template
               and m.recipient == recipient)
    return str(email.message_from_bytes(row.raw, policy=email.policy.default)["Subject"])


def written(engine: Engine) -> tuple[int, int, int]:
    """Trajectories, history entries and mails in the database."""
    with Session(engine) as session:
        return (len(session.exec(select(Trajectory)).all()),
                len(session.exec(select(HistoryEntry)).all()),
                len(session.exec(select(OutboxMessage)).all()))


def sweep_on(service: Service, clock: FrozenClock, day: date) -> None:
    clock.set(datetime.combine(day, time(7), AMSTERDAM))
    Sweep(service).run()


def move_to(clock: FrozenClock, day: date) -> None:
    clock.set(datetime.combine(day, time(10), AMSTERDAM))


def events(view: dict[str, Any]) -> list[str]:
    return [h["event"] for h in view["history"]]


def to_awaiting_report(service: Service, clock: FrozenClock) -> int:
    tid = int(signal(service)["id"])
    service.fire(tid, "share_with_officer", SECRETARY, {"officer": OFFICER, "meeting_on": "2026-04-07"})
    move_to(clock, date(2026, 4, 7))
    service.fire(tid, "officer_meeting_held", OFFICER)
    return tid


def to_assessing_report(service: Service, clock: FrozenClock) -> int:
    tid = to_awaiting_report(service, clock)
    move_to(clock, date(2026, 4, 21))
    service.fire(tid, "record_report", SECRETARY, {"document": "Verslag.\nActie: de gemeente onderzoekt."})
    return tid


def to_drafting_advice(service: Service, clock: FrozenClock) -> int:
    tid = to_assessing_report(service, clock)
    service.fire(tid, "escalate_to_alderman", SECRETARY)
    service.fire(tid, "alderman_meeting_held", LIAISON)
    service.fire(tid, "escalate_to_unasked_advice", SECRETARY)
    return tid


def to_signal_awaiting_response(service: Service, clock: FrozenClock) -> int:
    tid = to_drafting_advice(service, clock)
    service.fire(tid, "announce_advice", SECRETARY, {"subject": "Wachtlijst", "explanation": "Te lang."})
    service.fire(tid, "adopt_advice", SECRETARY, {"adopted_on": "2026-04-21"})
    service.fire(tid, "send_advice", SECRETARY, {"document": "Verkort de wachttijd."})
    return tid


# --- md_signal: starting and its refusals -----------------------------------------------------


def test_a_theme_group_chair_files_a_signal_for_their_group(service: Service,
                                                            sqlite_engine: Engine) -> None:
    view = signal(service, actor=HARM)
    assert (view["flow"], view["state"]) == ("md_signal", "signal_noted")
    assert view["data"]["group"] == PARTICIPEREN
    assert view["data"]["theme_group"] == "Participeren"
    assert view["data"]["domain"] == "Wmo"
    assert view["data"]["individual_case"] == "nee"
    assert to(sqlite_engine, "md_signal/noted") == sorted([SECRETARY, *PARTICIPEREN])
    text = body(sqlite_engine, "md_signal/noted", AALTJE)
    assert "De themagroep Participeren brengt een signaal in" in text
    assert "Inwoners wachten maanden op een indicatie." in text
    assert view["history"][0]["actor"] == HARM


def test_the_secretary_and_the_chair_file_for_any_group(service: Service) -> None:
    assert signal(service, theme_group="Zorg en welzijn")["data"]["group"] == ZORG
    assert signal(service, actor=KEES, theme_group="Participeren")["data"]["group"] == PARTICIPEREN


def test_an_individual_case_is_refused_with_the_seeds_reason_and_nothing_is_written(
        service: Service, sqlite_engine: Engine) -> None:
    with pytest.raises(InvalidInput) as refused:
        signal(service, individual_case="ja")
    assert "individuele casussen kunnen niet worden ingebracht" in refused.value.message
    assert refused.value.exit_code == 2
    assert written(sqlite_engine) == (0, 0, 0)
    assert Reports(service).trajectories(Filters(flow="md_signal")).rows == []


def test_individual_case_must_be_answered(service: Service, sqlite_engine: Engine) -> None:
    raw = {k: v for k, v in SIGNAL.items() if k != "individual_case"}
    with pytest.raises(InvalidInput, match="individual_case"):
        service.start("md_signal", ORG, "Wachtlijst", SECRETARY, raw)
    with pytest.raises(InvalidInput, match="Kies uit: ja, nee"):
        signal(service, individual_case="misschien")
    assert written(sqlite_engine) == (0, 0, 0)


def test_an_unknown_domain_is_refused_listing_the_six(service: Service,
                                                      sqlite_engine: Engine) -> None:
    with pytest.raises(InvalidInput) as refused:
        signal(service, domain="Sport")
    assert f"Kies uit: {SIX_DOMAINS}." in refused.value.message
    assert written(sqlite_engine) == (0, 0, 0)


@pytest.mark.parametrize("domain", SIX_DOMAINS.split(", "))
def test_each_of_the_six_domains_is_taken(service: Service, domain: str) -> None:
    assert signal(service, domain=domain.upper())["data"]["domain"] == domain


def test_an_unknown_theme_group_is_refused(service: Service, sqlite_engine: Engine) -> None:
    with pytest.raises(NotFound) as refused:
        signal(service, theme_group="Wonen")
    assert "de groep 'Wonen' bestaat niet. Groepen: Participeren, Zorg en welzijn." in \
        refused.value.message
    assert refused.value.exit_code == 2
    assert written(sqlite_engine) == (0, 0, 0)


def test_a_group_chair_may_not_file_for_another_group(service: Service,
                                                      sqlite_engine: Engine) -> None:
    with pytest.raises(NotAllowed) as refused:
        signal(service, actor=WILMA, theme_group="Participeren")
    assert refused.value.message == ("Je kunt alleen een signaal inbrengen voor je eigen themagroep, "
                                     "niet voor Participeren. Je bent voorzitter van Zorg en welzijn.")
    assert refused.value.exit_code == 3
    assert written(sqlite_engine) == (0, 0, 0)
    assert signal(service, actor=WILMA, theme_group="Zorg en welzijn")["data"]["group"] == ZORG


def test_a_member_who_chairs_no_group_may_not_file(service: Service, sqlite_engine: Engine) -> None:
    with pytest.raises(NotAllowed, match="mag geen traject starten"):
        signal(service, actor=AALTJE)
    assert written(sqlite_engine) == (0, 0, 0)


def test_an_organisation_that_does_not_use_md_signal_refuses_it(service: Service,
                                                                sqlite_engine: Engine) -> None:
    before = written(sqlite_engine)
    with pytest.raises(NotAllowed) as refused:
        service.start("md_signal", "demo", "Signaal", "secretariaat@example.org", SIGNAL)
    assert "Deze organisatie gebruikt: asked_advice, unasked_advice." in refused.value.message
    with pytest.raises(NotAllowed, match="Deze organisatie gebruikt: asked_advice, unasked_advice"):
        service.start("md_asked_advice", "demo", "Verordening", "secretariaat@example.org",
                      {"policy_adviser": "beleid@example.org", "document_type": "verordening"})
    assert written(sqlite_engine) == before


# --- md_signal: the officer, the report and its term -------------------------------------------


def test_the_officer_must_be_a_policy_adviser(service: Service) -> None:
    tid = int(signal(service)["id"])
    with pytest.raises(InvalidInput, match="heeft niet de rol beleidsadviseur"):
        service.fire(tid, "share_with_officer", SECRETARY, {"officer": AALTJE, "meeting_on": "2026-04-07"})
    assert service.show(tid)["state"] == "signal_noted"


def test_the_officer_hears_domain_and_summary_before_the_meeting(service: Service,
                                                                 sqlite_engine: Engine) -> None:
    tid = int(signal(service)["id"])
    view = service.fire(tid, "share_with_officer", SECRETARY,
                        {"officer": OFFICER, "meeting_on": "2026-04-07"})
    assert view["state"] == "officer_meeting_planned"
    assert (view["data"]["officer"], view["data"]["meeting_on"]) == (OFFICER, "2026-04-07")
    assert to(sqlite_engine, "md_signal/officer_briefing") == [OFFICER]
    text = body(sqlite_engine, "md_signal/officer_briefing", OFFICER)
    assert "Domein: Wmo" in text
    assert "Inwoners wachten maanden op een indicatie.\nVooral ouderen." in text
    assert "dinsdag 7 april 2026" in text
    assert "anderen van de gemeente moeten aanschuiven" in text
    assert to(sqlite_engine, "md_signal/meeting_planned") == sorted(PARTICIPEREN)
    assert "Ingrid Dijkstra (beleidsmedewerker)" in body(sqlite_engine, "md_signal/meeting_planned", HARM)


def test_the_report_term_counts_four_weeks_from_the_meeting(service: Service, clock: FrozenClock,
                                                            sqlite_engine: Engine) -> None:
    tid = int(signal(service)["id"])
    service.fire(tid, "share_with_officer", SECRETARY, {"officer": OFFICER, "meeting_on": "2026-04-07"})
    move_to(clock, date(2026, 4, 9))  # held on the 7th, recorded two days later
    view = service.fire(tid, "officer_meeting_held", OFFICER)
    assert view["state"] == "awaiting_report"
    due = deadline(view, "report_due")
    # 4 weeks after Tuesday 7 April is Tuesday 5 May (Bevrijdingsdag): the end moves to 6 May.
    assert (due["due"], due["status"]) == ("2026-05-06", "running")
    assert "het gesprek op 07-04-2026" in due["explanation"]
    assert to(sqlite_engine, "md_signal/report_requested") == [OFFICER]
    assert "uiterlijk op woensdag 6 mei 2026" in body(sqlite_engine, "md_signal/report_requested", OFFICER)


def test_report_due_reminds_and_alerts_the_liaison_and_the_secretary(
        service: Service, clock: FrozenClock, sqlite_engine: Engine) -> None:
    tid = to_awaiting_report(service, clock)
    sweep_on(service, clock, date(2026, 4, 27))
    assert to(sqlite_engine, "deadline_reminder", tid) == []
    sweep_on(service, clock, date(2026, 4, 28))  # 5 working days before 6 May (5 May is free)
    assert to(sqlite_engine, "deadline_reminder", tid) == sorted([LIAISON, SECRETARY])
    sweep_on(service, clock, date(2026, 5, 6))  # the last day
    assert to(sqlite_engine, "deadline_reminder", tid) == sorted([LIAISON, SECRETARY] * 2)
    assert to(sqlite_engine, "deadline_overdue", tid) == []
    sweep_on(service, clock, date(2026, 5, 7))
    assert to(sqlite_engine, "deadline_overdue", tid) == sorted([LIAISON, SECRETARY])
    assert "verslag van de gemeente" in subject(sqlite_engine, "deadline_overdue", LIAISON)
    view = service.show(tid)
    assert deadline(view, "report_due")["status"] == "overdue"
    assert view["state"] == "awaiting_report"  # a missed term alerts, it does not stop the flow
    view = service.fire(tid, "record_report", SECRETARY, {"document": "Laat verslag."})
    assert (view["state"], deadline(view, "report_due")["status"]) == ("assessing_report", "met_late")


def test_the_report_goes_to_the_secretary_and_the_group(service: Service, clock: FrozenClock,
                                                        sqlite_engine: Engine) -> None:
    tid = to_assessing_report(service, clock)
    view = service.show(tid)
    assert view["state"] == "assessing_report"
    assert view["data"]["report"] == "Verslag.\nActie: de gemeente onderzoekt."
    assert deadline(view, "report_due")["status"] == "met"
    assert to(sqlite_engine, "md_signal/report_received") == sorted([SECRETARY, *PARTICIPEREN])
    assert "Actie: de gemeente onderzoekt." in body(sqlite_engine, "md_signal/report_received", AALTJE)


def test_a_member_may_not_record_the_report(service: Service, clock: FrozenClock) -> None:
    tid = to_awaiting_report(service, clock)
    with pytest.raises(NotAllowed, match="mag 'verslag vastleggen' \\(record_report\\) niet doen"):
        service.fire(tid, "record_report", AALTJE, {"document": "x"})


@pytest.mark.parametrize("moment", ["assessing_report", "assessing_alderman_outcome"])
def test_accepting_the_outcome_resolves_the_signal(service: Service, clock: FrozenClock,
                                                   sqlite_engine: Engine, moment: str) -> None:
    tid = to_assessing_report(service, clock)
    if moment == "assessing_alderman_outcome":
        service.fire(tid, "escalate_to_alderman", SECRETARY)
        view = service.fire(tid, "alderman_meeting_held", SECRETARY)
        assert "alderman_report" not in view["data"]
        assert deadline(view, "alderman_meeting_due")["status"] == "met"
    view = service.fire(tid, "accept_outcome", SECRETARY)
    assert (view["state"], view["final"], view["allowed_events"]) == ("resolved", True, [])
    assert to(sqlite_engine, "md_signal/resolved") == sorted(PARTICIPEREN)
    assert all(d["status"] not in ("running", "overdue") for d in view["deadlines"])


# --- md_signal: the alderman ---------------------------------------------------------------------


def test_escalating_asks_the_officer_and_tells_the_liaison_and_the_group(
        service: Service, clock: FrozenClock, sqlite_engine: Engine) -> None:
    tid = to_assessing_report(service, clock)
    view = service.fire(tid, "escalate_to_alderman", SECRETARY)  # on Tuesday 21 April
    assert view["state"] == "alderman_meeting_requested"
    due = deadline(view, "alderman_meeting_due")
    assert (due["due"], due["status"]) == ("2026-06-02", "running")  # 6 weeks after 21 April
    assert "het verzoek op 21-04-2026" in due["explanation"]
    assert to(sqlite_engine, "md_signal/alderman_requested") == [OFFICER]
    assert to(sqlite_engine, "md_signal/alderman_requested_liaison") == [LIAISON]
    assert to(sqlite_engine, "md_signal/alderman_requested_group") == sorted(PARTICIPEREN)
    officer = body(sqlite_engine, "md_signal/alderman_requested", OFFICER)
    assert "Wilt u een gesprek met de wethouder plannen?" in officer
    assert "uiterlijk op dinsdag 2 juni 2026" in officer
    assert "Ingrid Dijkstra (beleidsmedewerker)" in body(
        sqlite_engine, "md_signal/alderman_requested_liaison", LIAISON)


def test_alderman_meeting_due_reminds_and_alerts_the_liaison_and_the_secretary(
        service: Service, clock: FrozenClock, sqlite_engine: Engine) -> None:
    tid = to_assessing_report(service, clock)
    service.fire(tid, "escalate_to_alderman", SECRETARY)
    sweep_on(service, clock, date(2026, 5, 26))  # 5 working days before Tuesday 2 June
    assert to(sqlite_engine, "deadline_reminder", tid) == sorted([LIAISON, SECRETARY])
    assert "gesprek met de wethouder" in subject(sqlite_engine, "deadline_reminder", SECRETARY)
    sweep_on(service, clock, date(2026, 6, 3))
    assert to(sqlite_engine, "deadline_overdue", tid) == sorted([LIAISON, SECRETARY])
    assert deadline(service.show(tid), "alderman_meeting_due")["status"] == "overdue"
    view = service.fire(tid, "alderman_meeting_held", LIAISON, {"document": "Geen toezegging."})
    assert view["state"] == "assessing_alderman_outcome"
    assert deadline(view, "alderman_meeting_due")["status"] == "met_late"
    assert view["data"]["alderman_report"] == "Geen toezegging."
    assert to(sqlite_engine, "md_signal/alderman_outcome") == sorted(PARTICIPEREN)
    assert "Geen toezegging." in body(sqlite_engine, "md_signal/alderman_outcome", HARM)


# --- md_signal: the unasked advice ---------------------------------------------------------------


def test_send_advice_is_refused_until_announced_and_adopted(service: Service, clock: FrozenClock,
                                                            sqlite_engine: Engine) -> None:
    tid = to_drafting_advice(service, clock)
    assert to(sqlite_engine, "md_signal/unasked_advice_started") == sorted(PARTICIPEREN)
    with pytest.raises(NotAllowed) as refused:
        service.fire(tid, "send_advice", SECRETARY, {"document": "Advies."})
    assert refused.value.message == (
        "Het advies kan pas weg als het is aangekondigd bij het college en vastgesteld in de "
        "plenaire vergadering. Doe eerst: announce_advice, adopt_advice.")
    view = service.fire(tid, "announce_advice", SECRETARY,
                        {"subject": "Wachtlijst huishoudelijke hulp", "explanation": "Het duurt te lang."})
    assert (view["state"], view["data"]["announced_on"]) == ("drafting_advice", "2026-04-21")
    assert to(sqlite_engine, "md_signal/announced") == [COLLEGE]
    announced = body(sqlite_engine, "md_signal/announced", COLLEGE)
    assert "Onderwerp: Wachtlijst huishoudelijke hulp" in announced
    assert "Het duurt te lang." in announced
    with pytest.raises(NotAllowed) as refused:
        service.fire(tid, "send_advice", SECRETARY, {"document": "Advies."})
    assert refused.value.message == ("Het advies kan pas weg als het is vastgesteld in de plenaire "
                                     "vergadering. Doe eerst: adopt_advice.")
    with pytest.raises(InvalidInput, match="kan niet in de toekomst liggen"):
        service.fire(tid, "adopt_advice", SECRETARY, {"adopted_on": "2026-04-22"})
    view = service.fire(tid, "adopt_advice", SECRETARY, {"adopted_on": "2026-04-21"})
    assert (view["state"], view["data"]["adopted_on"]) == ("drafting_advice", "2026-04-21")
    assert service.fire(tid, "send_advice", SECRETARY, {"document": "Advies."})["state"] == \
        "awaiting_response"


def test_adopted_but_not_announced_is_refused_too(service: Service, clock: FrozenClock) -> None:
    tid = to_drafting_advice(service, clock)
    service.fire(tid, "adopt_advice", SECRETARY, {"adopted_on": "2026-04-20"})
    with pytest.raises(NotAllowed, match=r"^Het advies kan pas weg als het is aangekondigd bij het "
                                         r"college\. Doe eerst: announce_advice\.$"):
        service.fire(tid, "send_advice", SECRETARY, {"document": "Advies."})
    assert service.show(tid)["state"] == "drafting_advice"


def test_the_whole_escalation_from_signal_to_the_griffie(service: Service, clock: FrozenClock,
                                                         sqlite_engine: Engine) -> None:
    tid = to_drafting_advice(service, clock)
    service.fire(tid, "announce_advice", SECRETARY, {"subject": "Wachtlijst", "explanation": "Te lang."})
    move_to(clock, date(2026, 5, 12))
    service.fire(tid, "adopt_advice", SECRETARY, {"adopted_on": "2026-05-12"})
    view = service.fire(tid, "send_advice", SECRETARY, {"document": "Advies.\nTweede regel."})
    assert view["state"] == "awaiting_response"
    assert view["data"]["advice_sent_on"] == "2026-05-12"
    assert view["data"]["report"] == "Verslag.\nActie: de gemeente onderzoekt."  # not overwritten
    response = deadline(view, "response_due")
    assert (response["due"], response["status"]) == ("2026-06-23", "running")  # 6 weeks
    assert to(sqlite_engine, "md_signal/advice_sent") == sorted(
        [COLLEGE, LIAISON, ALDERMAN, OFFICER, *PARTICIPEREN])
    sent = body(sqlite_engine, "md_signal/advice_sent", COLLEGE)
    assert "Advies.\nTweede regel." in sent
    assert "dinsdag 23 juni 2026" in sent
    with pytest.raises(InvalidInput, match="kan niet eerder binnenkomen dan het advies is verstuurd"):
        service.fire(tid, "record_response", LIAISON, {"received_on": "2026-05-11", "document": "R"})
    view = service.fire(tid, "publish", SECRETARY, {"url": "https://example.org/advies"})
    assert view["data"]["published_url"] == "https://example.org/advies"
    with pytest.raises(NotAllowed, match="De publicatie is al vastgelegd"):
        service.fire(tid, "publish", SECRETARY, {"url": "https://example.org/ander"})
    move_to(clock, date(2026, 6, 1))
    view = service.fire(tid, "record_response", LIAISON,
                        {"received_on": "2026-05-29", "document": "Reactie.\nWe nemen het over."})
    assert view["state"] == "forward_to_council"
    assert deadline(view, "response_due")["status"] == "met"
    assert to(sqlite_engine, "md_signal/response_received") == sorted([SECRETARY, *PARTICIPEREN])
    with pytest.raises(NotAllowed, match="mag 'doorgestuurd naar de griffie' \\(forwarded\\) niet doen"):
        service.fire(tid, "forwarded", AALTJE)
    view = service.fire(tid, "forwarded", LIAISON)
    assert (view["state"], view["final"]) == ("closed", True)
    assert to(sqlite_engine, "md_signal/to_council") == [CLERK]
    council = body(sqlite_engine, "md_signal/to_council", CLERK)
    assert "Advies.\nTweede regel." in council
    assert "Reactie.\nWe nemen het over." in council
    html = next(m for m in outbox(sqlite_engine) if m.template == "md_signal/to_council").raw
    assert b"Advies.<br>" in html  # the document's line break kept in HTML
    assert events(view) == [
        "start", "share_with_officer", "officer_meeting_held", "record_report",
        "escalate_to_alderman", "alderman_meeting_held", "escalate_to_unasked_advice",
        "announce_advice", "adopt_advice", "send_advice", "publish", "record_response",
        "forwarded"]
    assert [d["status"] for d in view["deadlines"]] == ["met", "met", "met"]


def test_the_secretary_forwards_too(service: Service, clock: FrozenClock) -> None:
    tid = to_signal_awaiting_response(service, clock)
    service.fire(tid, "record_response", SECRETARY, {"received_on": "2026-04-21", "document": "R"})
    assert service.fire(tid, "forwarded", SECRETARY)["state"] == "closed"


def test_publish_only_once_the_advice_is_sent(service: Service, clock: FrozenClock) -> None:
    tid = to_drafting_advice(service, clock)
    with pytest.raises(NotAllowed, match="kan niet in de stap 'Ongevraagd advies schrijven'"):
        service.fire(tid, "publish", SECRETARY, {"url": "https://example.org/advies"})


def test_response_due_alerts_the_liaison_and_the_secretary(service: Service, clock: FrozenClock,
                                                           sqlite_engine: Engine) -> None:
    tid = to_signal_awaiting_response(service, clock)  # sent on 21 April: due 2 June
    assert deadline(service.show(tid), "response_due")["due"] == "2026-06-02"
    sweep_on(service, clock, date(2026, 6, 3))
    assert to(sqlite_engine, "deadline_overdue", tid) == sorted([LIAISON, SECRETARY])


# --- md_signal: withdraw, suspend, resume, extend -------------------------------------------------


def test_the_exits_tell_the_officer_and_the_group(service: Service, clock: FrozenClock,
                                                  sqlite_engine: Engine) -> None:
    tid = to_assessing_report(service, clock)
    service.fire(tid, "escalate_to_alderman", SECRETARY)
    view = service.fire(tid, "suspend", SECRETARY, {"reason": "Wethouder met verlof"})
    assert deadline(view, "alderman_meeting_due")["status"] == "suspended"
    with pytest.raises(NotAllowed, match="Het traject is opgeschort"):
        service.fire(tid, "alderman_meeting_held", SECRETARY)
    move_to(clock, date(2026, 5, 5))  # 14 days later
    view = service.fire(tid, "resume", SECRETARY)
    assert deadline(view, "alderman_meeting_due")["due"] == "2026-06-16"  # 2 June + 14 days
    view = service.fire(tid, "extend", SECRETARY, {"deadline": "alderman_meeting_due", "extra": "2w",
                                                   "reason": "Zomer"})
    assert deadline(view, "alderman_meeting_due")["due"] == "2026-06-30"
    view = service.fire(tid, "withdraw", SECRETARY, {"reason": "Opgelost buiten de raad"})
    assert (view["state"], view["final"]) == ("withdrawn", True)
    assert deadline(view, "alderman_meeting_due")["status"] == "cancelled"
    for template in ("common/suspended", "common/resumed", "common/extended", "common/withdrawn"):
        assert to(sqlite_engine, template) == sorted([OFFICER, *PARTICIPEREN]), template
    assert "dinsdag 30 juni 2026" in body(sqlite_engine, "common/extended", OFFICER)
    assert "Opgelost buiten de raad" in body(sqlite_engine, "common/withdrawn", AALTJE)


def test_while_the_college_term_runs_the_liaison_and_secretary_are_told_too(
        service: Service, clock: FrozenClock, sqlite_engine: Engine) -> None:
    tid = to_signal_awaiting_response(service, clock)
    service.fire(tid, "extend", SECRETARY, {"deadline": "response_due", "until": "2026-07-01",
                                            "reason": "Collegereces"})
    assert to(sqlite_engine, "common/extended") == sorted(
        [OFFICER, *PARTICIPEREN, LIAISON, SECRETARY])
    view = service.fire(tid, "withdraw", SECRETARY, {"reason": "Ingehaald door nieuw beleid"})
    assert deadline(view, "response_due")["status"] == "cancelled"
    assert to(sqlite_engine, "common/withdrawn") == sorted([OFFICER, *PARTICIPEREN, LIAISON, SECRETARY])


def test_a_signal_withdrawn_at_once_tells_only_the_group(service: Service,
                                                         sqlite_engine: Engine) -> None:
    tid = int(signal(service)["id"])
    view = service.fire(tid, "withdraw", SECRETARY, {"reason": "Dubbel ingebracht"})
    assert view["state"] == "withdrawn"
    assert to(sqlite_engine, "common/withdrawn") == sorted(PARTICIPEREN)
    with pytest.raises(NotAllowed):
        service.fire(tid, "share_with_officer", SECRETARY, {"officer": OFFICER, "meeting_on": "2026-04-07"})


# --- md_asked_advice -------------------------------------------------------------------------------


def asked(service: Service, document_type: str = "verordening", **extra: str) -> int:
    raw = {"policy_adviser": OFFICER, "received_on": "2026-03-24", "document_type": document_type,
           **extra}
    return int(service.start("md_asked_advice", ORG, "Verordening Wmo 2027", SECRETARY, raw)["id"])


def link_for(engine: Engine, who: str) -> str:
    row = next(m for m in outbox(engine) if m.template == "md_asked_advice/platform_call"
               and m.recipient == who)
    found = re.search(r"/antwoord/(\S+)", plain(row))
    assert found is not None
    return unquote(found.group(1))


def to_plenary(service: Service, group: str = "Participeren", document_type: str = "verordening") -> int:
    tid = asked(service, document_type)
    service.fire(tid, "assign", SECRETARY, {"group": group})
    service.fire(tid, "officer_briefing_held", OFFICER)
    service.fire(tid, "submit_draft", SECRETARY, {"document": "Concept.\nEigen bijdrage omlaag."})
    return tid


def to_md_awaiting_response(service: Service, clock: FrozenClock,
                            document_type: str = "verordening") -> int:
    tid = to_plenary(service, document_type=document_type)
    move_to(clock, date(2026, 4, 14))
    service.fire(tid, "adopt_advice", SECRETARY, {"adopted_on": "2026-04-14"})
    service.fire(tid, "send_advice", SECRETARY, {"document": "Advies.\nHoud de eigen bijdrage laag."})
    return tid


def test_every_member_receives_the_request_as_an_incoming_document(
        service: Service, sqlite_engine: Engine) -> None:
    tid = asked(service)
    view = service.show(tid)
    assert (view["flow"], view["state"]) == ("md_asked_advice", "request_received")
    assert to(sqlite_engine, "md_asked_advice/incoming") == sorted(MEMBERS)
    incoming = body(sqlite_engine, "md_asked_advice/incoming", WILMA)
    assert "Ingekomen stuk" in subject(sqlite_engine, "md_asked_advice/incoming", WILMA)
    assert "Het gaat om een verordening" in incoming
    assert "woensdag 6 mei 2026" in incoming
    assert to(sqlite_engine, "md_asked_advice/receipt") == [OFFICER]
    receipt = body(sqlite_engine, "md_asked_advice/receipt", OFFICER)
    assert "uiterlijk op woensdag 6 mei 2026" in receipt  # 6 weeks: 5 May is free, so 6 May
    due = deadline(view, "advice_due")
    assert (due["due"], due["status"]) == ("2026-05-06", "running")


def test_received_today_unless_given_and_an_agreed_end_date(service: Service) -> None:
    view = service.start("md_asked_advice", ORG, "Beleidsregel", SECRETARY,
                         {"policy_adviser": OFFICER, "document_type": "beleidsregel",
                          "advice_due": "2026-06-30"})
    assert view["data"]["received_on"] == "2026-03-24"
    assert deadline(view, "advice_due")["due"] == "2026-06-30"


def test_an_unknown_document_type_is_refused(service: Service, sqlite_engine: Engine) -> None:
    with pytest.raises(InvalidInput, match="Kies uit: beleidskader, meerjarenplan, verordening, "
                                           "beleidsregel"):
        asked(service, "nota")
    assert written(sqlite_engine) == (0, 0, 0)


def test_assign_to_a_theme_group(service: Service, sqlite_engine: Engine) -> None:
    tid = asked(service)
    view = service.fire(tid, "assign", SECRETARY, {"group": "Zorg en welzijn"})
    assert view["state"] == "assigned"
    assert (view["data"]["assigned_group"], view["data"]["group"]) == ("Zorg en welzijn", ZORG)
    assert to(sqlite_engine, "md_asked_advice/assigned") == sorted(ZORG)
    assert "is voor de themagroep Zorg en welzijn" in body(sqlite_engine, "md_asked_advice/assigned", KEES)
    assert to(sqlite_engine, "md_asked_advice/assigned_adviser") == [OFFICER]
    adviser = body(sqlite_engine, "md_asked_advice/assigned_adviser", OFFICER)
    assert "De voorzitter is Wilma de Jong." in adviser
    assert "mondeling toelichten" in adviser
    assert to(sqlite_engine, "md_asked_advice/platform_call") == sorted([ROOS, TOM])
    assert deadline(view, "signup_closes")["status"] == "running"
    assert view["call"]["role"] == "inclusion_platform"


def test_assign_to_a_work_group_needs_its_members(service: Service, sqlite_engine: Engine) -> None:
    tid = asked(service)
    with pytest.raises(InvalidInput, match="Een werkgroep heeft leden nodig"):
        service.fire(tid, "assign", SECRETARY, {"group": "werkgroep"})
    with pytest.raises(InvalidInput, match="De leden van Participeren staan al vast"):
        service.fire(tid, "assign", SECRETARY, {"group": "Participeren", "members": KEES})
    with pytest.raises(NotFound, match="de groep 'Wonen' bestaat niet"):
        service.fire(tid, "assign", SECRETARY, {"group": "Wonen"})
    with pytest.raises(NotFound, match="staat niet in het bestand"):
        service.fire(tid, "assign", SECRETARY, {"group": "werkgroep", "members": "iemand@example.org"})
    view = service.show(tid)
    assert (view["state"], len(view["history"])) == ("request_received", 1)
    view = service.fire(tid, "assign", SECRETARY, {"group": "Werkgroep", "members": f"{AALTJE}, {KEES}"})
    assert (view["data"]["assigned_group"], view["data"]["group"]) == ("werkgroep", [AALTJE, KEES])
    assert to(sqlite_engine, "md_asked_advice/assigned") == sorted([AALTJE, KEES])
    assert "is voor de werkgroep" in body(sqlite_engine, "md_asked_advice/assigned", AALTJE)
    assert "De voorzitter" not in body(sqlite_engine, "md_asked_advice/assigned_adviser", OFFICER)


def test_the_platform_answers_by_personal_link_and_the_platform_group_forms(
        service: Service, sqlite_engine: Engine) -> None:
    tid = asked(service)
    service.fire(tid, "assign", SECRETARY, {"group": "Participeren"})
    token = link_for(sqlite_engine, ROOS)
    view = service.answer(token, "sign_up")
    assert view["data"]["platform_signups"] == [ROOS]
    assert view["history"][-1]["actor"] == ROOS
    assert to(sqlite_engine, "call/signup_confirmed") == [ROOS]
    with pytest.raises(tokens.TokenRefused, match="al gebruikt"):
        service.answer(token, "withdraw_signup")
    with pytest.raises(NotAllowed, match="mag 'aanmelden' \\(sign_up\\) niet doen"):
        service.fire(tid, "sign_up", AALTJE)  # the call is for the Platform Inclusie only
    service.fire(tid, "officer_briefing_held", SECRETARY)
    view = service.fire(tid, "sign_up", TOM)  # the call stays open while drafting
    assert (view["state"], view["data"]["platform_signups"]) == ("drafting", [ROOS, TOM])
    view = service.fire(tid, "close_signup", SECRETARY)
    assert view["state"] == "drafting"
    assert (view["data"]["platform_group"], view["data"]["platform_reserves"]) == ([ROOS, TOM], [])
    assert view["data"]["group"] == PARTICIPEREN  # the theme group stays the group
    assert to(sqlite_engine, "md_asked_advice/platform_joined") == sorted([*PARTICIPEREN, ROOS, TOM])
    joined = body(sqlite_engine, "md_asked_advice/platform_joined", HARM)
    assert "- Roos Veenstra\n- Tom Huisman" in joined


def test_the_sign_up_term_closes_the_platform_call_by_itself(service: Service, clock: FrozenClock,
                                                             sqlite_engine: Engine) -> None:
    tid = asked(service)
    view = service.fire(tid, "assign", SECRETARY, {"group": "Participeren"})
    # 10 days after 24 March is Good Friday 3 April; Easter Monday follows: Tuesday 7 April.
    assert deadline(view, "signup_closes")["due"] == "2026-04-07"
    service.fire(tid, "sign_up", ROOS)
    day = date(2026, 3, 25)
    while day <= date(2026, 4, 8):
        sweep_on(service, clock, day)
        day += timedelta(days=1)
    assert to(sqlite_engine, "call/reminder", tid) == [TOM]  # Roos answered: no reminder
    view = service.show(tid)
    assert view["history"][-1]["event"] == "close_signup"
    assert view["history"][-1]["actor"] == "systeem"
    assert view["data"]["platform_group"] == [ROOS]
    assert to(sqlite_engine, "md_asked_advice/platform_joined") == sorted([*PARTICIPEREN, ROOS])
    with pytest.raises(NotAllowed, match="De aanmelding is gesloten"):
        service.fire(tid, "sign_up", TOM)


def test_nobody_from_the_platform_is_fine(service: Service, sqlite_engine: Engine) -> None:
    tid = asked(service)
    service.fire(tid, "assign", SECRETARY, {"group": "Participeren"})
    view = service.fire(tid, "close_signup", SECRETARY)
    assert view["data"]["platform_group"] == []
    assert to(sqlite_engine, "md_asked_advice/platform_joined") == sorted(PARTICIPEREN)
    assert "heeft niemand zich aangemeld" in body(sqlite_engine, "md_asked_advice/platform_joined", HARM)


def test_a_returned_draft_goes_back_to_the_group(service: Service, sqlite_engine: Engine) -> None:
    tid = to_plenary(service)
    view = service.show(tid)
    assert (view["state"], view["data"]["draft"]) == ("plenary", "Concept.\nEigen bijdrage omlaag.")
    assert to(sqlite_engine, "md_asked_advice/draft_for_plenary") == sorted(MEMBERS)
    assert "Eigen bijdrage omlaag." in body(sqlite_engine, "md_asked_advice/draft_for_plenary", WILMA)
    view = service.fire(tid, "return_draft", SECRETARY, {"reason": "Meer over mantelzorgers"})
    assert (view["state"], view["data"]["reason"]) == ("drafting", "Meer over mantelzorgers")
    assert to(sqlite_engine, "md_asked_advice/draft_returned") == sorted(PARTICIPEREN)
    assert "Meer over mantelzorgers" in body(sqlite_engine, "md_asked_advice/draft_returned", AALTJE)
    assert deadline(view, "advice_due")["status"] == "running"  # one advice term throughout
    assert len([d for d in view["deadlines"] if d["name"] == "advice_due"]) == 1
    assert service.fire(tid, "submit_draft", SECRETARY, {"document": "Concept 2"})["state"] == "plenary"


def test_a_call_closed_by_hand_stays_closed(service: Service, clock: FrozenClock,
                                            sqlite_engine: Engine) -> None:
    tid = asked(service)
    service.fire(tid, "assign", SECRETARY, {"group": "Participeren"})
    service.fire(tid, "sign_up", ROOS)
    view = service.fire(tid, "close_signup", SECRETARY)
    assert deadline(view, "signup_closes")["status"] == "met"  # the term ends with the call
    assert view["call"] is None
    with pytest.raises(NotAllowed, match="De aanmelding is gesloten"):
        service.fire(tid, "sign_up", TOM)
    sweep_on(service, clock, date(2026, 4, 8))  # past the term: nothing closes a second time
    closes = [h for h in service.show(tid)["history"] if h["event"] == "close_signup"]
    assert len(closes) == 1
    assert len(to(sqlite_engine, "md_asked_advice/platform_joined")) == len([*PARTICIPEREN, ROOS])


def test_a_returned_draft_does_not_call_the_platform_again(service: Service,
                                                           sqlite_engine: Engine) -> None:
    tid = to_plenary(service)  # the draft went to the plenary meeting before the call closed
    view = service.show(tid)
    assert deadline(view, "signup_closes")["status"] == "met"
    assert view["data"]["platform_group"] == []  # nobody signed up before the draft went on
    invitations = len(to(sqlite_engine, "md_asked_advice/platform_call"))
    view = service.fire(tid, "return_draft", SECRETARY, {"reason": "Meer over mantelzorgers"})
    assert [d["name"] for d in view["deadlines"]].count("signup_closes") == 1
    assert view["call"] is None
    assert len(to(sqlite_engine, "md_asked_advice/platform_call")) == invitations


def test_a_verordening_goes_to_the_griffie(service: Service, clock: FrozenClock,
                                           sqlite_engine: Engine) -> None:
    tid = to_md_awaiting_response(service, clock)
    view = service.show(tid)
    assert view["state"] == "awaiting_response"
    assert deadline(view, "advice_due")["status"] == "met"
    assert deadline(view, "response_due")["due"] == "2026-05-26"  # 6 weeks after 14 April
    assert to(sqlite_engine, "md_asked_advice/advice_sent") == sorted(
        [OFFICER, COLLEGE, LIAISON, *PARTICIPEREN])
    assert "voor de gemeenteraad" in body(sqlite_engine, "md_asked_advice/advice_sent", COLLEGE)
    with pytest.raises(InvalidInput, match="kan niet in de toekomst binnenkomen"):
        service.fire(tid, "record_response", LIAISON, {"received_on": "2026-04-15", "document": "R"})
    service.fire(tid, "publish", SECRETARY, {"url": "https://example.org/advies-wmo"})
    view = service.fire(tid, "record_response", LIAISON,
                        {"received_on": "2026-04-14", "document": "Reactie.\nWe passen het aan."})
    assert view["state"] == "forward_to_council"
    assert to(sqlite_engine, "md_asked_advice/response_received") == sorted([SECRETARY, *PARTICIPEREN])
    view = service.fire(tid, "forwarded", LIAISON)
    assert (view["state"], view["final"]) == ("closed", True)
    assert to(sqlite_engine, "md_asked_advice/to_council") == [CLERK]
    council = body(sqlite_engine, "md_asked_advice/to_council", CLERK)
    assert "Houd de eigen bijdrage laag." in council
    assert "We passen het aan." in council
    assert events(view) == ["start", "assign", "officer_briefing_held", "submit_draft",
                            "adopt_advice", "send_advice", "publish", "record_response", "forwarded"]


@pytest.mark.parametrize(("document_type", "state"), [
    ("beleidskader", "forward_to_council"), ("meerjarenplan", "forward_to_council"),
    ("verordening", "forward_to_council"), ("beleidsregel", "closed")])
def test_the_council_receives_frameworks_plans_and_regulations(
        service: Service, clock: FrozenClock, sqlite_engine: Engine, document_type: str,
        state: str) -> None:
    tid = to_md_awaiting_response(service, clock, document_type)
    view = service.fire(tid, "record_response", SECRETARY, {"received_on": "2026-04-14", "document": "R"})
    assert view["state"] == state
    assert to(sqlite_engine, "md_asked_advice/to_council") == []
    if state == "closed":
        assert view["final"] is True
        assert "gaat niet naar de gemeenteraad" in body(
            sqlite_engine, "md_asked_advice/response_received", HARM)


def test_advice_sent_after_advice_due_is_met_late(service: Service, clock: FrozenClock) -> None:
    tid = to_plenary(service, group="Zorg en welzijn", document_type="beleidsregel")
    service.fire(tid, "adopt_advice", SECRETARY, {"adopted_on": "2026-03-24"})
    view = service.show(tid)
    assert (view["state"], deadline(view, "advice_due")["status"]) == ("sending", "running")
    move_to(clock, date(2026, 5, 7))  # the day after 6 May
    view = service.fire(tid, "send_advice", SECRETARY, {"document": "Advies"})
    late = deadline(view, "advice_due")
    assert (late["status"], late["status_label"]) == ("met_late", "te laat")


def test_the_exits_tell_the_adviser_and_the_group(service: Service, clock: FrozenClock,
                                                  sqlite_engine: Engine) -> None:
    tid = asked(service)
    service.fire(tid, "assign", SECRETARY, {"group": "Participeren"})
    view = service.fire(tid, "suspend", SECRETARY, {"reason": "Wachten op de gemeente"})
    assert {d["name"]: d["status"] for d in view["deadlines"]} == {
        "advice_due": "suspended", "signup_closes": "suspended"}
    with pytest.raises(NotAllowed, match="opgeschort"):
        service.fire(tid, "officer_briefing_held", SECRETARY)
    with pytest.raises(NotAllowed, match="Het traject is opgeschort"):
        service.fire(tid, "suspend", SECRETARY)
    move_to(clock, date(2026, 3, 31))  # 7 days later
    view = service.fire(tid, "resume", SECRETARY)
    assert deadline(view, "advice_due")["due"] == "2026-05-13"  # 6 May + 7 days
    view = service.fire(tid, "extend", SECRETARY, {"deadline": "advice_due", "until": "2026-06-30",
                                                   "reason": "Groot document"})
    assert deadline(view, "advice_due")["due"] == "2026-06-30"
    for template in ("common/suspended", "common/resumed", "common/extended"):
        assert to(sqlite_engine, template) == sorted([OFFICER, *PARTICIPEREN]), template
    assert "woensdag 13 mei 2026" in body(sqlite_engine, "common/resumed", OFFICER)
    assert "dinsdag 30 juni 2026" in body(sqlite_engine, "common/extended", HARM)
    view = service.fire(tid, "withdraw", SECRETARY, {"reason": "De gemeente trekt de vraag in"})
    assert (view["state"], view["final"]) == ("withdrawn", True)
    assert {d["name"]: d["status"] for d in view["deadlines"]} == {
        "advice_due": "cancelled", "signup_closes": "cancelled"}
    assert to(sqlite_engine, "common/withdrawn") == sorted([OFFICER, *PARTICIPEREN])


def test_while_the_college_term_runs_the_liaison_hears_of_an_extension(
        service: Service, clock: FrozenClock, sqlite_engine: Engine) -> None:
    tid = to_md_awaiting_response(service, clock)
    service.fire(tid, "extend", SECRETARY, {"deadline": "response_due", "extra": "2w",
                                            "reason": "Collegevakantie"})
    assert to(sqlite_engine, "common/extended") == sorted([OFFICER, *PARTICIPEREN, LIAISON, SECRETARY])
    assert deadline(service.show(tid), "response_due")["due"] == "2026-06-09"


def test_response_due_of_the_asked_advice_alerts_the_liaison(service: Service, clock: FrozenClock,
                                                             sqlite_engine: Engine) -> None:
    tid = to_md_awaiting_response(service, clock)
    sweep_on(service, clock, date(2026, 5, 27))
    assert to(sqlite_engine, "deadline_overdue", tid) == sorted([LIAISON, SECRETARY])


# --- the organisation's words and the form of address ---------------------------------------------

#: Mails to the municipality say "u"; mails to the council's own people say "je"; mails to
#: both say neither (brief: form of address).
TO_MUNICIPALITY = ("md_signal/officer_briefing", "md_signal/report_requested",
                   "md_signal/alderman_requested", "md_signal/alderman_requested_liaison",
                   "md_signal/announced", "md_signal/to_council", "md_asked_advice/receipt",
                   "md_asked_advice/assigned_adviser", "md_asked_advice/to_council")
TO_COUNCIL = ("md_signal/noted", "md_signal/meeting_planned", "md_signal/report_received",
              "md_signal/resolved", "md_signal/alderman_requested_group",
              "md_signal/alderman_outcome", "md_signal/unasked_advice_started",
              "md_signal/response_received", "md_asked_advice/incoming",
              "md_asked_advice/assigned", "md_asked_advice/platform_call",
              "md_asked_advice/platform_joined", "md_asked_advice/draft_for_plenary",
              "md_asked_advice/draft_returned", "md_asked_advice/response_received")
TO_BOTH = ("md_signal/advice_sent", "md_asked_advice/advice_sent")
JE = re.compile(r"\b(je|jij|jou|jouw|jullie)\b", re.I)
U = re.compile(r"\b(u|uw)\b", re.I)


def test_every_mail_speaks_the_organisations_words_and_the_right_form(
        service: Service, clock: FrozenClock, sqlite_engine: Engine) -> None:
    signal_id = to_signal_awaiting_response(service, clock)
    service.fire(signal_id, "record_response", LIAISON, {"received_on": "2026-04-21", "document": "R"})
    service.fire(signal_id, "forwarded", LIAISON)
    service.fire(to_assessing_report(service, clock), "accept_outcome", SECRETARY)
    asked_id = asked(service)
    service.fire(asked_id, "assign", SECRETARY, {"group": "Participeren"})
    service.fire(asked_id, "sign_up", ROOS)
    service.fire(asked_id, "close_signup", SECRETARY)
    service.fire(asked_id, "officer_briefing_held", SECRETARY)
    service.fire(asked_id, "submit_draft", SECRETARY, {"document": "Concept"})
    service.fire(asked_id, "return_draft", SECRETARY, {"reason": "Korter"})
    service.fire(asked_id, "submit_draft", SECRETARY, {"document": "Concept"})
    service.fire(asked_id, "adopt_advice", SECRETARY, {"adopted_on": "2026-04-21"})
    service.fire(asked_id, "send_advice", SECRETARY, {"document": "Advies"})
    service.fire(asked_id, "record_response", LIAISON, {"received_on": "2026-04-21", "document": "R"})
    service.fire(asked_id, "forwarded", LIAISON)
    mails = [m for m in outbox(sqlite_engine) if m.template.startswith("md_")]
    assert {m.template for m in mails} == {*TO_MUNICIPALITY, *TO_COUNCIL, *TO_BOTH}
    for row in mails:
        text = plain(row)
        for foreign in ("projectgroep", "deelnemer", "{{", "{%"):
            assert foreign not in text, (row.template, foreign)
        assert "Adviesraad Sociaal Domein Voorbeeldveld" in text, row.template
        if row.template in TO_MUNICIPALITY:
            assert not JE.search(text), (row.template, JE.search(text))
        elif row.template in TO_COUNCIL:
            assert not U.search(text), (row.template, U.search(text))
        else:
            assert not JE.search(text), row.template
            assert not U.search(text), row.template
    assert "themagroep" in body(sqlite_engine, "md_signal/noted", HARM)
    assert "ambtelijk secretaris" in body(sqlite_engine, "md_signal/report_requested", OFFICER)
    assert "alle leden" in body(sqlite_engine, "md_asked_advice/incoming", HARM)
