"""The trajectory page, driven as a person does it: the page, its forms, the refusals beside
the field, the history, the deadlines, the mail and sending a personal link again."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from app import trajectory_page
from app.service import Service
from engine.clock import FrozenClock
from engine.errors import NotFound
from storage.tables import HistoryEntry, OutboxMessage
from tests.helpers import ADVISER, LIAISON, SECRETARIAT, member, outbox, plain, start, to_matching
from tests.web.conftest import TestClient, sign_in

MD_SECRETARY = "secretaris@voorbeeldveld.example.org"


def history(engine: Engine, tid: int) -> list[HistoryEntry]:
    with Session(engine) as session:
        return list(session.exec(select(HistoryEntry).where(HistoryEntry.trajectory_id == tid)
                                 .order_by(col(HistoryEntry.id))).all())


def main(page: str) -> str:
    found = re.search(r"<main.*</main>", page, re.S)
    assert found is not None
    return found.group(0)


def calling(service: Service) -> int:
    tid = int(start(service)["id"])
    service.fire(tid, "call_participants", SECRETARIAT)
    return tid


def field_error(page: str, form_id: str) -> str:
    """The error message shown beside a field, after checking the field points to it."""
    found = re.search(rf'<(?:input|select|textarea)[^>]*id="{form_id}"[^>]*>', page)
    assert found is not None, f"geen veld {form_id}"
    assert 'aria-invalid="true"' in found.group(0)
    assert f'aria-describedby="{form_id}-fout"' in found.group(0) \
        or f'{form_id}-fout"' in found.group(0)
    message = re.search(rf'<p class="utrecht-form-field-error-message" id="{form_id}-fout">([^<]*)</p>',
                        page)
    assert message is not None, f"geen foutmelding naast {form_id}"
    return message.group(1)


# --- what the page shows ----------------------------------------------------------------------


def test_the_secretariat_sees_state_diagram_events_history_deadlines_and_mail(
        web: TestClient, sqlite_engine: Engine, service: Service) -> None:
    tid = calling(service)
    sign_in(web, sqlite_engine, SECRETARIAT)
    page = web.get(f"/trajecten/{tid}")
    assert page.status_code == 200
    text = page.text
    assert "<h1 class=\"utrecht-heading-1\">Regiovisie beschermd wonen</h1>" in text
    assert "Oproep aan de deelnemers" in text
    assert "Gevraagd advies" in text
    # the diagram, inline, with the current step marked and named
    assert '<figure class="site-diagram">' in text
    assert "<figcaption" in text
    assert re.search(r'<svg [^>]*role="img" aria-label="[^"]*De huidige stap is: Oproep aan de '
                     r'deelnemers\.', text)
    assert "(nu) calling" in text
    assert "style=" not in text  # the page's CSP allows no style attributes
    # the events the secretariat may fire now, each a form with its button
    assert ">Aanmelding sluiten</button>" in text
    assert ">Termijn verlengen</button>" in text
    assert ">Aanmelden</button>" not in text  # the secretariat is not called
    # history: who by name, when in Amsterdam time, what
    assert "24-03-2026 09:30" in text
    assert "Sanne Bakker" in text
    assert "Deelnemers oproepen" in text
    # deadlines with their end, status and explanation
    assert "Aanmeldtermijn" in text
    assert "Adviestermijn" in text
    assert "woensdag 6 mei 2026" in text
    assert "loopt" in text
    # the mail: recipient, subject, status; never the body
    assert "Fatima El Amrani (beleid@example.org)" in text
    assert "in de wachtrij" in text
    assert "antwoord/" not in text
    assert "Stuur de persoonlijke link opnieuw" in text


def test_the_mail_says_sent_and_failed_in_words(web: TestClient, sqlite_engine: Engine,
                                                service: Service) -> None:
    tid = int(start(service)["id"])
    with Session(sqlite_engine) as session:
        row = session.exec(select(OutboxMessage).where(OutboxMessage.trajectory_id == tid)).one()
        row.status, row.sent_at = "sent", datetime(2026, 3, 24, 8, 45, tzinfo=UTC)
        session.add(row)
        session.commit()
    service.fire(tid, "decline", SECRETARIAT, {"reason": "Geen tijd."})
    with Session(sqlite_engine) as session:
        last = session.exec(select(OutboxMessage).where(OutboxMessage.trajectory_id == tid)
                            .order_by(col(OutboxMessage.id).desc())).first()
        assert last is not None
        row = last
        row.status, row.last_error = "failed", "550 mailbox unavailable\nmeer details"
        session.add(row)
        session.commit()
    sign_in(web, sqlite_engine, SECRETARIAT)
    text = web.get(f"/trajecten/{tid}").text
    assert "verstuurd op 24-03-2026 09:45" in text  # UTC 08:45 is 09:45 in Amsterdam (CET)
    assert "mislukt: 550 mailbox unavailable" in text
    assert "meer details" not in text


def test_deadlines_say_overdue_suspended_and_extended_in_words(
        web: TestClient, sqlite_engine: Engine, service: Service, clock: FrozenClock) -> None:
    tid = int(start(service)["id"])
    service.fire(tid, "extend", SECRETARIAT, {"deadline": "advice_due", "extra": "1w",
                                              "reason": "Vakantie"})
    clock.advance(timedelta(weeks=8))
    sign_in(web, sqlite_engine, SECRETARIAT)
    text = web.get(f"/trajecten/{tid}").text
    assert "Verlopen</span> (verlengd)" in text
    assert "Verlengd op" in text  # the explanation, line by line
    service.fire(tid, "suspend", SECRETARIAT)
    text = web.get(f"/trajecten/{tid}").text
    assert "opgeschort (verlengd)" in text
    assert "Ja, sinds" in text
    assert ">Hervatten</button>" in text
    assert ">Opschorten</button>" not in text


def test_linked_trajectories_are_links(web: TestClient, sqlite_engine: Engine,
                                       service: Service) -> None:
    tid = int(service.start("unasked_advice", "demo", "Wachtlijsten", SECRETARIAT, {})["id"])
    service.fire(tid, "contact_official", SECRETARIAT, {"official": ADVISER})
    service.fire(tid, "collaboration_agreed", SECRETARIAT)
    linked = service.show(tid)["links"][0]["id"]
    sign_in(web, sqlite_engine, SECRETARIAT)
    assert f'href="/trajecten/{linked}"' in web.get(f"/trajecten/{tid}").text
    assert f'href="/trajecten/{tid}"' in web.get(f"/trajecten/{linked}").text


# --- firing through the forms ---------------------------------------------------------------


def test_the_secretariat_fires_an_event_through_its_form(web: TestClient, sqlite_engine: Engine,
                                                         service: Service) -> None:
    tid = int(start(service)["id"])
    csrf = sign_in(web, sqlite_engine, SECRETARIAT)
    done = web.post(f"/trajecten/{tid}/stap/call_participants",
                    data={"csrf": csrf, "notitie": "Via de website."})
    assert done.status_code == 303
    assert done.headers["location"] == f"/trajecten/{tid}?gedaan=call_participants"
    page = web.get(done.headers["location"]).text
    assert re.search(r'utrecht-alert--ok" role="status">\s*<p[^>]*>Gelukt: deelnemers oproepen',
                     page)
    view = service.show(tid)
    assert view["state"] == "calling"
    last = view["history"][-1]
    assert (last["event"], last["actor"], last["note"]) == ("call_participants", SECRETARIAT,
                                                            "Via de website.")
    assert "Sanne Bakker" in page
    assert "Via de website." in page


def test_a_person_field_is_a_choice_of_the_organisations_people(
        web: TestClient, sqlite_engine: Engine, service: Service, clock: FrozenClock) -> None:
    tid = to_matching(service, clock)
    service.fire(tid, "first_meeting_held", SECRETARIAT)
    csrf = sign_in(web, sqlite_engine, SECRETARIAT)
    page = web.get(f"/trajecten/{tid}").text
    select_ = re.search(r'<select[^>]*name="contact_person".*?</select>', page, re.S)
    assert select_ is not None
    assert '<optgroup label="In de projectgroep">' in select_.group(0)
    assert '<option value="bram@example.org">Bram Jansen (bram@example.org)</option>' in select_.group(0)
    done = web.post(f"/trajecten/{tid}/stap/choose_contact",
                    data={"csrf": csrf, "contact_person": member("bram")})
    assert done.status_code == 303
    assert service.show(tid)["data"]["contact_person"] == member("bram")


def test_a_date_field_is_a_date_input_and_a_bad_date_is_shown_beside_it(
        web: TestClient, sqlite_engine: Engine, service: Service, clock: FrozenClock) -> None:
    tid = to_matching(service, clock)
    csrf = sign_in(web, sqlite_engine, SECRETARIAT)
    page = web.get(f"/trajecten/{tid}").text
    assert re.search(r'<input [^>]*type="date" id="plan_meeting-meeting_on"', page)
    assert re.search(r'<input [^>]*type="time" id="plan_meeting-meeting_time"', page)
    before = len(history(sqlite_engine, tid))
    refused = web.post(f"/trajecten/{tid}/stap/plan_meeting",
                       data={"csrf": csrf, "meeting_on": "31-02-2026", "meeting_place": "Stadhuis",
                             "notitie": "eerste poging"})
    assert refused.status_code == 400
    assert "geen datum" in field_error(refused.text, "plan_meeting-meeting_on")
    assert 'role="alert"' in refused.text
    assert 'href="#plan_meeting-meeting_on"' in refused.text
    assert 'value="Stadhuis"' in refused.text
    assert "eerste poging</textarea>" in refused.text
    assert len(history(sqlite_engine, tid)) == before
    assert "meeting_on" not in service.show(tid)["data"]


@pytest.mark.parametrize(("event", "data", "field", "says"), [
    ("plan_meeting", {"meeting_on": ""}, "meeting_on",
     "Datum eerste bijeenkomst ontbreekt: vul een datum in."),
    ("plan_meeting", {"meeting_on": "2026-04-02", "meeting_time": "25:99"}, "meeting_time",
     "geen tijd"),
    ("plan_meeting", {"meeting_on": "2040-04-02"}, "meeting_on", "jaar na vandaag"),
    ("plan_meeting", {"meeting_on": "2026-04-02", "meeting_place": "Stad\x07huis"},
     "meeting_place", "stuurteken"),
    ("replace_member", {"member": "niemand@example.org"}, "member", "staat niet in het bestand"),
    ("replace_member", {"member": "geen adres"}, "member", "geen geldig e-mailadres"),
    ("extend", {"deadline": "advice_due", "extra": "3x", "reason": "r"}, "extra",
     "Onbekende termijn"),
    ("extend", {"deadline": "advice_due", "until": "2026-13-01", "reason": "r"}, "until",
     "geen datum"),
    ("extend", {"deadline": "", "extra": "1w", "reason": "r"}, "deadline", "Termijn ontbreekt: kies er een."),
    ("withdraw", {"reason": ""}, "reason", "Reden ontbreekt: vul dit in."),
])
def test_bad_values_are_refused_beside_their_field(
        web: TestClient, sqlite_engine: Engine, service: Service, clock: FrozenClock,
        event: str, data: dict[str, str], field: str, says: str) -> None:
    tid = to_matching(service, clock)
    csrf = sign_in(web, sqlite_engine, SECRETARIAT)
    before = (service.show(tid), len(history(sqlite_engine, tid)), len(outbox(sqlite_engine, tid)))
    refused = web.post(f"/trajecten/{tid}/stap/{event}", data={"csrf": csrf, **data})
    assert refused.status_code == 400
    assert says in field_error(refused.text, f"{event}-{field}")
    assert (service.show(tid), len(history(sqlite_engine, tid)),
            len(outbox(sqlite_engine, tid))) == before


def test_a_note_too_long_is_refused_beside_the_note(web: TestClient, sqlite_engine: Engine,
                                                    service: Service) -> None:
    tid = int(start(service)["id"])
    csrf = sign_in(web, sqlite_engine, SECRETARIAT)
    refused = web.post(f"/trajecten/{tid}/stap/call_participants",
                       data={"csrf": csrf, "notitie": "x" * 2001})
    assert refused.status_code == 400
    assert "notitie" in field_error(refused.text, "call_participants-notitie").lower()
    assert service.show(tid)["state"] == "requested"


def test_a_refusal_about_no_one_field_stands_above_the_form(
        web: TestClient, sqlite_engine: Engine, service: Service, clock: FrozenClock) -> None:
    tid = to_matching(service, clock)
    service.fire(tid, "first_meeting_held", SECRETARIAT)
    csrf = sign_in(web, sqlite_engine, SECRETARIAT)
    refused = web.post(f"/trajecten/{tid}/stap/choose_contact",
                       data={"csrf": csrf, "contact_person": member("hamid")})
    assert refused.status_code == 403
    assert "moet in de projectgroep zitten" in refused.text
    assert re.search(r'role="alert">.*moet in de projectgroep zitten', refused.text, re.S)
    assert 'id="choose_contact-fout"' in refused.text
    assert service.show(tid)["state"] == "choosing_contact"


def test_someone_else_first_shows_the_page_again_with_the_message(
        web: TestClient, sqlite_engine: Engine, service: Service,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.errors import Conflict

    tid = int(start(service)["id"])
    csrf = sign_in(web, sqlite_engine, SECRETARIAT)

    def first(*_: Any, **__: Any) -> None:
        raise Conflict("Iemand anders heeft dit traject net gewijzigd.")

    monkeypatch.setattr(service, "fire", first)
    again = web.post(f"/trajecten/{tid}/stap/call_participants", data={"csrf": csrf})
    assert again.status_code == 409
    assert "Iemand anders heeft dit traject net gewijzigd." in again.text
    assert ">Deelnemers oproepen</button>" in again.text


# --- refusals: nothing changes ----------------------------------------------------------------


def test_a_member_cannot_fire_a_secretariat_event(web: TestClient, sqlite_engine: Engine,
                                                  service: Service) -> None:
    tid = calling(service)
    csrf = sign_in(web, sqlite_engine, member("bram"))
    page = web.get(f"/trajecten/{tid}")
    assert page.status_code == 200  # he may sign up: he takes part
    assert ">Aanmelden</button>" in page.text
    assert "Aanmelding sluiten" not in page.text
    assert "Termijn verlengen" not in page.text
    before = (service.show(tid), len(history(sqlite_engine, tid)), len(outbox(sqlite_engine, tid)))
    for event in ("close_signup", "withdraw", "suspend"):
        refused = web.post(f"/trajecten/{tid}/stap/{event}", data={"csrf": csrf, "reason": "x"})
        assert refused.status_code == 403, event
    assert (service.show(tid), len(history(sqlite_engine, tid)),
            len(outbox(sqlite_engine, tid))) == before


def test_a_member_signs_up_through_the_page_and_sees_only_his_own_mail(
        web: TestClient, sqlite_engine: Engine, service: Service) -> None:
    tid = calling(service)
    csrf = sign_in(web, sqlite_engine, member("bram"))
    page = web.get(f"/trajecten/{tid}").text
    assert "bram@example.org" in page
    assert "beleid@example.org)" not in page
    assert "Stuur de persoonlijke link opnieuw" not in page
    assert web.post(f"/trajecten/{tid}/stap/sign_up", data={"csrf": csrf}).status_code == 303
    assert member("bram") in service.show(tid)["data"]["signups"]
    assert history(sqlite_engine, tid)[-1].actor == member("bram")


def test_a_post_without_its_csrf_token_changes_nothing(web: TestClient, sqlite_engine: Engine,
                                                       service: Service) -> None:
    tid = int(start(service)["id"])
    sign_in(web, sqlite_engine, SECRETARIAT)
    before = (service.show(tid), len(history(sqlite_engine, tid)), len(outbox(sqlite_engine, tid)))
    for data in ({}, {"csrf": "vervalst"}):
        refused = web.post(f"/trajecten/{tid}/stap/call_participants", data=data)
        assert refused.status_code == 403
        assert "Er is niets veranderd" in refused.text
    cross = web.post(f"/trajecten/{tid}/stap/call_participants",
                     data={"csrf": "x"}, headers={"sec-fetch-site": "cross-site"})
    assert cross.status_code == 403
    assert (service.show(tid), len(history(sqlite_engine, tid)),
            len(outbox(sqlite_engine, tid))) == before


def test_another_organisations_trajectory_does_not_exist(web: TestClient, sqlite_engine: Engine,
                                                         service: Service) -> None:
    tid = int(start(service)["id"])
    csrf = sign_in(web, sqlite_engine, MD_SECRETARY)
    theirs = web.get(f"/trajecten/{tid}")
    assert theirs.status_code == 404
    for other in ("999999", "abc", "0", "-1", "99999999999999999999999", "١"):
        missing = web.get(f"/trajecten/{other}")
        assert missing.status_code == 404, other
        assert main(missing.text) == main(theirs.text)
    assert "Regiovisie" not in theirs.text
    refused = web.post(f"/trajecten/{tid}/stap/call_participants", data={"csrf": csrf})
    assert refused.status_code == 404
    assert web.post(f"/trajecten/{tid}/link-opnieuw",
                    data={"csrf": csrf, "lid": member("bram")}).status_code == 404
    assert service.show(tid)["state"] == "requested"


def test_a_member_who_takes_no_part_is_refused(web: TestClient, sqlite_engine: Engine,
                                               service: Service) -> None:
    tid = int(start(service)["id"])  # not called yet: members have nothing to do with it
    sign_in(web, sqlite_engine, member("bram"))
    assert web.get(f"/trajecten/{tid}").status_code == 403


def test_the_policy_adviser_named_in_it_sees_it_and_the_liaison_sees_every_one(
        web: TestClient, sqlite_engine: Engine, service: Service) -> None:
    tid = int(start(service)["id"])
    sign_in(web, sqlite_engine, ADVISER)
    page = web.get(f"/trajecten/{tid}")
    assert page.status_code == 200
    assert "Er is nu niets dat jij in dit traject kunt doen." in page.text
    web.cookies.clear()
    sign_in(web, sqlite_engine, LIAISON)
    assert web.get(f"/trajecten/{tid}").status_code == 200


def test_an_unknown_event_is_not_found(web: TestClient, sqlite_engine: Engine,
                                       service: Service) -> None:
    tid = int(start(service)["id"])
    csrf = sign_in(web, sqlite_engine, SECRETARIAT)
    assert web.post(f"/trajecten/{tid}/stap/toveren", data={"csrf": csrf}).status_code == 404
    # an event of the flow that cannot happen in this state
    assert web.post(f"/trajecten/{tid}/stap/close", data={"csrf": csrf}).status_code == 403


# --- the other kinds of field ---------------------------------------------------------------


def test_a_group_is_a_choice_and_people_are_checkboxes(web: TestClient, sqlite_engine: Engine,
                                                       service: Service) -> None:
    tid = int(service.start("md_asked_advice", "demo-md", "Beleidskader Wmo", MD_SECRETARY,
                            {"policy_adviser": "beleid@voorbeeldveld.example.org",
                             "document_type": "beleidskader"})["id"])
    csrf = sign_in(web, sqlite_engine, MD_SECRETARY)
    page = web.get(f"/trajecten/{tid}").text
    group = re.search(r'<select[^>]*name="group".*?</select>', page, re.S)
    assert group is not None
    assert '<option value="Participeren">' in group.group(0)
    assert '<option value="werkgroep">' in group.group(0)
    assert re.search(r'<fieldset[^>]*id="assign-members"', page)
    assert 'type="checkbox" id="assign-members-1" name="members"' in page
    done = web.post(f"/trajecten/{tid}/stap/assign",
                    data={"csrf": csrf, "group": "werkgroep",
                          "members": ["aaltje@voorbeeldveld.example.org",
                                      "kees@voorbeeldveld.example.org"]})
    assert done.status_code == 303, done.text
    assert service.show(tid)["data"]["group"] == ["aaltje@voorbeeldveld.example.org",
                                                  "kees@voorbeeldveld.example.org"]


def test_a_person_with_a_role_is_chosen_among_that_role_and_a_choice_among_its_options(
        web: TestClient, sqlite_engine: Engine, service: Service) -> None:
    tid = int(service.start("md_signal", "demo-md", "Vervoer", MD_SECRETARY,
                            {"theme_group": "Participeren", "domain": "Wmo",
                             "summary": "Taxi te laat.", "individual_case": "nee"})["id"])
    csrf = sign_in(web, sqlite_engine, MD_SECRETARY)
    page = web.get(f"/trajecten/{tid}").text
    officer = re.search(r'<select[^>]*name="officer".*?</select>', page, re.S)
    assert officer is not None
    assert "beleid@voorbeeldveld.example.org" in officer.group(0)
    assert "aaltje@voorbeeldveld.example.org" not in officer.group(0)
    refused = web.post(f"/trajecten/{tid}/stap/share_with_officer",
                       data={"csrf": csrf, "officer": "aaltje@voorbeeldveld.example.org",
                             "meeting_on": "2026-04-01"})
    assert refused.status_code == 400
    assert "niet de rol" in field_error(refused.text, "share_with_officer-officer")


# --- sending a personal link again ------------------------------------------------------------


def test_the_secretariat_sends_a_members_link_again(web: TestClient, sqlite_engine: Engine,
                                                    service: Service) -> None:
    tid = calling(service)
    csrf = sign_in(web, sqlite_engine, SECRETARIAT)
    before = outbox(sqlite_engine, tid)
    done = web.post(f"/trajecten/{tid}/link-opnieuw", data={"csrf": csrf, "lid": member("cor")})
    assert done.status_code == 303
    assert done.headers["location"] == f"/trajecten/{tid}?gedaan=link_resent"
    new = outbox(sqlite_engine, tid)[len(before):]
    assert [(m.recipient, m.template) for m in new] == [(member("cor"), "asked_advice/call")]
    link = re.search(r"http://testserver(/antwoord/\S+)", plain(new[0]))
    assert link is not None
    answer = web.get(link.group(1))
    assert answer.status_code == 200
    assert "Cor Mulder" in answer.text
    page = web.get(done.headers["location"]).text
    assert "Gelukt: persoonlijke link opnieuw gestuurd." in page
    assert "Persoonlijke link opnieuw gestuurd aan Cor Mulder" in page
    last = history(sqlite_engine, tid)[-1]
    assert (last.event, last.actor, last.payload) == ("link_resent", SECRETARIAT,
                                                      {"member": member("cor")})


def test_a_link_is_not_sent_again_to_someone_not_called_or_when_the_call_is_closed(
        web: TestClient, sqlite_engine: Engine, service: Service, clock: FrozenClock) -> None:
    closed = to_matching(service, clock)
    tid = calling(service)
    csrf = sign_in(web, sqlite_engine, SECRETARIAT)
    before = len(outbox(sqlite_engine, tid))
    not_called = web.post(f"/trajecten/{tid}/link-opnieuw", data={"csrf": csrf, "lid": ADVISER})
    assert not_called.status_code == 400
    assert "heeft deze oproep niet gekregen" in not_called.text
    assert web.post(f"/trajecten/{tid}/link-opnieuw",
                    data={"csrf": csrf, "lid": "geen adres"}).status_code == 400
    assert web.post(f"/trajecten/{tid}/link-opnieuw",
                    data={"lid": member("cor")}).status_code == 403  # no CSRF token
    refused = web.post(f"/trajecten/{closed}/link-opnieuw", data={"csrf": csrf, "lid": member("cor")})
    assert refused.status_code == 403
    assert "niet open" in refused.text
    assert "Stuur de persoonlijke link opnieuw" not in web.get(f"/trajecten/{closed}").text
    service.fire(tid, "suspend", SECRETARIAT)
    after_suspend = len(outbox(sqlite_engine, tid))
    assert web.post(f"/trajecten/{tid}/link-opnieuw",
                    data={"csrf": csrf, "lid": member("cor")}).status_code == 403
    assert len(outbox(sqlite_engine, tid)) == after_suspend
    assert not [h for h in history(sqlite_engine, tid) if h.event == "link_resent"]
    assert before <= after_suspend


def test_only_the_secretariat_sends_a_link_again(web: TestClient, sqlite_engine: Engine,
                                                 service: Service) -> None:
    tid = calling(service)
    before = len(outbox(sqlite_engine, tid))
    for who in (LIAISON, member("bram")):
        web.cookies.clear()
        csrf = sign_in(web, sqlite_engine, who)
        assert web.post(f"/trajecten/{tid}/link-opnieuw",
                        data={"csrf": csrf, "lid": member("cor")}).status_code == 403
    assert len(outbox(sqlite_engine, tid)) == before


# --- the page's own parts -------------------------------------------------------------------


def test_a_trajectory_number_is_only_digits_in_range() -> None:
    assert trajectory_page.trajectory_id("12") == 12
    for bad in ("", "1.0", "+1", " 1", "0", str(2**63), "²"):
        with pytest.raises(NotFound):
            trajectory_page.trajectory_id(bad)


def test_the_diagram_marks_one_current_state_by_border_and_words() -> None:
    from xml.etree import ElementTree

    from engine import render
    from flows import all_flows

    compiled = all_flows()["md_signal"]
    plain_svg = render.svg(compiled)
    assert "role=" not in plain_svg
    assert "(nu)" not in plain_svg
    marked = ElementTree.fromstring(render.svg(compiled, "awaiting_report"))
    assert marked.get("role") == "img"
    assert marked.get("aria-label") == ("Stroomschema Signaal. De huidige stap is: Wachten op het "
                                        "verslag van de gemeente.")
    svg_ns = "{http://www.w3.org/2000/svg}"
    thick = [r for r in marked.iter(f"{svg_ns}rect") if r.get("stroke-width") == "5"]
    assert len(thick) == 1
    assert sum("(nu)" in (t.text or "") for t in marked.iter(f"{svg_ns}text")) == 1
    assert not [e for e in marked.iter() if "style" in e.attrib]
    with pytest.raises(KeyError):
        render.svg(compiled, "nergens")
