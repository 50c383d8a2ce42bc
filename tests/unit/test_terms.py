"""Terms and due dates (Awb 6:8, Algemene termijnenwet), with the real Atw calendar.

Every expected date below is worked out by hand in the comment beside it: "+42" is the number
of days counted from the day after the start.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from engine.atw_calendar import AtwCalendar
from engine.terms import (
    DueDate,
    Recess,
    Term,
    TermError,
    compute_due,
    format_date,
    parse_recess,
    parse_term,
    weekday_name,
)

SUMMER = Recess((7, 1), (8, 31))


def due(
    start: date,
    term: str,
    *,
    atw: bool = True,
    recess: Recess | None = None,
    calendar: AtwCalendar | None = None,
    base_label: str = "ontvangst",
) -> DueDate:
    return compute_due(
        start, parse_term(term), calendar=calendar, atw=atw, recess=recess, base_label=base_label
    )


# --- parsing -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("6w", Term("weeks", 6)),
        (" 3d ", Term("days", 3)),
        ("10wd", Term("workdays", 10)),
        ("2m", Term("months", 2)),
        ("6W", Term("weeks", 6)),
        ("2026-06-15", Term("date", fixed=date(2026, 6, 15))),
    ],
)
def test_parse_term(text: str, term: Term) -> None:
    assert parse_term(text) == term


def test_an_unknown_term_explains_the_format() -> None:
    with pytest.raises(TermError) as caught:
        parse_term("6x")
    assert str(caught.value) == (
        "Onbekende termijn '6x': gebruik bijvoorbeeld 6w (weken), 10d (dagen), 10wd (werkdagen), "
        "2m (maanden) of een datum als 2026-06-15."
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Geen termijn opgegeven"),
        ("   ", "Geen termijn opgegeven"),
        ("0w", "te kort: het aantal moet minstens 1 zijn"),
        ("-3d", "Onbekende termijn '-3d'"),
        ("w6", "Onbekende termijn 'w6'"),
        ("6 weken", "Onbekende termijn '6 weken'"),
        ("1.5w", "Onbekende termijn"),
        ("2026-02-30", "Ongeldige datum '2026-02-30'"),
        ("15-06-2026", "Onbekende termijn '15-06-2026'"),
        ("100000d", "te lang"),
    ],
)
def test_bad_terms_are_refused_in_dutch(text: str, message: str) -> None:
    with pytest.raises(TermError, match=message):
        parse_term(text)


def test_a_term_error_is_a_value_error() -> None:
    assert issubclass(TermError, ValueError)


@pytest.mark.parametrize(
    "build",
    [
        lambda: Term("weeks", 0),
        lambda: Term("date"),
        lambda: Term("weeks", 6, fixed=date(2026, 6, 15)),
    ],
)
def test_an_impossible_term_cannot_be_made(build: Callable[[], Term]) -> None:
    with pytest.raises(TermError):
        build()


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("6w", "6 weken"),
        ("1w", "1 week"),
        ("3d", "3 dagen"),
        ("1d", "1 dag"),
        ("10wd", "10 werkdagen"),
        ("1wd", "1 werkdag"),
        ("2m", "2 maanden"),
        ("1m", "1 maand"),
        ("2026-06-15", "vaste datum"),
    ],
)
def test_term_labels(text: str, label: str) -> None:
    assert parse_term(text).label() == label


@pytest.mark.parametrize(
    ("text", "excluded"),
    [
        ("12w", False),  # "meer dan twaalf weken" is excluded, twelve is not
        ("13w", True),
        ("90d", False),
        ("91d", True),
        ("3m", False),
        ("4m", True),
        ("90wd", False),
        ("91wd", True),
        ("2026-06-15", False),
    ],
)
def test_atw_article_4_excludes_long_terms(text: str, excluded: bool) -> None:
    assert parse_term(text).atw_excluded() is excluded


def test_parse_recess() -> None:
    assert parse_recess(" 07-01:08-31 ") == Recess((7, 1), (8, 31))
    assert SUMMER.label() == "01-07 t/m 31-08"
    assert SUMMER.contains(date(2026, 7, 1))
    assert SUMMER.contains(date(2026, 8, 31))
    assert not SUMMER.contains(date(2026, 6, 30))
    assert not SUMMER.contains(date(2026, 9, 1))


def test_a_recess_may_wrap_the_year_end() -> None:
    winter = parse_recess("12-20:01-05")
    assert winter.label() == "20-12 t/m 05-01"
    assert winter.contains(date(2026, 12, 31))
    assert winter.contains(date(2027, 1, 5))
    assert not winter.contains(date(2027, 1, 6))
    assert not winter.contains(date(2026, 12, 19))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("7-1:8-31", "Onbekend reces '7-1:8-31': gebruik MM-DD:MM-DD"),
        ("07-01", "Onbekend reces"),
        ("01-07 t/m 31-08", "Onbekend reces"),
        ("13-01:08-31", "Ongeldige dag '13-01'"),
        ("07-01:09-31", "Ongeldige dag '09-31'"),
        ("01-01:12-31", "beslaat het hele jaar"),
        ("03-01:02-28", "beslaat het hele jaar"),  # only 29 February would be left
    ],
)
def test_bad_recesses_are_refused_in_dutch(text: str, message: str) -> None:
    with pytest.raises(TermError, match=message):
        parse_recess(text)


def test_format_date_and_weekday_name() -> None:
    assert format_date(date(2026, 3, 24)) == "24-03-2026"
    assert weekday_name(date(2026, 3, 23)) == "maandag"
    assert weekday_name(date(2026, 3, 29)) == "zondag"


# --- weeks and Atw art. 1 ------------------------------------------------------------------


def test_six_weeks_ending_on_bevrijdingsdag_in_a_non_lustrum_year() -> None:
    # Tue 24-03-2026 + 42 = Tue 05-05-2026, Bevrijdingsdag (every year for the Atw) → Wed 06-05.
    result = due(date(2026, 3, 24), "6w")
    assert result == DueDate(
        due=date(2026, 5, 6),
        explanation=(
            "6 weken na ontvangst op 24-03-2026 = 05-05-2026 (Bevrijdingsdag) → woensdag 06-05-2026"
        ),
        rolled_from=date(2026, 5, 5),
        suspended_days=0,
    )


def test_six_weeks_without_a_roll() -> None:
    # Tue 10-03-2026 + 42 = Tue 21-04-2026, an ordinary working day.
    result = due(date(2026, 3, 10), "6w")
    assert result.due == date(2026, 4, 21)
    assert result.explanation == "6 weken na ontvangst op 10-03-2026 = dinsdag 21-04-2026"
    assert result.rolled_from is None


def test_the_base_label_names_the_event() -> None:
    result = due(date(2026, 3, 10), "6w", base_label="verzending van het advies")
    assert result.explanation.startswith("6 weken na verzending van het advies op 10-03-2026 = ")


@pytest.mark.parametrize(
    ("start", "term", "end", "explanation_tail"),
    [
        # 2027: Wed 24-03 + 42 = Wed 05-05 Bevrijdingsdag, Thu 06-05 Hemelvaartsdag,
        # Fri 07-05 KB day, Sat, Sun → Mon 10-05-2027.
        (date(2027, 3, 24), "6w", date(2027, 5, 10), "05-05-2027 (Bevrijdingsdag) → maandag 10-05-2027"),
        # Koningsdag 2025 on Sat 26-04 (27-04 is a Sunday): Sat 15-03 + 42 = Sat 26-04,
        # Sun 27-04 → Mon 28-04-2025, which is a working day (no "observed" Monday).
        (date(2025, 3, 15), "6w", date(2025, 4, 28), "26-04-2025 (Koningsdag) → maandag 28-04-2025"),
        # KB day after Hemelvaart: Fri 03-04-2026 + 42 = Fri 15-05-2026, Sat, Sun → Mon 18-05.
        (
            date(2026, 4, 3),
            "6w",
            date(2026, 5, 18),
            "15-05-2026 (gelijkgestelde dag (KB)) → maandag 18-05-2026",
        ),
        # Goede Vrijdag: Fri 20-02-2026 + 42 = Fri 03-04-2026, Sat, Sun, Mon 06-04 Tweede
        # paasdag → Tue 07-04-2026.
        (date(2026, 2, 20), "6w", date(2026, 4, 7), "03-04-2026 (Goede Vrijdag) → dinsdag 07-04-2026"),
        # Tweede paasdag: Mon 23-02-2026 + 42 = Mon 06-04-2026 → Tue 07-04-2026.
        (date(2026, 2, 23), "6w", date(2026, 4, 7), "06-04-2026 (Tweede paasdag) → dinsdag 07-04-2026"),
        # Easter Sunday is free only as a Sunday: Sun 22-02 + 42 = Sun 05-04-2026 → Tue 07-04.
        (date(2026, 2, 22), "6w", date(2026, 4, 7), "05-04-2026 (zondag) → dinsdag 07-04-2026"),
        # Tweede pinksterdag: Mon 13-04-2026 + 42 = Mon 25-05-2026 → Tue 26-05-2026.
        (
            date(2026, 4, 13),
            "6w",
            date(2026, 5, 26),
            "25-05-2026 (Tweede pinksterdag) → dinsdag 26-05-2026",
        ),
        # Christmas: Fri 13-11-2026 + 42 = Fri 25-12-2026, Sat 26-12 Tweede kerstdag, Sun →
        # Mon 28-12-2026 (the first reason is named).
        (
            date(2026, 11, 13),
            "6w",
            date(2026, 12, 28),
            "25-12-2026 (Eerste kerstdag) → maandag 28-12-2026",
        ),
        # Into the new year: Fri 20-11-2026 + 42 = Fri 01-01-2027, Sat, Sun → Mon 04-01-2027.
        (date(2026, 11, 20), "6w", date(2027, 1, 4), "01-01-2027 (Nieuwjaarsdag) → maandag 04-01-2027"),
        # Nieuwjaar 2026 on Thu, KB day Fri 02-01: Thu 20-11-2025 + 42 = Thu 01-01-2026 → Mon 05-01.
        (date(2025, 11, 20), "6w", date(2026, 1, 5), "01-01-2026 (Nieuwjaarsdag) → maandag 05-01-2026"),
        # A plain weekend: Sat 21-03-2026 + 42 = Sat 02-05-2026, Sun → Mon 04-05-2026.
        (date(2026, 3, 21), "6w", date(2026, 5, 4), "02-05-2026 (zaterdag) → maandag 04-05-2026"),
    ],
)
def test_atw_article_1_rolls_past_every_kind_of_free_day(
    start: date, term: str, end: date, explanation_tail: str
) -> None:
    result = due(start, term)
    assert result.due == end
    assert result.explanation.endswith(f" = {explanation_tail}")
    assert result.rolled_from is not None
    assert result.rolled_from < end


# --- Atw art. 2: at least two working days ----------------------------------------------


@pytest.mark.parametrize(
    ("start", "end"),
    [
        # alders.nl table for a 3-day term in a week without feestdagen (9-15 March 2026).
        (date(2026, 3, 9), date(2026, 3, 12)),  # Mon → Thu (Tue, Wed, Thu)
        (date(2026, 3, 10), date(2026, 3, 13)),  # Tue → Fri
        (date(2026, 3, 11), date(2026, 3, 16)),  # Wed → Sat, art. 1 → Mon (Thu, Fri, Mon)
        (date(2026, 3, 12), date(2026, 3, 16)),  # Thu → Sun, art. 1 → Mon (Fri, Mon)
        (date(2026, 3, 13), date(2026, 3, 17)),  # Fri → Mon, only Mon works, art. 2 → Tue
        (date(2026, 3, 14), date(2026, 3, 17)),  # Sat → Tue (Mon, Tue)
        (date(2026, 3, 15), date(2026, 3, 18)),  # Sun → Wed
    ],
)
def test_three_days_follow_the_alders_table(start: date, end: date) -> None:
    assert due(start, "3d").due == end


def test_article_2_alone() -> None:
    # Fri 13-03-2026 + 3 = Mon 16-03, a working day but the only one → Tue 17-03-2026.
    result = due(date(2026, 3, 13), "3d")
    assert result.explanation == (
        "3 dagen na ontvangst op 13-03-2026 = maandag 16-03-2026, "
        "verlengd tot ten minste twee werkdagen → dinsdag 17-03-2026"
    )
    assert result.rolled_from == date(2026, 3, 16)


def test_article_2_skips_a_feestdag() -> None:
    # Fri 01-05-2026 + 3 = Mon 04-05, the only working day; Tue 05-05 is Bevrijdingsdag
    # → Wed 06-05-2026.
    result = due(date(2026, 5, 1), "3d")
    assert result.due == date(2026, 5, 6)
    assert result.explanation == (
        "3 dagen na ontvangst op 01-05-2026 = maandag 04-05-2026, "
        "verlengd tot ten minste twee werkdagen → woensdag 06-05-2026"
    )


def test_article_1_then_article_2() -> None:
    # Thu 24-12-2026 + 3 = Sun 27-12 (25 and 26 are Christmas), art. 1 → Mon 28-12; the window
    # 25..28 holds only Monday → Tue 29-12-2026.
    result = due(date(2026, 12, 24), "3d")
    assert result.due == date(2026, 12, 29)
    assert result.explanation == (
        "3 dagen na ontvangst op 24-12-2026 = 27-12-2026 (zondag) → maandag 28-12-2026, "
        "verlengd tot ten minste twee werkdagen → dinsdag 29-12-2026"
    )
    assert result.rolled_from == date(2026, 12, 27)


def test_article_2_does_not_apply_below_three_days() -> None:
    # Fri 13-03-2026 + 2 = Sun 15-03, art. 1 → Mon 16-03; a 2-day term needs no two working days.
    assert due(date(2026, 3, 13), "2d").due == date(2026, 3, 16)
    # Thu 12-03-2026 + 1 = Fri 13-03-2026.
    assert due(date(2026, 3, 12), "1d").due == date(2026, 3, 13)


# --- Atw art. 4 and switching the Atw off ------------------------------------------------


def test_thirteen_weeks_do_not_roll_but_twelve_weeks_do() -> None:
    # Sat 03-01-2026 + 91 = Sat 04-04-2026: more than 12 weeks, so no roll.
    long = due(date(2026, 1, 3), "13w")
    assert long.due == date(2026, 4, 4)
    assert long.rolled_from is None
    assert long.explanation == (
        "13 weken na ontvangst op 03-01-2026 = zaterdag 04-04-2026 "
        "(geen verschuiving: termijn langer dan 12 weken, Atw art. 4)"
    )
    # Sat 10-01-2026 + 84 = Sat 04-04-2026, Sun 05-04, Mon 06-04 Tweede paasdag → Tue 07-04.
    covered = due(date(2026, 1, 10), "12w")
    assert covered.due == date(2026, 4, 7)
    assert covered.explanation.endswith("= 04-04-2026 (zaterdag) → dinsdag 07-04-2026")


def test_ninety_days_roll_but_ninety_one_do_not() -> None:
    # Sun 04-01-2026 + 90 = Sat 04-04-2026 → Tue 07-04-2026.
    assert due(date(2026, 1, 4), "90d").due == date(2026, 4, 7)
    # Sat 03-01-2026 + 91 = Sat 04-04-2026, stays.
    long = due(date(2026, 1, 3), "91d")
    assert long.due == date(2026, 4, 4)
    assert long.explanation.endswith("(geen verschuiving: termijn langer dan 90 dagen, Atw art. 4)")


def test_atw_switched_off() -> None:
    # Sat 21-03-2026 + 42 = Sat 02-05-2026; with --no-atw it stays.
    result = due(date(2026, 3, 21), "6w", atw=False)
    assert result == DueDate(
        due=date(2026, 5, 2),
        explanation=(
            "6 weken na ontvangst op 21-03-2026 = zaterdag 02-05-2026 (Algemene termijnenwet niet toegepast)"
        ),
        rolled_from=None,
        suspended_days=0,
    )


def test_atw_switched_off_also_skips_article_2() -> None:
    # Fri 13-03-2026 + 3 = Mon 16-03-2026, which art. 2 would have extended.
    result = due(date(2026, 3, 13), "3d", atw=False)
    assert result.due == date(2026, 3, 16)
    assert result.explanation.endswith("= maandag 16-03-2026 (Algemene termijnenwet niet toegepast)")


def test_atw_switched_off_says_nothing_when_nothing_would_move() -> None:
    result = due(date(2026, 3, 10), "6w", atw=False)
    assert result.explanation == "6 weken na ontvangst op 10-03-2026 = dinsdag 21-04-2026"


# --- working days --------------------------------------------------------------------------


def test_working_days_across_easter() -> None:
    # From Wed 01-04-2026: Thu 02 (1); Fri 03 Goede Vrijdag, Sat, Sun, Mon 06 Tweede paasdag
    # skipped; Tue 07 (2), Wed 08 (3), Thu 09 (4), Fri 10 (5), Mon 13 (6), Tue 14 (7),
    # Wed 15 (8), Thu 16 (9), Fri 17 (10).
    result = due(date(2026, 4, 1), "10wd")
    assert result.due == date(2026, 4, 17)
    assert result.explanation == "10 werkdagen na ontvangst op 01-04-2026 = vrijdag 17-04-2026"
    assert result.rolled_from is None


def test_one_working_day_skips_a_kb_day() -> None:
    # Thu 14-05-2026 is Hemelvaartsdag, Fri 15-05 a KB day, then the weekend → Mon 18-05-2026.
    assert due(date(2026, 5, 13), "1wd").due == date(2026, 5, 18)


def test_working_days_ignore_the_atw_switch() -> None:
    # The end of a working-day term is a working day by construction; the Atw cannot move it.
    assert due(date(2026, 4, 1), "10wd", atw=False).due == date(2026, 4, 17)


def test_working_days_do_not_count_in_the_recess() -> None:
    # From Fri 26-06-2026: Mon 29-06 (1), Tue 30-06 (2), recess 01-07..31-08, Tue 01-09 (3).
    result = due(date(2026, 6, 26), "3wd", recess=SUMMER)
    assert result.due == date(2026, 9, 1)
    assert result.suspended_days == 62


# --- recess ----------------------------------------------------------------------------------


def test_six_weeks_around_the_summer_recess() -> None:
    # Mon 15-06-2026: 16..30 June count 15 days; July and August (62 days) do not count;
    # the other 27 days run 01-09..27-09 (Sun) → art. 1 → Mon 28-09-2026.
    result = due(date(2026, 6, 15), "6w", recess=SUMMER)
    assert result == DueDate(
        due=date(2026, 9, 28),
        explanation=(
            "6 weken na ontvangst op 15-06-2026, zonder 62 dagen reces (01-07 t/m 31-08) "
            "= 27-09-2026 (zondag) → maandag 28-09-2026"
        ),
        rolled_from=date(2026, 9, 27),
        suspended_days=62,
    )


def test_a_term_received_in_the_recess_starts_after_it() -> None:
    # Wed 15-07-2026: 16-07..31-08 (47 days) do not count; 01-09..07-09 → Mon 07-09-2026.
    result = due(date(2026, 7, 15), "1w", recess=SUMMER)
    assert result.due == date(2026, 9, 7)
    assert result.suspended_days == 47


def test_a_recess_that_wraps_the_year_end() -> None:
    # Tue 15-12-2026: 16..19 Dec count 4; 20-12..05-01 (17 days) do not; 06-01..15-01 count 10
    # → Fri 15-01-2027.
    result = due(date(2026, 12, 15), "2w", recess=parse_recess("12-20:01-05"))
    assert result.due == date(2027, 1, 15)
    assert result.suspended_days == 17
    assert "zonder 17 dagen reces (20-12 t/m 05-01)" in result.explanation


def test_a_recess_outside_the_term_is_not_mentioned() -> None:
    result = due(date(2026, 3, 10), "6w", recess=SUMMER)
    assert result.explanation == "6 weken na ontvangst op 10-03-2026 = dinsdag 21-04-2026"
    assert result.suspended_days == 0


def test_the_roll_looks_at_weekends_and_feestdagen_only() -> None:
    # Sat 18-05-2030 + 42 = Sat 29-06-2030, Sun 30-06 → Mon 01-07-2030: the first recess day.
    # The recess stops days from counting; it does not move an end that Atw art. 1 gives.
    assert due(date(2030, 5, 18), "6w", recess=SUMMER).due == date(2030, 7, 1)


# --- months ----------------------------------------------------------------------------------


def test_one_month_from_31_january_ends_on_the_last_day_of_february() -> None:
    # 31-01-2026 + 1 month = Sat 28-02-2026 → Mon 02-03-2026.
    result = due(date(2026, 1, 31), "1m")
    assert result.due == date(2026, 3, 2)
    assert result.explanation == (
        "1 maand na ontvangst op 31-01-2026 = 28-02-2026 (zaterdag) → maandag 02-03-2026"
    )
    # 2028 is a leap year: 31-01-2028 + 1 month = Tue 29-02-2028.
    assert due(date(2028, 1, 31), "1m").due == date(2028, 2, 29)


def test_three_months_roll_but_four_do_not() -> None:
    # 02-02-2026 + 3 months = Sat 02-05-2026 → Mon 04-05-2026.
    assert due(date(2026, 2, 2), "3m").due == date(2026, 5, 4)
    # 31-01-2026 + 4 months = Sun 31-05-2026, stays.
    long = due(date(2026, 1, 31), "4m")
    assert long.due == date(2026, 5, 31)
    assert long.explanation.endswith("(geen verschuiving: termijn langer dan 3 maanden, Atw art. 4)")


def test_months_make_up_for_the_recess() -> None:
    # 15-05-2026 + 2 months = 15-07; 01-07..15-07 (15 days) fall in the recess, so 15 more
    # counted days after it: 16-07..31-08 are recess too, 01-09..15-09 count → Tue 15-09-2026.
    result = due(date(2026, 5, 15), "2m", recess=SUMMER)
    assert result.due == date(2026, 9, 15)
    assert result.suspended_days == 62


def test_a_month_received_in_the_recess_runs_from_its_end() -> None:
    # Wed 15-07-2026: counting resumes on 01-09, so one month from 31-08 = Wed 30-09-2026.
    result = due(date(2026, 7, 15), "1m", recess=SUMMER)
    assert result.due == date(2026, 9, 30)
    assert result.suspended_days == 47


# --- fixed date, calendar choice, limits ---------------------------------------------------


def test_an_explicit_date_is_taken_as_it_is() -> None:
    result = due(date(2026, 3, 24), "2026-06-15", recess=SUMMER)
    assert result == DueDate(date(2026, 6, 15), "vaste datum: 15-06-2026", None, 0)
    # Not even a Saturday moves: the date was agreed.
    assert due(date(2026, 3, 24), "2026-05-02").due == date(2026, 5, 2)


def test_a_calendar_can_be_passed_in() -> None:
    # Without decree days, Fri 15-05-2026 is an ordinary working day.
    result = due(date(2026, 4, 3), "6w", calendar=AtwCalendar(decree_days={}))
    assert result.due == date(2026, 5, 15)
    assert result.explanation == "6 weken na ontvangst op 03-04-2026 = vrijdag 15-05-2026"


def test_a_term_beyond_the_calendar_is_a_term_error() -> None:
    with pytest.raises(TermError, match="valt buiten de kalender"):
        due(date(9999, 12, 1), "6w")
