"""Jinja filters that write dates the Dutch way."""

from __future__ import annotations

from datetime import date
from typing import Any

from markupsafe import Markup, escape

WEEKDAYS = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")
MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
          "september", "oktober", "november", "december")


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def long_date(value: Any) -> str:
    """'woensdag 6 mei 2026'."""
    day = _as_date(value)
    return f"{WEEKDAYS[day.weekday()]} {day.day} {MONTHS[day.month - 1]} {day.year}"


def lines(value: Any) -> Markup:
    """A document in HTML with its line breaks kept: escaped, each line break a <br>."""
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    return Markup("<br>\n").join(escape(line) for line in text.split("\n"))


def count(number: int, one: str, many: str) -> str:
    """'1 deelnemer', '3 deelnemers'."""
    return f"{number} {one if number == 1 else many}"


FILTERS = {"long_date": long_date, "lines": lines}
GLOBALS = {"count": count}
