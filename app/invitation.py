"""An iCalendar (RFC 5545) invitation for a meeting, built with the `icalendar` package."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from icalendar import Calendar, Event, vCalAddress

from engine.clock import AMSTERDAM
from notifications.message import Attachment, Party

MEETING_LENGTH = timedelta(hours=2)


def _start(day: str, at: str | None) -> date | datetime:
    if not at:
        return date.fromisoformat(day)
    hour, _, minute = at.partition(":")
    return datetime.combine(date.fromisoformat(day), time(int(hour), int(minute or 0)), AMSTERDAM)


def ics(*, uid: str, title: str, day: str, at: str | None, place: str | None,
        organizer: Party, stamp: datetime) -> Attachment:
    event = Event()
    event.add("uid", uid)
    event.add("summary", title)
    event.add("dtstamp", stamp)
    start = _start(day, at)
    event.add("dtstart", start)
    if isinstance(start, datetime):
        event.add("dtend", start + MEETING_LENGTH)
    if place:
        event.add("location", place)
    event.add("organizer", vCalAddress(f"mailto:{organizer.email}"))
    calendar = Calendar()
    calendar.add("prodid", "-//Adviestraject//NL")
    calendar.add("version", "2.0")
    calendar.add("method", "REQUEST")
    calendar.add_component(event)
    return Attachment(calendar.to_ical(), "text", "calendar", "uitnodiging.ics")
