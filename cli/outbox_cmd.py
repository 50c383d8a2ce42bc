"""`advies outbox [--failed] [--json]` and `advies outbox retry ID`: the mail and how it is doing."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from cli.context import database, out, print_json, reports, settings, stored_id
from engine.clock import AMSTERDAM
from notifications import outbox
from storage.db import transaction

app = typer.Typer(help="De uitgaande post: welke mail is verstuurd, wacht nog of is mislukt.")

Json = Annotated[bool, typer.Option("--json", help="Uitvoer als JSON.")]

STATUS = {
    outbox.QUEUED: "wacht",
    outbox.SENDING: "wordt verstuurd",
    outbox.SENT: "verstuurd",
    outbox.FAILED: "mislukt",
}


@app.callback(invoke_without_command=True)
@reports
def listing(ctx: typer.Context,
            failed: Annotated[bool, typer.Option("--failed", help="Alleen mail die niet aankwam.")]
            = False, as_json: Json = False) -> None:
    """Toon de uitgaande post en hoe ver elke mail is."""
    if ctx.invoked_subcommand:
        return
    engine = database()
    try:
        with transaction(engine) as session:
            rows = [outbox.as_dict(row) for row in outbox.rows(session, failed_only=failed)]
    finally:
        engine.dispose()
    if as_json:
        print_json(rows)
        return
    _table(rows, failed)


@app.command()
@reports
def retry(outbox_id: Annotated[int, typer.Argument(metavar="ID", help="Nummer van de mail.")],
          as_json: Json = False) -> None:
    """Zet een mislukte mail opnieuw klaar; de worker verstuurt haar bij de volgende ronde."""
    now = settings().clock.now()
    engine = database()
    try:
        with transaction(engine) as session:
            row = outbox.as_dict(outbox.requeue(session, stored_id(outbox_id, "Mail"), now))
    finally:
        engine.dispose()
    if as_json:
        print_json(row)
        return
    out.print(f"Mail {outbox_id} staat weer klaar. De worker verstuurt haar bij de volgende ronde.")


def _table(rows: list[dict[str, Any]], failed: bool) -> None:
    if not rows:
        out.print("Er is geen mislukte mail." if failed else "De uitgaande post is leeg.")
        return
    table = Table("Nr", "Status")
    table.add_column("Aan", no_wrap=True, min_width=max(len(row["recipient"]) for row in rows))
    table.add_column("Onderwerp", ratio=1)
    details = [_detail(row) for row in rows]
    if any(details):
        table.add_column("Toelichting", ratio=1)
    for row, detail in zip(rows, details, strict=True):
        cells = [str(row["id"]), _status(row), escape(row["recipient"]), escape(row["subject"])]
        table.add_row(*cells, *([escape(detail)] if any(details) else []))
    out.print(table)


def _status(row: dict[str, Any]) -> str:
    label = STATUS.get(row["status"], row["status"])
    return f"{label} ({row['attempts']}x)" if row["attempts"] > 1 else label


def _detail(row: dict[str, Any]) -> str:
    if row["status"] == outbox.SENT:
        return f"op {_local(row['sent_at'])}"
    if row["status"] == outbox.QUEUED and row["last_error"]:
        return f"volgende poging {_local(row['next_attempt_at'])}; {row['last_error']}"
    return str(row["last_error"] or "")


def _local(value: str | None) -> str:
    if not value:
        return ""
    return datetime.fromisoformat(value).astimezone(AMSTERDAM).strftime("%d-%m-%Y %H:%M")
