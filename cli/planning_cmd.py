"""`advies planning add|list|edit|cancel`: the liaison's half-year planning (app.planning)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from cli.context import checked_note, database, human_actor, out, print_json, reports, service, stored_id
from engine.terms import format_date

app = typer.Typer(help="De halfjaarplanning: de adviesaanvragen die de komende tijd worden verwacht.",
                  no_args_is_help=True)

EXPECTED_HELP = "Verwachte datum, bijvoorbeeld 2026-09-15."
ADVISER_HELP = "E-mailadres van de beleidsadviseur."
Json = Annotated[bool, typer.Option("--json", help="Uitvoer als JSON.")]
Actor = Annotated[str, typer.Option("--actor", help="E-mailadres van wie dit doet (verbindingsmedewerker "
                                                    "of secretariaat).")]
ItemId = Annotated[int, typer.Argument(metavar="ID", help="Het nummer van het verzoek in de planning.")]
Title = Annotated[str | None, typer.Option("--title", help="De titel van de adviesaanvraag.")]
Expected = Annotated[str | None, typer.Option("--expected", help=EXPECTED_HELP)]
Adviser = Annotated[str | None, typer.Option("--policy-adviser", help=ADVISER_HELP)]
Flow = Annotated[str | None, typer.Option("--flow", help="De stroom waarmee het traject start (leeg: "
                                                         "nog niet bekend).")]

STATUS = {"planned": "verwacht", "started": "gestart", "cancelled": "geschrapt"}


@app.command()
@reports
def add(org: Annotated[str, typer.Option("--org", help="De organisatie (slug).")],
        title: Annotated[str, typer.Option("--title", help="De titel van de adviesaanvraag.")],
        expected: Annotated[str, typer.Option("--expected", help=EXPECTED_HELP)],
        policy_adviser: Annotated[str, typer.Option("--policy-adviser", help=ADVISER_HELP)],
        actor: Actor, flow: Flow = None, as_json: Json = False) -> None:
    """Zet een verwachte adviesaanvraag in de planning; de voorzitters krijgen de planning per e-mail."""
    from app import planning

    item = planning.add(service(), org, title, expected, policy_adviser, flow, human_actor(actor))
    _done(item, "staat in de planning", as_json)


@app.command("list")
@reports
def list_(org: Annotated[str | None, typer.Option("--org", help="Alleen deze organisatie (slug).")] = None,
          everything: Annotated[bool, typer.Option("--all", help="Ook gestarte en geschrapte verzoeken.")]
          = False, as_json: Json = False) -> None:
    """Toon de planning, de eerstverwachte bovenaan."""
    from app import planning

    engine = database()
    try:
        rows = planning.listed(engine, org, everything=everything)
    finally:
        engine.dispose()
    if as_json:
        print_json(rows)
        return
    _table(rows)


@app.command()
@reports
def edit(item_id: ItemId, actor: Actor, title: Title = None, expected: Expected = None,
         policy_adviser: Adviser = None, flow: Flow = None, as_json: Json = False) -> None:
    """Wijzig een verwacht verzoek; de voorzitters krijgen de planning met wat er veranderde."""
    from app import planning

    changes = planning.Changes(title, expected, policy_adviser, flow)
    item = planning.edit(service(), stored_id(item_id, "Verzoek"), human_actor(actor), changes)
    _done(item, "is gewijzigd", as_json)


@app.command()
@reports
def cancel(item_id: ItemId, actor: Actor,
           note: Annotated[str | None, typer.Option("--note", help="Waarom het verzoek niet meer komt.")]
           = None, as_json: Json = False) -> None:
    """Schrap een verwacht verzoek uit de planning; de voorzitters krijgen de planning per e-mail."""
    from app import planning

    item = planning.cancel(service(), stored_id(item_id, "Verzoek"), human_actor(actor),
                           checked_note(note))
    _done(item, "is geschrapt uit de planning", as_json)


def _done(item: dict[str, Any], what: str, as_json: bool) -> None:
    if as_json:
        print_json(item)
        return
    out.print(f"Verzoek {item['id']} \"{escape(item['title'])}\" {what} (verwacht op "
              f"{_day(item['expected_on'])}).")


def _table(rows: list[dict[str, Any]]) -> None:
    if not rows:
        out.print("Er staat geen verwachte adviesaanvraag in de planning.")
        return
    table = Table("Nr", "Verwacht", "Titel", "Beleidsadviseur", "Stroom", "Status", "Organisatie",
                  title="Planning", title_justify="left")
    for row in rows:
        status = STATUS.get(row["status"], row["status"])
        if row["trajectory_id"]:
            status += f" (traject {row['trajectory_id']})"
        table.add_row(str(row["id"]), _day(row["expected_on"]), escape(row["title"]),
                      escape(row["policy_adviser"]), row["flow"] or "nog niet bekend", status,
                      row["organisation"])
    out.print(table)


def _day(iso: str) -> str:
    return format_date(date.fromisoformat(iso))
