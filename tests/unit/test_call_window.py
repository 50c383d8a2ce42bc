"""A personal link works until its call closes, read from the call's sign-up term (issue 7, 4)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from engine import tokens
from engine.clock import AMSTERDAM

ISSUED_FOR = datetime(2026, 4, 8, tzinfo=AMSTERDAM)  # the end of 7 April, the first end


def claims(expires_at: datetime = ISSUED_FOR) -> tokens.Claims:
    return tokens.Claims(1, 2, expires_at, "j")


def test_an_extended_term_keeps_the_link_open_to_the_end_of_its_last_day() -> None:
    window = tokens.CallWindow(started_on=date(2026, 3, 24), due=date(2026, 4, 21))
    tokens.check_open(claims(), datetime(2026, 4, 21, 23, 59, tzinfo=AMSTERDAM), window)
    with pytest.raises(tokens.TokenRefused) as refused:
        tokens.check_open(claims(), datetime(2026, 4, 22, 0, 0, tzinfo=AMSTERDAM), window)
    assert refused.value.reason == "expired"


def test_a_shortened_term_closes_the_link_early() -> None:
    window = tokens.CallWindow(started_on=date(2026, 3, 24), due=date(2026, 4, 1))
    with pytest.raises(tokens.TokenRefused):
        tokens.check_open(claims(), datetime(2026, 4, 2, 9, 0, tzinfo=AMSTERDAM), window)


def test_without_a_running_term_the_link_keeps_its_own_expiry() -> None:
    tokens.check_open(claims(), datetime(2026, 4, 7, 23, 0, tzinfo=AMSTERDAM), None)
    with pytest.raises(tokens.TokenRefused):
        tokens.check_open(claims(), datetime(2026, 4, 8, 0, 0, tzinfo=AMSTERDAM), None)


def test_a_link_of_an_earlier_call_does_not_use_a_later_term() -> None:
    later = tokens.CallWindow(started_on=date(2026, 4, 8), due=date(2026, 4, 20))
    assert not later.issued_within(claims())
    with pytest.raises(tokens.TokenRefused):
        tokens.check_open(claims(), datetime(2026, 4, 9, 9, 0, tzinfo=AMSTERDAM), later)
