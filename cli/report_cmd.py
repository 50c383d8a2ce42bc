"""`advies report ...`: the secretariat's accounts of a year (DESIGN.md §6).

`report year` writes the annual report (jaarverslag), `report members` who took part. Other
report commands (the dossier) live in their own module and are registered on `app` below.
Like `advies list`, these only read and name no actor: they are the administrator's and the
secretariat's commands on the server.

What they use is imported inside each command, so that `advies list` starts without it.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cli import dossier_cmd
from cli.context import out, print_json, print_utf8, reader, reports
from engine import inputs
from engine.clock import local_today
from engine.errors import InvalidInput

if TYPE_CHECKING:
    from app.period import Period

app = typer.Typer(help="Verslagen: het jaarverslag, wie meedeed, het dossier.", no_args_is_help=True)
app.command("dossier")(dossier_cmd.dossier)

FORMATS = ("html", "csv", "json")
YEAR = re.compile(r"^\d{4}$")

Org = Annotated[str, typer.Option("--org", help="De organisatie (slug).")]
Year = Annotated[str | None, typer.Option("--year", help="Het jaar, bijvoorbeeld 2026.")]


@app.command("year")
@reports
def year_report(org: Org, year: Annotated[str, typer.Option("--year", help="Het jaar, bijvoorbeeld 2026.")],
                fmt: Annotated[str, typer.Option("--format", help="html, csv of json")] = "html",
                output: Annotated[Path | None, typer.Option(
                    "--output", "-o", help="Schrijf naar dit bestand in plaats van naar het scherm.")]
                = None,
                overwrite: Annotated[bool, typer.Option(
                    "--overwrite", help="Een bestaand bestand mag worden overschreven.")] = False) -> None:
    """Het jaarverslag: elk traject van het jaar, hoe de termijnen gingen, totalen per soort."""
    from app.annual_report import annual_report

    if fmt not in FORMATS:
        raise InvalidInput(f"Onbekend formaat '{fmt}': kies html, csv of json.")
    source = reader()
    today = local_today(source.clock)
    report = annual_report(source.engine, source.flows, org, parse_year(year, today), today)
    text = _as_format(report, fmt)
    if output is None:
        print_utf8(text)
        return
    from app import org_file

    org_file.save(output, text, overwrite=overwrite)
    out.print(f"Jaarverslag {report.year} van '{report.slug}' geschreven naar {output}.", markup=False)


@app.command("members")
@reports
def members_report(org: Org, year: Year = None,
                   first: Annotated[str | None, typer.Option("--from", help="Vanaf deze datum.")] = None,
                   last: Annotated[str | None, typer.Option("--to", help="Tot en met deze datum.")] = None,
                   as_json: Annotated[bool, typer.Option("--json", help="Uitvoer als JSON.")]
                   = False) -> None:
    """Wie deed mee: per lid de oproepen, groepen en trajecten in een periode, en wie niet."""
    from app.participation import participation

    source = reader()
    period = chosen_period(year, first, last, local_today(source.clock))
    found = participation(source.engine, source.flows, org, period)
    if as_json:
        print_json(found.as_json())
        return
    out.print(f"Wie deed mee bij {found.organisation}, van {period.first.isoformat()} tot en met "
              f"{period.last.isoformat()}:", markup=False)
    for member in found.members:
        out.print(_member_line(member), markup=False)
    names = ", ".join(m.name for m in found.none) or "niemand"
    out.print(f"Niet meegedaan: {names}.", markup=False)


def parse_year(text: str, today: date) -> int:
    from app.period import check_year

    if not YEAR.match(text.strip()):
        raise InvalidInput(f"'{text}' is geen jaartal: schrijf vier cijfers, zoals {today.year}.")
    year = int(text)
    check_year(year, today)
    return year


def chosen_period(year: str | None, first: str | None, last: str | None, today: date) -> Period:
    """`--year`, or `--from` and `--to` together; neither: this calendar year."""
    from app.period import Period

    if year is not None and (first or last):
        raise InvalidInput("Kies een jaar (--year) of een periode (--from en --to), niet allebei.")
    if (first is None) != (last is None):
        raise InvalidInput("Geef bij een periode zowel --from als --to, bijvoorbeeld "
                           "--from 2026-01-01 --to 2026-06-30.")
    if first is not None and last is not None:
        return Period.between(inputs.parse_day(first, "--from"), inputs.parse_day(last, "--to"))
    return Period.year(parse_year(year, today) if year is not None else today.year, today)


def _as_format(report: object, fmt: str) -> str:
    import json

    from app.annual_report import AnnualReport

    assert isinstance(report, AnnualReport)
    if fmt == "csv":
        from app.annual_report_csv import annual_report_csv

        return annual_report_csv(report)
    if fmt == "json":
        return json.dumps(report.as_json(), ensure_ascii=False, indent=2) + "\n"
    from app.annual_report_html import annual_report_document

    return annual_report_document(report)


def _member_line(member: object) -> str:
    from app.participation import MemberLine
    from notifications.formatting import count

    assert isinstance(member, MemberLine)
    worked = ", ".join(w.title for w in member.worked_on) or "geen trajecten"
    groups = f"; vaste groep: {', '.join(member.standing_groups)}" if member.standing_groups else ""
    answers = count(len(member.answers), "antwoord", "antwoorden")
    return (f"- {member.name} ({member.email}): {answers} op oproepen; "
            f"{worked}{groups}")


