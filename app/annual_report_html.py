"""The annual report and who took part, as HTML: the fragment a page shows (and a council
pastes into its jaarverslag), and a self-contained document for `advies report year`.

Only Jinja2 (autoescaped) and the Dutch date filters, with the templates in app/templates: the
command line and the pages both use it.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from app.annual_report import AnnualReport
from app.participation import Participation
from notifications.formatting import GLOBALS, MONTHS

TEMPLATES = Path(__file__).parent / "templates"


def day_date(value: date) -> str:
    """'3 maart 2026'."""
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


def dutch_number(value: float | None) -> str:
    """'12,5'; a whole number without decimals."""
    if value is None:
        return ""
    return f"{value:.1f}".replace(".", ",").removesuffix(",0")


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["day_date"] = day_date
    env.filters["dutch_number"] = dutch_number
    env.globals.update(GLOBALS)
    return env


def _render(name: str, **context: Any) -> Markup:
    return Markup(_env().get_template(name).render(**context))  # the environment autoescapes


def annual_report_fragment(report: AnnualReport) -> Markup:
    return _render("annual_report_body.html", report=report)


def annual_report_heading(report: AnnualReport) -> str:
    return f"Jaarverslag {report.year}: {report.organisation}"


def annual_report_document(report: AnnualReport) -> str:
    """One HTML file, styles inside, no scripts and nothing loaded from elsewhere."""
    return str(_render("report_document.html", heading=annual_report_heading(report),
                       body=annual_report_fragment(report)))


def participation_fragment(found: Participation) -> Markup:
    return _render("participation_body.html", found=found)


def participation_heading(found: Participation) -> str:
    return f"Wie deed mee: {found.organisation}"
