"""`plan_meeting` mails a correct iCalendar invitation (RFC 5545 / iTIP REQUEST).

Driven through the real service: the event is fired, the outbox message is read back as a mail
reader would, and the calendar part is read by two independent parsers (`icalendar` and
`vobject`). Planned again, the meeting keeps its UID and its SEQUENCE goes up.
"""

from __future__ import annotations

import email
import email.policy
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import icalendar
import vobject
from sqlalchemy import Engine

from app.service import Service
from engine.clock import AMSTERDAM, FrozenClock
from tests.helpers import ADVISER, MEMBERS, SECRETARIAT, member, outbox, to_matching

TEMPLATE = "asked_advice/meeting_invitation"
SENDER = "adviesgroep@example.org"  # conftest: ADVIES_MAIL_FROM="Adviesgroep Test <adviesgroep@…>"


def invitations(engine: Engine) -> dict[str, EmailMessage]:
    """The newest invitation per recipient, parsed as a mail reader does."""
    found: dict[str, EmailMessage] = {}
    for row in outbox(engine):
        if row.template == TEMPLATE:
            parsed = email.message_from_bytes(row.raw, policy=email.policy.default)
            assert isinstance(parsed, EmailMessage)
            found[row.recipient] = parsed
    return found


def calendar_part(message: EmailMessage) -> EmailMessage:
    parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1
    part = parts[0]
    assert isinstance(part, EmailMessage)
    return part


def ics_text(message: EmailMessage) -> str:
    data = calendar_part(message).get_payload(decode=True)
    assert isinstance(data, bytes)
    return data.decode("utf-8")


def by_icalendar(text: str) -> tuple[icalendar.Calendar, icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(text)
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 1
    return calendar, events[0]


def by_vobject(text: str) -> Any:
    calendar = vobject.readOne(text)
    assert len(calendar.vevent_list) == 1
    return calendar


def expected_attendees() -> set[str]:
    return {f"mailto:{ADVISER}", *(f"mailto:{member(n)}" for n in MEMBERS[:6])}


def test_the_invitation_is_one_event_for_everyone_with_timezone_organizer_and_attendees(
        service: Service, clock: FrozenClock, sqlite_engine: Engine) -> None:
    tid = to_matching(service, clock)
    service.fire(tid, "plan_meeting", SECRETARIAT,
                 {"meeting_on": "2026-04-14", "meeting_time": "19:30", "meeting_place": "Stadhuis"})
    mails = invitations(sqlite_engine)
    assert set(mails) == {ADVISER, *(member(n) for n in MEMBERS[:6])}

    part = calendar_part(mails[ADVISER])
    assert part.get_content_type() == "text/calendar"
    assert part.get_param("method") == "REQUEST"
    assert part.get_content_charset() == "utf-8"

    texts = {recipient: ics_text(message) for recipient, message in mails.items()}
    uids = {str(by_icalendar(t)[1]["UID"]) for t in texts.values()}
    assert len(uids) == 1, "every recipient gets the same event"
    assert len(set(texts.values())) == 1, "the very same calendar file for everyone"

    calendar, event = by_icalendar(texts[ADVISER])
    assert str(calendar["METHOD"]) == "REQUEST"
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Amsterdam"]
    assert calendar.get_missing_tzids() == set()
    assert event.decoded("DTSTART") == datetime(2026, 4, 14, 19, 30, tzinfo=AMSTERDAM)
    assert event["DTSTART"].params["TZID"] == "Europe/Amsterdam"
    assert event.decoded("DTEND") == datetime(2026, 4, 14, 21, 30, tzinfo=AMSTERDAM)
    assert str(event["LOCATION"]) == "Stadhuis"
    assert int(event["SEQUENCE"]) == 0
    assert str(event["ORGANIZER"]) == f"mailto:{SENDER}"
    assert event["ORGANIZER"].params["CN"] == "Adviesgroep Test"
    attendees = event["ATTENDEE"]
    assert {str(a) for a in attendees} == expected_attendees()
    names = {str(a): a.params["CN"] for a in attendees}
    assert names[f"mailto:{member('anna')}"] == "Anna de Vries"

    second = by_vobject(texts[member("bram")])
    vevent = second.vevent
    assert second.method.value == "REQUEST"
    assert second.vtimezone.tzid.value == "Europe/Amsterdam"
    assert vevent.uid.value == str(event["UID"])
    assert vevent.dtstart.value == datetime(2026, 4, 14, 19, 30, tzinfo=AMSTERDAM)
    assert vevent.dtstart.value.utcoffset() == timedelta(hours=2)  # summer time, from the VTIMEZONE
    assert vevent.location.value == "Stadhuis"
    assert vevent.organizer.value == f"mailto:{SENDER}"
    assert {a.value for a in vevent.attendee_list} == expected_attendees()
    assert int(vevent.sequence.value) == 0


def test_planned_again_the_meeting_is_updated_not_added(
        service: Service, clock: FrozenClock, sqlite_engine: Engine) -> None:
    tid = to_matching(service, clock)
    service.fire(tid, "plan_meeting", SECRETARIAT,
                 {"meeting_on": "2026-04-14", "meeting_time": "19:30", "meeting_place": "Stadhuis"})
    first = by_icalendar(ics_text(invitations(sqlite_engine)[member("anna")]))[1]

    view = service.fire(tid, "plan_meeting", SECRETARIAT,
                        {"meeting_on": "2026-04-16", "meeting_time": "14:00", "meeting_place": "Wijkhuis"})
    assert view["data"]["meeting_sequence"] == 1
    texts = {r: ics_text(m) for r, m in invitations(sqlite_engine).items()}
    assert len(set(texts.values())) == 1
    second = by_icalendar(texts[member("anna")])[1]
    assert str(second["UID"]) == str(first["UID"])
    assert int(second["SEQUENCE"]) == 1
    assert second.decoded("DTSTART") == datetime(2026, 4, 16, 14, 0, tzinfo=AMSTERDAM)
    assert str(second["LOCATION"]) == "Wijkhuis"
    other = by_vobject(texts[ADVISER]).vevent
    assert other.uid.value == str(first["UID"])
    assert int(other.sequence.value) == 1

    service.fire(tid, "plan_meeting", SECRETARIAT, {"meeting_on": "2026-04-17"})
    third = by_icalendar(ics_text(invitations(sqlite_engine)[ADVISER]))[1]
    assert str(third["UID"]) == str(first["UID"])
    assert int(third["SEQUENCE"]) == 2


def test_a_meeting_without_time_or_place_is_an_all_day_event(
        service: Service, clock: FrozenClock, sqlite_engine: Engine) -> None:
    tid = to_matching(service, clock)
    service.fire(tid, "plan_meeting", SECRETARIAT,
                 {"meeting_on": "2026-04-14", "meeting_time": "19:30", "meeting_place": "Stadhuis"})
    view = service.fire(tid, "plan_meeting", SECRETARIAT, {"meeting_on": "2026-04-15"})
    assert view["data"]["meeting_time"] is None  # the new plan has no time: the old one is gone
    assert view["data"]["meeting_place"] is None

    message = invitations(sqlite_engine)[member("cor")]
    text = ics_text(message)
    calendar, event = by_icalendar(text)
    assert event.decoded("DTSTART") == date(2026, 4, 15)
    assert event.decoded("DTEND") == date(2026, 4, 16)
    assert "LOCATION" not in event
    assert calendar.get_missing_tzids() == set()
    parsed = by_vobject(text).vevent
    assert parsed.dtstart.value == date(2026, 4, 15)
    assert not hasattr(parsed, "location")
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    assert "woensdag 15 april 2026." in body.get_content()
    assert "Plaats" not in body.get_content()


def test_a_first_plan_without_time_or_place_is_mailed(
        service: Service, clock: FrozenClock, sqlite_engine: Engine) -> None:
    tid = to_matching(service, clock)
    service.fire(tid, "plan_meeting", SECRETARIAT, {"meeting_on": "2026-04-14"})
    assert len(invitations(sqlite_engine)) == 7
    event = by_icalendar(ics_text(invitations(sqlite_engine)[ADVISER]))[1]
    assert event.decoded("DTSTART") == date(2026, 4, 14)
    assert int(event["SEQUENCE"]) == 0
