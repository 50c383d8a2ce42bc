"""Jinja filters that write dates the Dutch way."""

from __future__ import annotations

from datetime import date
from typing import Any

WEEKDAYS = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")
MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
          "september", "oktober", "november", "december")


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def long_date(value: Any) -> str:
    """'woensdag 6 mei 2026'."""
    day = _as_date(value)
    return f"{WEEKDAYS[day.weekday()]} {day.day} {MONTHS[day.month - 1]} {day.year}"


FILTERS = {"long_date": long_date}
