"""`advies calendar due START TERM`: compute a legal end date, with its explanation."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.context import out, print_json, reports
from engine import inputs
from engine.errors import InvalidInput
from engine.terms import TermError, compute_due, parse_recess, parse_term

app = typer.Typer(help="Termijnen berekenen volgens de Algemene termijnenwet.", no_args_is_help=True)


@app.command()
@reports
def due(start: str, term: str,
        no_atw: Annotated[bool, typer.Option("--no-atw", help="Zonder Algemene termijnenwet.")] = False,
        recess: Annotated[str | None, typer.Option("--recess", help="Reces als MM-DD:MM-DD.")] = None,
        as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Print de einddatum (ISO) van TERM (6w, 3d, 10wd, 2m) vanaf START."""
    begin = inputs.parse_day(start, "START")
    try:
        result = compute_due(begin, parse_term(term), atw=not no_atw,
                             recess=parse_recess(recess) if recess else None)
    except TermError as error:
        raise InvalidInput(str(error)) from error
    if as_json:
        print_json({"start": begin.isoformat(), "term": term, "due": result.due.isoformat(),
                    "explanation": result.explanation, "atw": not no_atw,
                    "rolled_from": result.rolled_from.isoformat() if result.rolled_from else None,
                    "suspended_days": result.suspended_days})
    else:
        out.print(result.due.isoformat())
