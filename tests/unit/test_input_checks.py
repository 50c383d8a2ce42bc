"""Input checks and their last lines of defence (issue 7, points 7 and 12): every Unicode line
break refused in header values, documents with any line break normalised, the holiday calendar
bounded to the years it knows, the SVG drawing, Python versions, and each failure's sentence."""

from __future__ import annotations

import errno
import tomllib
import xml.etree.ElementTree as ElementTree
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet
from sqlalchemy.exc import OperationalError

from cli.failures import BUSY, DISK_FULL, NOT_SET_UP, UNREACHABLE, describe
from engine import inputs, render
from engine.atw_calendar import AtwCalendar, known_years
from engine.errors import InvalidInput
from engine.terms import TermError, compute_due, parse_term
from flows import all_flows
from notifications.message import HeaderInjection, Party, build
from notifications.render import Rendered

#: Every character Python, mail readers or Unicode take as the end of a line, and C1 controls.
BREAKS = ["\r", "\n", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029", "\x9b"]


@pytest.mark.parametrize("char", BREAKS)
def test_a_line_of_text_refuses_every_line_break(char: str) -> None:
    with pytest.raises(InvalidInput, match="regelovergang of stuurteken"):
        inputs.check_line(f"Minimabeleid{char}Bcc: iedereen@example.org", "titel")


@pytest.mark.parametrize("char", BREAKS)
@pytest.mark.parametrize("where", ["name", "address", "subject"])
def test_building_a_mail_refuses_every_line_break_in_a_header(char: str, where: str) -> None:
    """The last line of defence, for values that never passed an input check."""
    name = f"Anna{char}Bcc: x@example.org" if where == "name" else "Anna"
    address = f"anna@example.org{char}x" if where == "address" else "anna@example.org"
    subject = f"Hallo{char}Bcc: x@example.org" if where == "subject" else "Hallo"
    with pytest.raises(HeaderInjection, match="regelovergang of stuurteken"):
        build(sender=Party("Adviesgroep", "a@example.org"), recipient=Party(name, address),
              content=Rendered(subject, "tekst", "<p>tekst</p>"), message_id="<1@example.org>",
              sent_at=datetime(2026, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize("newline", ["\r\n", "\r", "\n", "\x0b", "\u2028", "\x85"])
def test_a_document_takes_any_line_break_as_a_newline(newline: str) -> None:
    checked = inputs.check_text(f"Regel een.{newline}Regel twee.{newline}", "advies")
    assert checked == "Regel een.\nRegel twee."


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f", "\x9b"])
def test_a_document_still_refuses_control_characters(char: str) -> None:
    with pytest.raises(InvalidInput, match="stuurteken"):
        inputs.check_text(f"Advies{char}[31m", "advies")


def test_a_note_is_at_most_2000_characters_and_may_be_absent() -> None:
    assert inputs.check_note(None) is None
    assert inputs.check_note("Gebeld.\r\nMail volgt.") == "Gebeld.\nMail volgt."
    with pytest.raises(InvalidInput, match="2000"):
        inputs.check_note("x" * 2001)


# --- the holiday calendar knows its years ---------------------------------------------------------


def test_the_holiday_calendar_refuses_years_it_does_not_know() -> None:
    first, last = known_years()
    assert (first, last) == (1966, 2100)
    calendar = AtwCalendar({})
    assert calendar.holiday_name(date(last, 12, 25)) == "Eerste kerstdag"
    assert calendar.is_free_day(date(first, 1, 1))
    for day in (date(last + 1, 12, 25), date(first - 1, 12, 25), date(9999, 12, 31)):
        with pytest.raises(TermError, match=f"De feestdagen van {day.year} zijn niet bekend"):
            calendar.is_working_day(day)


def test_a_term_that_runs_past_the_calendar_is_refused_not_counted_without_holidays() -> None:
    assert compute_due(date(2100, 11, 13), parse_term("6w")).due == date(2100, 12, 27)
    with pytest.raises(TermError, match="2101"):
        compute_due(date(2100, 12, 1), parse_term("6w"))


# --- the SVG drawing, Python versions -----------------------------------------------------------


@pytest.mark.parametrize("name", list(all_flows()))
def test_every_flow_is_drawn_as_svg_with_every_state(name: str) -> None:
    compiled = all_flows()[name]
    root = ElementTree.fromstring(render.svg(compiled))
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    shown = "".join(root.itertext())
    for state in compiled.flow.states:
        assert state.name in shown
        assert state.label in shown


def test_python_versions_after_3_11_may_install_it() -> None:
    project = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())["project"]
    versions = SpecifierSet(project["requires-python"])
    assert {"3.11.7", "3.12.1", "3.13.0"} <= set(versions.filter(["3.10.13", "3.11.7", "3.12.1", "3.13.0"]))
    assert "3.10.13" not in versions


# --- every failure is a sentence ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "message", "code"),
    [(OSError(errno.ENOSPC, "No space left on device"), DISK_FULL, 1),
     (OSError(errno.EFBIG, "File too large"), DISK_FULL, 1),
     (OperationalError("INSERT", {}, Exception("database or disk is full")), DISK_FULL, 1),
     (OperationalError("INSERT", {}, Exception("disk I/O error")), DISK_FULL, 1),
     (OperationalError("SELECT", {}, Exception("database is locked")), BUSY, 4),
     (OperationalError("SELECT", {}, Exception("no such table: trajectory")), NOT_SET_UP, 1),
     (OperationalError("connect", {}, Exception('connection to server at "h" failed')), UNREACHABLE, 1),
     (RecursionError(), "te diep genest", 2),
     (TermError("De feestdagen van 2101 zijn niet bekend"), "2101", 2),
     (ValueError("iets"), "onverwachts mis (ValueError)", 1)],
)
def test_each_failure_has_its_dutch_sentence(error: BaseException, message: str, code: int) -> None:
    found = describe(error)
    assert message in found.message
    assert found.exit_code == code
