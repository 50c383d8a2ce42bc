"""The Atw holiday calendar against the table in notes/dutch-terms.md §1.7 (real `holidays`)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from engine.atw_calendar import (
    DECREE_DAY_NAME,
    AtwCalendar,
    default_calendar,
    load_decree_days,
    parse_decree_days,
)

# dutch-terms.md §1.7: every Atw day (art. 3 lid 1 and 2, plus the KB days) for 2024-2030.
ATW_DAYS = {
    2024: ["01-01", "03-29", "04-01", "04-27", "05-05", "05-09", "05-20", "12-25", "12-26",
           "05-10", "12-27"],
    2025: ["01-01", "04-18", "04-21", "04-26", "05-05", "05-29", "06-09", "12-25", "12-26",
           "05-30"],
    2026: ["01-01", "04-03", "04-06", "04-27", "05-05", "05-14", "05-25", "12-25", "12-26",
           "01-02", "05-15"],
    2027: ["01-01", "03-26", "03-29", "04-27", "05-05", "05-06", "05-17", "12-25", "12-26",
           "05-07"],
    2028: ["01-01", "04-14", "04-17", "04-27", "05-05", "05-25", "06-05", "12-25", "12-26",
           "04-28", "05-26"],
    2029: ["01-01", "03-30", "04-02", "04-27", "05-05", "05-10", "05-21", "12-25", "12-26"],
    2030: ["01-01", "04-19", "04-22", "04-27", "05-05", "05-30", "06-10", "12-25", "12-26"],
}  # fmt: skip

# The 2026 row of §1.7 with the names the calendar gives.
NAMES_2026 = {
    date(2026, 1, 1): "Nieuwjaarsdag",  # do
    date(2026, 1, 2): DECREE_DAY_NAME,  # vr, KB
    date(2026, 4, 3): "Goede Vrijdag",  # vr, art. 3 lid 2
    date(2026, 4, 6): "Tweede paasdag",  # ma
    date(2026, 4, 27): "Koningsdag",  # ma
    date(2026, 5, 5): "Bevrijdingsdag",  # di, not a lustrum year: still an Atw day
    date(2026, 5, 14): "Hemelvaartsdag",  # do
    date(2026, 5, 15): DECREE_DAY_NAME,  # vr, KB
    date(2026, 5, 25): "Tweede pinksterdag",  # ma
    date(2026, 12, 25): "Eerste kerstdag",  # vr
    date(2026, 12, 26): "Tweede kerstdag",  # za
}

PACKAGED = [
    date(2023, 4, 28),
    date(2023, 5, 19),
    date(2024, 5, 10),
    date(2024, 12, 27),
    date(2025, 5, 30),
    date(2026, 1, 2),
    date(2026, 5, 15),
    date(2027, 5, 7),
    date(2028, 4, 28),
    date(2028, 5, 26),
]


def days_of(year: int) -> list[date]:
    first = date(year, 1, 1)
    return [first + timedelta(days=n) for n in range((date(year + 1, 1, 1) - first).days)]


@pytest.mark.parametrize("year", sorted(ATW_DAYS))
def test_the_calendar_holds_exactly_the_atw_days_of_the_table(year: int) -> None:
    calendar = default_calendar()
    found = {day for day in days_of(year) if calendar.holiday_name(day) is not None}
    expected = {date.fromisoformat(f"{year}-{month_day}") for month_day in ATW_DAYS[year]}
    assert found == expected


def test_the_2026_days_have_their_dutch_names() -> None:
    calendar = default_calendar()
    named = {day: calendar.holiday_name(day) for day in days_of(2026)}
    assert {day: name for day, name in named.items() if name} == NAMES_2026


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 4, 5),  # Eerste paasdag (Easter Sunday)
        date(2026, 5, 24),  # Eerste pinksterdag (Whit Sunday)
        date(2025, 4, 20),  # Easter Sunday 2025
        date(2025, 6, 8),  # Whit Sunday 2025
        date(2026, 5, 4),  # Dodenherdenking; also the Monday before Bevrijdingsdag, no KB day
        date(2026, 12, 24),  # Kerstavond
        date(2026, 12, 31),  # Oudejaarsdag
        date(2025, 4, 27),  # 27 April 2025 is a Sunday: Koningsdag is on the 26th
        date(2027, 4, 26),  # Monday before Koningsdag (Tuesday): not in the 2026-2028 KB
    ],
)
def test_days_that_are_no_atw_feestdag_have_no_name(day: date) -> None:
    assert default_calendar().holiday_name(day) is None


def test_easter_and_whit_sunday_are_free_only_as_sundays() -> None:
    calendar = default_calendar()
    assert calendar.free_day_reason(date(2026, 4, 5)) == "zondag"
    assert calendar.free_day_reason(date(2026, 5, 24)) == "zondag"


def test_kings_day_moves_to_saturday_when_27_april_is_a_sunday() -> None:
    calendar = default_calendar()
    assert calendar.holiday_name(date(2025, 4, 26)) == "Koningsdag"  # za
    assert calendar.holiday_name(date(2025, 4, 27)) is None  # zo, a plain Sunday
    assert calendar.is_working_day(date(2025, 4, 28))  # ma: no "observed" Monday


def test_5_may_counts_every_year_not_only_in_lustrum_years() -> None:
    calendar = default_calendar()
    for year in range(2024, 2032):
        assert calendar.holiday_name(date(year, 5, 5)) == "Bevrijdingsdag"


def test_two_feestdagen_on_one_day_keep_both_names() -> None:
    # 2016: Easter on 27 March, so Hemelvaartsdag fell on 5 May.
    assert default_calendar().holiday_name(date(2016, 5, 5)) == "Bevrijdingsdag; Hemelvaartsdag"


@pytest.mark.parametrize(
    ("day", "reason"),
    [
        (date(2026, 3, 14), "zaterdag"),
        (date(2026, 3, 15), "zondag"),
        (date(2026, 12, 26), "Tweede kerstdag"),  # a Saturday: the feestdag's name wins
        (date(2026, 5, 15), DECREE_DAY_NAME),
        (date(2026, 3, 16), None),  # an ordinary Monday
    ],
)
def test_free_day_reason(day: date, reason: str | None) -> None:
    calendar = default_calendar()
    assert calendar.free_day_reason(day) == reason
    assert calendar.is_free_day(day) is (reason is not None)
    assert calendar.is_working_day(day) is (reason is None)


def test_the_packaged_decree_days_are_the_fridays_of_both_decrees() -> None:
    days = load_decree_days()
    assert sorted(days) == PACKAGED
    assert all(day.weekday() == 4 for day in days)  # all Fridays
    assert set(days.values()) == {DECREE_DAY_NAME}


def test_default_calendar_is_built_once() -> None:
    assert default_calendar() is default_calendar()


def test_a_calendar_without_decree_days_treats_them_as_working_days() -> None:
    calendar = AtwCalendar(decree_days={})
    assert calendar.is_working_day(date(2026, 1, 2))
    assert calendar.holiday_name(date(2026, 1, 1)) == "Nieuwjaarsdag"


def test_given_decree_days_replace_the_packaged_ones() -> None:
    calendar = AtwCalendar(decree_days={date(2029, 5, 11): "brugdag"})
    assert calendar.holiday_name(date(2029, 5, 11)) == "brugdag"
    assert calendar.holiday_name(date(2026, 5, 15)) is None


def test_an_extra_file_adds_a_day(tmp_path: Path) -> None:
    extra = tmp_path / "extra.toml"
    extra.write_text(
        "# Voorspeld, nog niet gepubliceerd\n"
        "[[day]]\n"
        "date = 2029-05-11\n"
        'source = "Besluit gelijkstelling (proef)"\n'
        "\n"
        "[[day]]\n"
        "date = 2030-05-31\n"
        'source = "Besluit gelijkstelling (proef)"\n'
        'name = "vrijdag na Hemelvaart (KB)"\n',
        encoding="utf-8",
    )
    days = load_decree_days(extra)
    assert len(days) == len(PACKAGED) + 2
    calendar = AtwCalendar(days)
    assert calendar.holiday_name(date(2029, 5, 11)) == DECREE_DAY_NAME
    assert calendar.holiday_name(date(2030, 5, 31)) == "vrijdag na Hemelvaart (KB)"
    assert calendar.holiday_name(date(2026, 5, 15)) == DECREE_DAY_NAME  # packaged days stay


def test_an_empty_file_has_no_days() -> None:
    assert parse_decree_days("# nog geen dagen\n", "leeg.toml") == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # line 3 is not TOML
        ("[[day]]\ndate = 2029-05-11\nsource = Besluit\n", r"x\.toml, regel 3: .*geen geldige TOML"),
        # the date is a string, on line 2
        ('[[day]]\ndate = "11 mei 2029"\nsource = "B"\n', r"regel 2: 'date' moet een datum"),
        # a date with a time, on line 2
        ('[[day]]\ndate = 2029-05-11T00:00:00\nsource = "B"\n', r"regel 2: 'date'"),
        # the second block (line 5) has no source
        (
            '[[day]]\ndate = 2029-05-11\nsource = "B"\n\n[[day]]\ndate = 2030-05-31\n',
            r"regel 5: 'source' moet een tekst zijn",
        ),
        # an unknown key on line 4
        ('[[day]]\ndate = 2029-05-11\nsource = "B"\nnaam = "x"\n', r"regel 4: onbekende sleutel 'naam'"),
        # the same date twice; the second one is on line 5
        (
            '[[day]]\ndate = 2029-05-11\nsource = "B"\n[[day]]\ndate = 2029-05-11\nsource = "B"\n',
            r"regel 5: de datum 2029-05-11 staat er al eerder in",
        ),
        # a table with the wrong name on line 2
        ("# dagen\n[[dag]]\ndate = 2029-05-11\n", r"regel 2: onbekende sleutel 'dag'"),
        # an empty name on line 4
        ('[[day]]\ndate = 2029-05-11\nsource = "B"\nname = ""\n', r"regel 4: 'name' moet een tekst"),
    ],
)
def test_a_malformed_file_names_the_line(tmp_path: Path, text: str, message: str) -> None:
    bad = tmp_path / "x.toml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        load_decree_days(bad)


def test_a_missing_extra_file_is_a_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="kan het bestand met gelijkgestelde dagen niet lezen"):
        load_decree_days(tmp_path / "bestaat-niet.toml")
