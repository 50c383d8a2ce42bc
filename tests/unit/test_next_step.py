"""The next step day a deadline stores (engine.reminders.next_step_on): on no day between today
and that day does the deadline get a step, and on that day it does. Pure."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from engine.reminders import NEVER, Schedule, due_steps, next_step_on, steps_of
from flows.asked_advice import FLOW

CALL_SPEC = next(d for d in FLOW.deadlines if d.name == "signup_closes")


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


SCHEDULES = {
    "default steps, over Easter": Schedule(date(2026, 4, 7), date(2026, 3, 1), False, steps_of(None)),
    "own steps in calendar days": Schedule(date(2026, 6, 30), date(2026, 5, 1), False,
                                           steps_of(["-10d", "-3wd", "0", "+2d"])),
    "an expiring call with its reminder": Schedule(date(2026, 4, 7), date(2026, 3, 24), True,
                                                   steps_of(None), CALL_SPEC.reminders),
    "no steps at all": Schedule(date(2026, 4, 7), date(2026, 3, 24), True, steps_of([])),
}


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_nothing_happens_before_the_next_step_day_and_something_on_it(name: str) -> None:
    schedule = SCHEDULES[name]
    for today in days(schedule.started_on, schedule.due + timedelta(days=40)):
        nothing_yet = due_steps(schedule, today)
        following = next_step_on(schedule, today)
        assert following > today
        last_quiet = min(following, today + timedelta(days=60)) - timedelta(days=1)
        for between in days(today + timedelta(days=1), last_quiet):
            assert due_steps(schedule, between) == nothing_yet, (name, today, between)
        if following != NEVER:
            assert due_steps(schedule, following) != nothing_yet, (name, today, following)


def test_the_days_themselves() -> None:
    weekly = SCHEDULES["default steps, over Easter"]
    assert next_step_on(weekly, date(2026, 3, 2)) == date(2026, 3, 27)  # 5 working days before
    assert next_step_on(weekly, date(2026, 3, 27)) == date(2026, 4, 7)  # the last day
    assert next_step_on(weekly, date(2026, 4, 7)) == date(2026, 4, 8)  # the first overdue alert
    assert next_step_on(weekly, date(2026, 4, 9)) == date(2026, 4, 15)  # then every week
    expiring = SCHEDULES["an expiring call with its reminder"]
    assert next_step_on(expiring, date(2026, 3, 24)) == date(2026, 3, 27)  # -5wd (Good Friday later)
    assert next_step_on(expiring, date(2026, 4, 7)) == NEVER  # the expiry event, no alerts
