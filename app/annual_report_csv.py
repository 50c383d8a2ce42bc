"""The annual report as CSV: one row per trajectory, `;`-separated, UTF-8 with a byte order mark,
so that Excel with Dutch settings opens it as columns. The totals per flow are not in it (a CSV
holds one table): they are in the HTML and the JSON.

Dates are written as 24-03-2026, numbers as numbers; the advice term and the college's response
term have their own columns, every other term is listed in the last column.
"""

from __future__ import annotations

import csv
import io
from datetime import date

from app.annual_report import ADVICE_TERM, RESPONSE_TERM, AnnualReport, TermLine, TrajectoryLine
from engine.terms import format_date

BOM = "\ufeff"
HEADER = ["nummer", "soort", "titel", "stap", "aanvraag", "advies verstuurd",
          "reactie college", "afgesloten", "reactietijd werkdagen", "reactietijd kalenderdagen",
          "gepubliceerd", "adviestermijn einddatum", "adviestermijn", "adviestermijn werkdagen te laat",
          "reactietermijn einddatum", "reactietermijn", "reactietermijn werkdagen te laat",
          "andere termijnen"]


def annual_report_csv(report: AnnualReport) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    for line in report.trajectories:
        writer.writerow(_row(line))
    return BOM + buffer.getvalue()


def _row(line: TrajectoryLine) -> list[str]:
    advice, response = _last(line.terms, ADVICE_TERM), _last(line.terms, RESPONSE_TERM)
    others = [t for t in line.terms if t.name not in (ADVICE_TERM, RESPONSE_TERM)]
    return [str(line.id), line.flow_label, line.title, line.state_label, _date(line.requested_on),
            _date(line.advice_sent_on), _date(line.response_received_on), _date(line.closed_on),
            _number(line.response_working_days), _number(line.response_calendar_days),
            "ja" if line.published else "nee", *_term(advice), *_term(response),
            ", ".join(f"{t.label} {format_date(t.due)}: {_outcome(t)}" for t in others)]


def _last(terms: list[TermLine], name: str) -> TermLine | None:
    """The term of that name as it ended last (a call made again has a term per call)."""
    found = [t for t in terms if t.name == name]
    return found[-1] if found else None


def _term(term: TermLine | None) -> list[str]:
    if term is None:
        return ["", "", ""]
    late = term.working_days_late if term.outcome in ("met_late", "missed") else None
    return [_date(term.due), term.outcome_label, _number(late)]


def _outcome(term: TermLine) -> str:
    if term.outcome in ("met_late", "missed") and term.working_days_late is not None:
        return f"{term.outcome_label} ({term.working_days_late} werkdagen)"
    return term.outcome_label


def _date(value: date | None) -> str:
    return format_date(value) if value else ""


def _number(value: int | None) -> str:
    return "" if value is None else str(value)
