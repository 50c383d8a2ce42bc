"""Which reminder and alert steps a deadline has, and on which day each is due. Pure.

An organisation lists its steps as offsets from a deadline's end (DESIGN.md §4), default
`["-5wd", "0", "+1wd"]`: five working days before, on the day, and overdue (the first working
day after the end, then every week until the deadline is met). Each step has a stable id, the
one the sweep records: "before-5wd", "on-day", "overdue-1", "overdue-2", ... (of the overdue
alerts only the latest due one is listed: catching up never sends one per week missed). A flow may add
reminders of its own on a deadline (`Deadline.reminders`), such as the call reminder to members
who have not answered; their id is the reminder's name.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from engine.atw_calendar import AtwCalendar, default_calendar
from engine.dsl import Deadline, Reminder

StepKind = Literal["before", "on_day", "overdue", "reminder"]
Unit = Literal["wd", "d"]

DEFAULT_STEPS = ("-5wd", "0", "+1wd")
MAX_AMOUNT = 30
OVERDUE_EVERY = timedelta(days=7)
#: How far before its end a deadline can have a step (30 working days, with room for holidays).
LOOKAHEAD = timedelta(days=70)
#: The next step day of a deadline that has no step left (stored, so it is a real date).
NEVER = date(9999, 12, 31)

STEPS_HINT = 'gebruik bijvoorbeeld ["-5wd", "0", "+1wd"]: -5wd is 5 werkdagen ervoor, ' \
    '-3d 3 dagen ervoor, 0 de laatste dag, +1wd de eerste werkdag erna (daarna elke week).'
_OFFSET = re.compile(r"^([+-])(\d+)(wd|d)$")
_BEFORE = re.compile(r"^(\d+)(wd|d)$")


class StepsError(ValueError):
    """A list of reminder steps that cannot be used; the message is Dutch."""


@dataclass(frozen=True)
class Offset:
    """A step's distance from the end: -1 before, 0 on the day, +1 overdue (then weekly)."""

    sign: int
    amount: int = 0
    unit: Unit = "wd"

    @property
    def text(self) -> str:
        if self.sign == 0:
            return "0"
        return f"{'+' if self.sign > 0 else '-'}{self.amount}{self.unit}"


@dataclass(frozen=True)
class Step:
    """One step of one deadline, for one end date."""

    id: str
    kind: StepKind
    due_on: date
    number: int = 0  # the how-manieth overdue alert


def parse_steps(items: Sequence[object]) -> tuple[Offset, ...]:
    """Read an organisation's steps; raises StepsError (Dutch) on a bad list."""
    found = tuple(_offset(item) for item in items)
    texts = [o.text for o in found]
    for text in texts:
        if texts.count(text) > 1:
            raise StepsError(f"De stap '{text}' staat er twee keer in.")
    if sum(1 for o in found if o.sign > 0) > 1:
        raise StepsError("Er mag één stap na het einde zijn (zoals +1wd); die herhaalt zich elke week.")
    return found


def _offset(item: object) -> Offset:
    text = str(item).strip().lower() if isinstance(item, str | int) else ""
    if text == "0":
        return Offset(0)
    found = _OFFSET.match(text)
    if found is None:
        raise StepsError(f"Onbekende stap '{item}': {STEPS_HINT}")
    amount = int(found.group(2))
    if not 1 <= amount <= MAX_AMOUNT:
        raise StepsError(f"De stap '{item}' moet 1 tot en met {MAX_AMOUNT} dagen van het einde liggen.")
    unit: Unit = "wd" if found.group(3) == "wd" else "d"
    return Offset(1 if found.group(1) == "+" else -1, amount, unit)


def steps_of(setting: Sequence[str] | None) -> tuple[Offset, ...]:
    """The steps of an organisation: its own list, or the default when it has none."""
    return parse_steps(DEFAULT_STEPS if setting is None else setting)


def shift(day: date, amount: int, unit: Unit, calendar: AtwCalendar | None = None) -> date:
    """`amount` days or working days after `day` (before it when negative)."""
    if unit == "d":
        return day + timedelta(days=amount)
    cal = calendar or default_calendar()
    step = timedelta(days=1 if amount > 0 else -1)
    left = abs(amount)
    while left:
        day += step
        if cal.is_working_day(day):
            left -= 1
    return day


def parse_before(text: str) -> tuple[int, Unit]:
    """A reminder's `before`: "2wd" or "3d"."""
    found = _BEFORE.match(text.strip().lower())
    if found is None:
        raise StepsError(f"Onbekende herinnering '{text}': gebruik bijvoorbeeld 2wd of 3d.")
    return int(found.group(1)), ("wd" if found.group(2) == "wd" else "d")


@dataclass(frozen=True)
class Schedule:
    """What the sweep needs to know of one deadline to list its due steps."""

    due: date
    started_on: date
    expires: bool  # the flow fires an event when it runs out: no overdue alerts
    offsets: tuple[Offset, ...]
    reminders: tuple[Reminder, ...] = ()


def due_steps(schedule: Schedule, today: date) -> list[Step]:
    """The steps due on or before `today`, in due order.

    A step before the end that would fall before the deadline began is left out (a short term
    gets no "5 working days before", a trajectory entered with past dates no history); of the
    overdue alerts only the latest that is due counts.
    """
    found = [s for s in _all_steps(schedule, today) if s.due_on <= today]
    return sorted(found, key=lambda s: (s.due_on, _KIND_ORDER[s.kind], s.number))


_KIND_ORDER: dict[StepKind, int] = {"reminder": 0, "before": 1, "on_day": 2, "overdue": 3}


def _all_steps(schedule: Schedule, today: date) -> Iterator[Step]:
    yield from _fixed_steps(schedule)
    first = _first_overdue(schedule)
    if first is not None:
        yield from _overdue(first, today)


def _fixed_steps(schedule: Schedule) -> Iterator[Step]:
    """The steps that come once: before the end, on the day, and the flow's own reminders."""
    for offset in schedule.offsets:
        if offset.sign < 0:
            day = shift(schedule.due, -offset.amount, offset.unit)
            if day >= schedule.started_on:
                yield Step(f"before-{offset.amount}{offset.unit}", "before", day)
        elif offset.sign == 0 and schedule.due >= schedule.started_on:
            yield Step("on-day", "on_day", schedule.due)
    for reminder in schedule.reminders:
        amount, unit = parse_before(reminder.before)
        day = shift(schedule.due, -amount, unit)
        if day >= schedule.started_on:
            yield Step(reminder.name, "reminder", day)


def _first_overdue(schedule: Schedule) -> date | None:
    """The day of the first overdue alert; None when the deadline has none."""
    if schedule.expires:
        return None
    after = next((o for o in schedule.offsets if o.sign > 0), None)
    return shift(schedule.due, after.amount, after.unit) if after is not None else None


def next_step_on(schedule: Schedule, today: date) -> date:
    """The first day after `today` on which the deadline has a step; NEVER when it has none left.

    The sweep stores this day with the deadline, so that a pass reads only the deadlines whose
    day has come instead of recomputing every deadline's steps.
    """
    days = [step.due_on for step in _fixed_steps(schedule) if step.due_on > today]
    first = _first_overdue(schedule)
    if first is not None:
        weeks_past = (today - first).days // OVERDUE_EVERY.days + 1 if first <= today else 0
        days.append(first + OVERDUE_EVERY * weeks_past)
    return min(days, default=NEVER)


def _overdue(first: date, today: date) -> Iterator[Step]:
    """The latest overdue alert that is due, only: a sweep that catches up (a worker that was
    down, a trajectory entered with a date long past) sends one alert, not one for every week
    since, and it says how long the term has been over."""
    if first > today:
        return
    number = (today - first).days // OVERDUE_EVERY.days + 1
    yield Step(f"overdue-{number}", "overdue", first + OVERDUE_EVERY * (number - 1), number)


def kind_of(step_id: str) -> tuple[StepKind, int]:
    """The kind of a recorded step id, and its overdue number."""
    if step_id.startswith("before-"):
        return "before", 0
    if step_id == "on-day":
        return "on_day", 0
    if step_id.startswith("overdue-"):
        return "overdue", int(step_id.removeprefix("overdue-"))
    return "reminder", 0


def reminders_of(spec: Deadline | None) -> tuple[Reminder, ...]:
    """The extra reminders a flow declares on a deadline."""
    return spec.reminders if spec is not None else ()
