"""The calendar file itself: names and places with the characters iCalendar escapes or quotes,
read back by both parsers."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import icalendar
import vobject

from app.invitation import Meeting, ics
from notifications.message import Party

ODD_NAME = 'Dewi "D" Çelik, jr.: x;y'
ODD_PLACE = "Zaal 1, Stadhuis; ingang: achter"


def test_odd_names_and_places_survive_both_parsers() -> None:
    meeting = Meeting("traject-3-eerste-bijeenkomst@example.org", 4, "Zorg, welzijn; samen",
                      date(2026, 10, 25), time(2, 30), ODD_PLACE)
    attachment = ics(meeting, organizer=Party("Adviesgroep; Test", "ag@example.org"),
                     attendees=[Party(ODD_NAME, "dewi@example.org")],
                     stamp=datetime(2026, 10, 1, 8, 0, tzinfo=UTC))
    assert (attachment.maintype, attachment.subtype) == ("text", "calendar")
    assert dict(attachment.params) == {"method": "REQUEST", "charset": "utf-8"}
    text = attachment.data.decode("utf-8")
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))  # folded lines

    event = icalendar.Calendar.from_ical(text).walk("VEVENT")[0]
    assert event["ATTENDEE"].params["CN"] == ODD_NAME
    assert str(event["LOCATION"]) == ODD_PLACE
    assert str(event["SUMMARY"]) == "Zorg, welzijn; samen"
    assert int(event["SEQUENCE"]) == 4
    assert event.decoded("DTSTART").utcoffset().total_seconds() == 7200  # the night DST ends

    other = vobject.readOne(text).vevent
    assert other.location.value == ODD_PLACE
    assert other.attendee.value == "mailto:dewi@example.org"
    assert other.dtstart.value.utcoffset().total_seconds() == 7200
