"""The holiday calendar of the Algemene termijnenwet (Atw art. 3), not a public-holiday calendar.

The `holidays` package gives the Dutch days with categories "public" and "optional" (the
latter adds 5 May in every year, as the Atw counts it). From that list we remove Easter Sunday
and Whit Sunday, which are no Atw days, and we add the days a Royal Decree equates with a
feestdag (art. 3 lid 3). Those decree days are data: `engine/data/decree_days.toml`, plus an
optional file an administrator keeps.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from dateutil.easter import easter

from engine.errors import InvalidInput

DECREE_DAY_NAME = "gelijkgestelde dag (KB)"
DATA_FILE = "decree_days.toml"

WEEKEND_NAMES = {5: "zaterdag", 6: "zondag"}

# `holidays` spells a few names differently from the Atw and our messages.
_NAME_FIXES = {"Goede vrijdag": "Goede Vrijdag"}

_ENTRY_KEYS = frozenset({"date", "source", "name"})


class AtwCalendar:
    """Free days under the Atw: Saturdays, Sundays, the art. 3 feestdagen and the decree days."""

    def __init__(self, decree_days: Mapping[date, str] | None = None) -> None:
        chosen = load_decree_days() if decree_days is None else decree_days
        self._decree_days: dict[date, str] = dict(chosen)
        self._years: dict[int, dict[date, str]] = {}

    def holiday_name(self, day: date) -> str | None:
        """The Dutch name of the Atw feestdag on `day`, or None (also on a plain weekend)."""
        return self._year(day.year).get(day)

    def is_free_day(self, day: date) -> bool:
        """Saturday, Sunday or an Atw feestdag (the year is checked first, weekend or not)."""
        return self.holiday_name(day) is not None or day.weekday() in WEEKEND_NAMES

    def is_working_day(self, day: date) -> bool:
        return not self.is_free_day(day)

    def free_day_reason(self, day: date) -> str | None:
        """Why `day` is free: the feestdag's name first, else "zaterdag" or "zondag"."""
        return self.holiday_name(day) or WEEKEND_NAMES.get(day.weekday())

    def _year(self, year: int) -> dict[date, str]:
        found = self._years.get(year)
        if found is None:
            check_known_year(year)
            found = statutory_days(year)
            for day, name in self._decree_days.items():
                if day.year == year:
                    found.setdefault(day, name)
            self._years[year] = found
        return found


def known_years() -> tuple[int, int]:
    """The first and last year whose feestdagen the `holidays` package knows for the Netherlands
    (outside them it returns none at all, which would silently count Christmas as a working day)."""
    from holidays.countries.netherlands import Netherlands  # imported when a term is counted

    return int(Netherlands.start_year), int(Netherlands.end_year)


def check_known_year(year: int) -> None:
    """Refuse a day in a year without known feestdagen (a TermError with a Dutch message)."""
    first, last = known_years()
    if not first <= year <= last:
        from engine.terms import TermError  # engine.terms builds on this module

        raise TermError(f"De feestdagen van {year} zijn niet bekend: termijnen kunnen alleen "
                        f"berekend worden voor dagen van {first} tot en met {last}.")


def statutory_days(year: int) -> dict[date, str]:
    """The feestdagen of Atw art. 3 lid 1 and 2 in `year`, with Dutch names."""
    import holidays  # every country's module: only when a term is counted, not at start-up

    found = holidays.country_holidays("NL", years=year, categories=("public", "optional"), language="nl")
    easter_sunday = easter(year)
    not_atw = {easter_sunday, easter_sunday + timedelta(days=49)}  # Easter and Whit Sunday
    return {day: _dutch_name(str(name)) for day, name in found.items() if day not in not_atw}


def _dutch_name(raw: str) -> str:
    """Normalise a name; two feestdagen on one day come joined by "; "."""
    return "; ".join(_NAME_FIXES.get(part, part) for part in raw.split("; "))


@lru_cache(maxsize=1)
def default_calendar() -> AtwCalendar:
    """The calendar with the packaged decree days, built once.

    An administrator may add decree days in a file named by ADVIES_HOLIDAYS_FILE (same format
    as the packaged one); it is read once, when the calendar is first needed.
    """
    extra = os.environ.get("ADVIES_HOLIDAYS_FILE")
    try:
        return AtwCalendar(load_decree_days(Path(extra)) if extra else None)
    except ValueError as error:
        raise InvalidInput(f"ADVIES_HOLIDAYS_FILE: {error}") from error


def load_decree_days(extra_file: Path | None = None) -> dict[date, str]:
    """The packaged decree days, plus those in `extra_file` (same format) when given.

    A day in the extra file replaces a packaged day on the same date. A malformed file raises
    ValueError with a Dutch message that names the file and the line.
    """
    days = parse_decree_days(_packaged_text(), DATA_FILE)
    if extra_file is not None:
        days.update(parse_decree_days(_read(extra_file), str(extra_file)))
    return days


def _packaged_text() -> str:
    try:
        resource = files("engine").joinpath("data").joinpath(DATA_FILE)
    except (NotADirectoryError, TypeError):
        # An editable install made while engine/ had no __init__.py imports "engine" as a
        # namespace package, which importlib.resources (3.11) cannot open; the data file is
        # then next to this module on disk.
        return (Path(__file__).parent / "data" / DATA_FILE).read_text(encoding="utf-8")
    return resource.read_text(encoding="utf-8")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: kan het bestand met gelijkgestelde dagen niet lezen.") from exc


def parse_decree_days(text: str, origin: str) -> dict[date, str]:
    """Read decree days from TOML text; `origin` names the file in error messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = _decode_error_line(str(exc), text)
        raise ValueError(f"{origin}, regel {line}: dit is geen geldige TOML.") from exc
    except RecursionError as exc:
        raise ValueError(f"{origin}: te diep genest om te lezen; gebruik alleen blokken [[day]].") from exc
    lines = text.splitlines()
    for key in data:
        if key != "day":
            raise ValueError(
                f"{origin}, regel {_key_line(lines, key, 0, len(lines))}: onbekende sleutel "
                f"'{key}'; gebruik alleen blokken [[day]]."
            )
    return _entries(data.get("day", []), lines, origin)


def _entries(entries: Any, lines: list[str], origin: str) -> dict[date, str]:
    if not isinstance(entries, list):
        line = _key_line(lines, "day", 0, len(lines))
        raise ValueError(f"{origin}, regel {line}: 'day' moet een lijst van blokken [[day]] zijn.")
    blocks = _block_starts(lines)
    days: dict[date, str] = {}
    for index, entry in enumerate(entries):
        first = blocks[index] if index < len(blocks) else 0
        last = blocks[index + 1] if index + 1 < len(blocks) else len(lines)
        where = _Where(origin, lines, first, last)
        day, name = _entry(entry, where)
        if day in days:
            raise where.error("date", f"de datum {day.isoformat()} staat er al eerder in.")
        days[day] = name
    return days


class _Where:
    """A [[day]] block's place in its file, to name the line of an error."""

    def __init__(self, origin: str, lines: list[str], first: int, last: int) -> None:
        self.origin, self.lines, self.first, self.last = origin, lines, first, last

    def error(self, key: str | None, message: str) -> ValueError:
        line = self.first + 1
        if key is not None:
            line = _key_line(self.lines, key, self.first, self.last)
        return ValueError(f"{self.origin}, regel {line}: {message}")


def _entry(entry: Any, where: _Where) -> tuple[date, str]:
    if not isinstance(entry, dict):
        raise where.error(None, "elke dag moet een blok [[day]] zijn.")
    for key in entry:
        if key not in _ENTRY_KEYS:
            raise where.error(key, f"onbekende sleutel '{key}'; gebruik date, source en name.")
    day = entry.get("date")
    if not isinstance(day, date) or isinstance(day, datetime):
        raise where.error("date", "'date' moet een datum zijn zoals 2026-01-02 (zonder tijd).")
    _require_text(entry, "source", where, required=True)
    _require_text(entry, "name", where, required=False)
    return day, str(entry.get("name") or DECREE_DAY_NAME)


def _require_text(entry: dict[str, Any], key: str, where: _Where, *, required: bool) -> None:
    value = entry.get(key)
    if value is None and not required:
        return
    if not isinstance(value, str) or not value.strip():
        raise where.error(key if key in entry else None, f"'{key}' moet een tekst zijn.")


def _block_starts(lines: list[str]) -> list[int]:
    """Indexes of the `[[day]]` header lines."""
    header = re.compile(r"^\s*\[\[\s*day\s*\]\]")
    return [number for number, line in enumerate(lines) if header.match(line)]


def _key_line(lines: list[str], key: str, first: int, last: int) -> int:
    """The 1-based number of the line in [first, last) that sets or opens `key`."""
    pattern = re.compile(rf"^\s*(\[+\s*)?[\"']?{re.escape(key)}[\"']?\s*(=|\])")
    for number in range(first, min(last, len(lines))):
        if pattern.match(lines[number]):
            return number + 1
    return first + 1


def _decode_error_line(message: str, text: str) -> int:
    """tomllib (3.11) puts the place in the message: "(at line 3, column 8)"."""
    found = re.search(r"at line (\d+)", message)
    if found:
        return int(found.group(1))
    return max(1, len(text.splitlines()))
