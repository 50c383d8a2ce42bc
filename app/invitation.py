"""An iCalendar invitation (RFC 5545, iTIP RFC 5546 `METHOD:REQUEST`) for a meeting.

One meeting is one event: the same UID and the same bytes for every recipient, each of them an
ATTENDEE, the sender the ORGANIZER. Planned again, the event keeps its UID and gets the next
SEQUENCE, so a calendar moves the appointment instead of adding a second one. A meeting without
a time is an all-day event; without a place it has no LOCATION.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from engine.clock import AMSTERDAM
from notifications.message import Attachment, Party

if TYPE_CHECKING:
    from icalendar import Event, vCalAddress

MEETING_LENGTH = timedelta(hours=2)
CONTENT_PARAMS = (("method", "REQUEST"), ("charset", "utf-8"))
FILENAME = "uitnodiging.ics"


@dataclass(frozen=True)
class Meeting:
    """What the invitation says: which meeting (uid, sequence), when and where."""

    uid: str
    sequence: int
    title: str
    day: date
    at: time | None = None
    place: str | None = None


def meeting_uid(trajectory_id: int, meeting: str, domain: str) -> str:
    """The one UID of a meeting of a trajectory, whoever receives it and however often planned."""
    return f"traject-{trajectory_id}-{meeting}@{domain}"


def parse_time(value: str | None) -> time | None:
    """'19:30' (as the input check writes it), or None for a meeting without a time."""
    if not value:
        return None
    hour, _, minute = value.partition(":")
    return time(int(hour), int(minute or 0))


def ics(meeting: Meeting, *, organizer: Party, attendees: Sequence[Party],
        stamp: datetime) -> Attachment:
    """The calendar file, with the VTIMEZONE of Europe/Amsterdam when the meeting has a time."""
    from icalendar import Calendar  # only when there is a meeting: a worker starts without it

    calendar = Calendar()
    calendar.add("prodid", "-//Adviestraject//Uitnodiging//NL")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "REQUEST")
    calendar.add_component(_event(meeting, organizer, attendees, stamp))
    calendar.add_missing_timezones(first_date=date(max(meeting.day.year - 1, 1), 1, 1),
                                   last_date=date(min(meeting.day.year + 1, 9999), 12, 31))
    return Attachment(calendar.to_ical(), "text", "calendar", FILENAME, CONTENT_PARAMS)


def _event(meeting: Meeting, organizer: Party, attendees: Sequence[Party],
           stamp: datetime) -> Event:
    from icalendar import Event

    event = Event()
    event.add("uid", meeting.uid)
    event.add("sequence", meeting.sequence)
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("summary", meeting.title)
    _add_when(event, meeting)
    if meeting.place:
        event.add("location", meeting.place)
    event.add("status", "CONFIRMED")
    event.add("organizer", _address(organizer, {"ROLE": "CHAIR"}))
    for person in attendees:
        event.add("attendee", _address(person, {
            "CUTYPE": "INDIVIDUAL", "ROLE": "REQ-PARTICIPANT", "PARTSTAT": "NEEDS-ACTION",
            "RSVP": "FALSE"}))
    return event


def _add_when(event: Event, meeting: Meeting) -> None:
    if meeting.at is None:
        event.add("dtstart", meeting.day)
        event.add("dtend", meeting.day + timedelta(days=1))
        event.add("transp", "TRANSPARENT")
        return
    start = datetime.combine(meeting.day, meeting.at, AMSTERDAM)
    event.add("dtstart", start)
    event.add("dtend", start + MEETING_LENGTH)
    event.add("transp", "OPAQUE")


def _address(party: Party, params: dict[str, str]) -> vCalAddress:
    from icalendar import vCalAddress

    address = vCalAddress(f"mailto:{party.email}")
    if party.name:
        address.params["CN"] = party.name
    for key, value in params.items():
        address.params[key] = value
    return address
