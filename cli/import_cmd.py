"""`advies import FILE`: bring running trajectories in from a spreadsheet (app.importer).

A file with wrong rows is refused as a whole (exit 2): the first line on stderr says so, each
following line names one wrong row by its line number and why. Nothing is written then.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cli.context import (
    database,
    err,
    human_actor,
    one_line,
    out,
    print_json,
    reports,
    say_failure,
    settings,
)
from engine.errors import InvalidInput
from engine.terms import format_date

if TYPE_CHECKING:
    from app.importer import FileRefused, ImportResult

#: The largest file an import reads (10,000 rows are about 2 MB).
MAX_BYTES = 50 * 1024 * 1024


@reports
def import_file(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="CSV (met kopregel) of JSON lines.")],
    actor: Annotated[str, typer.Option("--actor", help="E-mailadres van wie importeert "
                                                       "(secretariaat).")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Alleen controleren: niets opslaan.")]
    = False,
    as_json: Annotated[bool, typer.Option("--json", help="Uitvoer als JSON.")] = False,
) -> None:
    """Importeer lopende trajecten uit een CSV- of JSON-lines-bestand (één bestand, één geheel)."""
    from app.importer import FileRefused, Importer  # with the writer: not for the other commands

    content = _content(file)
    importer = Importer(database(), settings().clock)
    try:
        result = importer.run(file.name, content, human_actor(actor), dry_run=dry_run)
    except FileRefused as refused:
        _refused(refused, as_json)
    if as_json:
        print_json(result.as_json())
    else:
        _show(result)


def _content(file: Path) -> bytes:
    if not file.exists():
        raise InvalidInput(f"Het bestand {file} bestaat niet.")
    if not file.is_file():
        raise InvalidInput(f"{file} is geen bestand (maar bijvoorbeeld een map).")
    if file.stat().st_size > MAX_BYTES:
        raise InvalidInput(f"Het bestand {file} is groter dan {MAX_BYTES // (1024 * 1024)} MB; "
                           "verdeel het over meer bestanden.")
    try:
        return file.read_bytes()
    except OSError as error:
        raise InvalidInput(f"Het bestand {file} kan niet worden gelezen.") from error


def _refused(refused: FileRefused, as_json: bool) -> None:
    if as_json:
        print_json({"error": refused.message, "exit_code": refused.exit_code,
                    "problems": [{"line": line, "problem": why} for line, why in refused.problems]})
    say_failure(refused.message)
    for line in refused.lines():
        err.print(one_line(line), markup=False, highlight=False)
    raise typer.Exit(refused.exit_code)


def _show(result: ImportResult) -> None:
    verb = "Zou importeren" if result.dry_run else "Geïmporteerd"
    out.print(f"{verb}: {result.created} trajecten uit {result.file}.", markup=False)
    for flow, states in result.counts.items():
        for state, number in states.items():
            out.print(f"  {flow} / {state}: {number}", markup=False)
    if result.dry_run:
        out.print("Eerste regels, met hun termijnen:", markup=False)
        for row in result.preview:
            due = ", ".join(f"{d['label']} {format_date(date.fromisoformat(d['due']))}"
                            for d in row["deadlines"])
            out.print(f"  regel {row['line']}: {row['title']} ({row['state']}): "
                      f"{due or 'geen lopende termijn'}", markup=False)
        out.print("Er is niets opgeslagen (--dry-run).", markup=False)

