"""Terms (reactietermijnen) and their due dates, counted as Dutch law counts them.

Counting starts the day after the event (Awb 6:8). When the Algemene termijnenwet applies, an
end on a Saturday, Sunday or feestdag moves to the next working day (art. 1) and a term of three
days or more holds at least two working days (art. 2); art. 4 excludes long terms. Every due
date carries a one-line Dutch explanation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from dateutil.relativedelta import relativedelta

from engine.atw_calendar import AtwCalendar, default_calendar

TermKind = Literal["weeks", "days", "workdays", "months", "date"]

MAX_AMOUNT = 9999
ONE_DAY = timedelta(days=1)
#: How far ahead a date a person enters may lie: further is taken for a typing error.
FUTURE_YEARS = 5

WEEKDAYS = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")

TERM_HINT = (
    "gebruik bijvoorbeeld 6w (weken), 10d (dagen), 10wd (werkdagen), 2m (maanden) "
    "of een datum als 2026-06-15."
)
RECESS_HINT = "gebruik MM-DD:MM-DD, bijvoorbeeld 07-01:08-31 (1 juli t/m 31 augustus)."

_UNITS: dict[str, TermKind] = {"w": "weeks", "d": "days", "wd": "workdays", "m": "months"}
_NAMES: dict[str, tuple[str, str]] = {
    "weeks": ("week", "weken"),
    "days": ("dag", "dagen"),
    "workdays": ("werkdag", "werkdagen"),
    "months": ("maand", "maanden"),
}
# Atw art. 4: the law does not apply to terms longer than these.
_ATW_LIMITS: dict[str, int] = {"weeks": 12, "days": 90, "workdays": 90, "months": 3}

_TERM_PATTERN = re.compile(r"^(\d+)\s*(wd|w|d|m)$")
_DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_RECESS_PATTERN = re.compile(r"^(\d{2})-(\d{2}):(\d{2})-(\d{2})$")


class TermError(ValueError):
    """A term or recess that cannot be read or used; the message is Dutch."""


def format_date(d: date) -> str:
    """The Dutch way to write a date: 24-03-2026."""
    return f"{d.day:02d}-{d.month:02d}-{d.year:04d}"


def weekday_name(d: date) -> str:
    """The Dutch name of the weekday, in lower case: "maandag" ... "zondag"."""
    return WEEKDAYS[d.weekday()]


def latest_day(today: date) -> date:
    """The last day a person may enter or reach by extending a term: FUTURE_YEARS from today."""
    try:
        return today + relativedelta(years=FUTURE_YEARS)
    except ValueError:  # today is within FUTURE_YEARS of the year 9999
        return date.max


def add_days(day: date, days: int) -> date:
    """`days` days after `day`; TermError (Dutch) instead of a date past the calendar."""
    try:
        return day + timedelta(days=days)
    except OverflowError as exc:
        raise TermError(f"{days} dagen na {format_date(day)} valt buiten de kalender.") from exc


def _day_text(d: date) -> str:
    return f"{weekday_name(d)} {format_date(d)}"


def _count_text(amount: int, singular: str, plural: str) -> str:
    return f"{amount} {singular if amount == 1 else plural}"


@dataclass(frozen=True)
class Term:
    """A term: N weeks, days, working days or months after an event, or a fixed date."""

    kind: TermKind
    amount: int = 0
    fixed: date | None = None

    def __post_init__(self) -> None:
        if self.kind == "date":
            if self.fixed is None:
                raise TermError("Een termijn met een vaste datum heeft een datum nodig.")
            return
        if self.kind not in _NAMES:
            raise TermError(f"Onbekende soort termijn '{self.kind}'.")
        if self.fixed is not None:
            raise TermError(f"Een termijn in {_NAMES[self.kind][1]} heeft geen vaste datum.")
        if not 1 <= self.amount <= MAX_AMOUNT:
            raise TermError(
                f"Een termijn moet minstens 1 en hoogstens {MAX_AMOUNT} lang zijn, niet {self.amount}."
            )

    def label(self) -> str:
        """Dutch: "6 weken", "1 week", "10 werkdagen", "2 maanden" or "vaste datum"."""
        if self.kind == "date":
            return "vaste datum"
        singular, plural = _NAMES[self.kind]
        return _count_text(self.amount, singular, plural)

    def atw_excluded(self) -> bool:
        """Atw art. 4: more than 12 weeks, 90 days or 3 months is outside the law."""
        limit = _ATW_LIMITS.get(self.kind)
        return limit is not None and self.amount > limit


def parse_term(text: str) -> Term:
    """Read "6w", "3d", "10wd", "2m" or an ISO date such as "2026-06-15"."""
    cleaned = text.strip()
    if not cleaned:
        raise TermError(f"Geen termijn opgegeven: {TERM_HINT}")
    if _DATE_PATTERN.match(cleaned):
        return Term("date", fixed=_parse_iso(cleaned))
    found = _TERM_PATTERN.match(cleaned.lower())
    if found is None:
        raise TermError(f"Onbekende termijn '{cleaned}': {TERM_HINT}")
    amount = int(found.group(1))
    if amount < 1:
        raise TermError(f"Termijn '{cleaned}' is te kort: het aantal moet minstens 1 zijn.")
    if amount > MAX_AMOUNT:
        raise TermError(f"Termijn '{cleaned}' is te lang: hoogstens {MAX_AMOUNT} is toegestaan.")
    return Term(_UNITS[found.group(2)], amount)


def _parse_iso(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise TermError(f"Ongeldige datum '{text}': die dag bestaat niet.") from exc


@dataclass(frozen=True)
class Recess:
    """A yearly window, (month, day) to (month, day) inclusive, in which terms do not run.

    The window may wrap the year end, e.g. (12, 20) to (1, 5).
    """

    start: tuple[int, int]
    end: tuple[int, int]

    def __post_init__(self) -> None:
        for month, day in (self.start, self.end):
            _check_month_day(month, day, f"{month:02d}-{day:02d}")
        year = date(2001, 1, 1)  # not a leap year: 29 February must not be the only day left
        if all(self.contains(year + timedelta(days=n)) for n in range(365)):
            raise TermError(
                f"Het reces {self.label()} beslaat het hele jaar; dan loopt een termijn nooit af."
            )

    def contains(self, day: date) -> bool:
        point = (day.month, day.day)
        if self.start <= self.end:
            return self.start <= point <= self.end
        return point >= self.start or point <= self.end

    def label(self) -> str:
        """Dutch day-month notation: "01-07 t/m 31-08"."""
        (start_month, start_day), (end_month, end_day) = self.start, self.end
        return f"{start_day:02d}-{start_month:02d} t/m {end_day:02d}-{end_month:02d}"


def _check_month_day(month: int, day: int, shown: str) -> None:
    try:
        date(2000, month, day)  # a leap year, so 02-29 is allowed
    except ValueError as exc:
        raise TermError(f"Ongeldige dag '{shown}' in het reces: die dag bestaat niet.") from exc


def parse_recess(text: str) -> Recess:
    """Read a recess as given on the command line: "07-01:08-31" (MM-DD:MM-DD)."""
    cleaned = text.strip()
    found = _RECESS_PATTERN.match(cleaned)
    if found is None:
        raise TermError(f"Onbekend reces '{cleaned}': {RECESS_HINT}")
    start_month, start_day, end_month, end_day = (int(part) for part in found.groups())
    return Recess((start_month, start_day), (end_month, end_day))


@dataclass(frozen=True)
class DueDate:
    """A computed end date and how it was reached."""

    due: date
    explanation: str
    rolled_from: date | None
    suspended_days: int


def compute_due(
    start: date,
    term: Term,
    *,
    calendar: AtwCalendar | None = None,
    atw: bool = True,
    recess: Recess | None = None,
    base_label: str = "ontvangst",
) -> DueDate:
    """The last day of `term` counted from the day after `start`.

    Recess days do not count. With `atw`, Atw art. 1 and 2 move the end unless art. 4
    excludes the term; the roll itself looks only at weekends and feestdagen, not the recess.
    """
    if term.fixed is not None:  # only a "date" term has one
        return DueDate(term.fixed, f"vaste datum: {format_date(term.fixed)}", None, 0)
    cal = calendar if calendar is not None else default_calendar()
    try:
        return _compute(start, term, cal, atw, recess, base_label)
    except TermError:
        raise
    except (OverflowError, ValueError) as exc:  # date arithmetic past the year 9999
        raise TermError(
            f"De termijn van {term.label()} na {format_date(start)} valt buiten de kalender."
        ) from exc


def _compute(
    start: date,
    term: Term,
    cal: AtwCalendar,
    atw: bool,
    recess: Recess | None,
    base_label: str,
) -> DueDate:
    end = _unrolled_end(start, term, cal, recess)
    suspended = _recess_days(start, end, recess)
    head = f"{term.label()} na {base_label} op {format_date(start)}"
    if suspended and recess is not None:
        head += f", zonder {_count_text(suspended, 'dag', 'dagen')} reces ({recess.label()})"
    due, tail = _apply_atw(start, end, term, cal, atw)
    rolled_from = end if due != end else None
    return DueDate(due, f"{head} = {tail}", rolled_from, suspended)


def _unrolled_end(start: date, term: Term, cal: AtwCalendar, recess: Recess | None) -> date:
    if term.kind == "weeks":
        return _add_counted_days(start, 7 * term.amount, recess)
    if term.kind == "days":
        return _add_counted_days(start, term.amount, recess)
    if term.kind == "months":
        return _add_months(start, term.amount, recess)
    return _add_workdays(start, term.amount, cal, recess)


def _add_counted_days(start: date, count: int, recess: Recess | None) -> date:
    """The day on which `count` days outside the recess have passed after `start`."""
    if recess is None:
        return start + timedelta(days=count)
    day = start
    while count > 0:
        day += ONE_DAY
        if not recess.contains(day):
            count -= 1
    return day


def _add_months(start: date, months: int, recess: Recess | None) -> date:
    """Same day number `months` later (or the month's last day), then make up for the recess.

    When counting would start inside the recess it starts after it, so a month term received
    in the recess runs one month from the recess's last day.
    """
    base = start
    while recess is not None and recess.contains(base + ONE_DAY):
        base += ONE_DAY
    naive: date = base + relativedelta(months=months)
    return _add_counted_days(naive, _recess_days(base, naive, recess), recess)


def _add_workdays(start: date, count: int, cal: AtwCalendar, recess: Recess | None) -> date:
    """The `count`-th working day after `start`, skipping recess days too."""
    day = start
    while count > 0:
        day += ONE_DAY
        if cal.is_working_day(day) and not (recess is not None and recess.contains(day)):
            count -= 1
    return day


def _recess_days(start: date, end: date, recess: Recess | None) -> int:
    """How many days in (start, end] fall inside the recess."""
    if recess is None:
        return 0
    span = (end - start).days
    return sum(1 for n in range(1, span + 1) if recess.contains(start + timedelta(days=n)))


def _apply_atw(start: date, end: date, term: Term, cal: AtwCalendar, atw: bool) -> tuple[date, str]:
    """The end after Atw art. 1 and 2, with the text after "= " in the explanation."""
    if term.kind == "workdays":
        return end, _day_text(end)
    rolled, text = _atw_roll(start, end, term, cal)
    if rolled == end:
        return end, _day_text(end)
    if not atw:
        return end, f"{_day_text(end)} (Algemene termijnenwet niet toegepast)"
    if term.atw_excluded():
        limit = _count_text(_ATW_LIMITS[term.kind], *_NAMES[term.kind])
        return end, f"{_day_text(end)} (geen verschuiving: termijn langer dan {limit}, Atw art. 4)"
    return rolled, text


def _atw_roll(start: date, end: date, term: Term, cal: AtwCalendar) -> tuple[date, str]:
    """Art. 1 (weekend or feestdag moves on), then art. 2 (at least two working days)."""
    due, text = end, _day_text(end)
    if cal.is_free_day(end):
        due = _next_working_day(end, cal)
        text = f"{format_date(end)} ({cal.free_day_reason(end)}) → {_day_text(due)}"
    if term.kind != "days" or term.amount >= 3:
        extended = _at_least_two_working_days(start, due, cal)
        if extended != due:
            text += f", verlengd tot ten minste twee werkdagen → {_day_text(extended)}"
            due = extended
    return due, text


def _next_working_day(day: date, cal: AtwCalendar) -> date:
    """`day` itself when it is a working day, else the first working day after it."""
    while cal.is_free_day(day):
        day += ONE_DAY
    return day


def _at_least_two_working_days(start: date, end: date, cal: AtwCalendar) -> date:
    while _working_days_up_to_two(start, end, cal) < 2:
        end = _next_working_day(end + ONE_DAY, cal)
    return end


def _working_days_up_to_two(start: date, end: date, cal: AtwCalendar) -> int:
    """Working days in (start, end], counting no further than two."""
    found, day = 0, start
    while found < 2 and day < end:
        day += ONE_DAY
        found += cal.is_working_day(day)
    return found
