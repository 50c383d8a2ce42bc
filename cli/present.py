"""Human-readable output of trajectories and deadlines (Dutch)."""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.table import Table

from cli.context import out
from engine import labels

RELATIONS = {"continued_as": "voortgezet als", "continues": "vervolg van"}


def trajectory(view: dict[str, Any]) -> None:
    out.print(f"[bold]Traject {view['id']}[/]: {escape(view['title'])} ({view['flow_title']})")
    suspended = " [yellow](opgeschort)[/]" if view["suspended"] else ""
    out.print(f"Stap: [bold]{escape(view['state_label'])}[/] ({view['state']}){suspended}")
    if view["allowed_events"]:
        names = view.get("allowed_labels", {})
        out.print("Mogelijke gebeurtenissen: " + ", ".join(
            f"{escape(names.get(e, e))} ({e})" for e in view["allowed_events"]))
    for link in view.get("links", []):
        out.print(f"Gekoppeld: {RELATIONS.get(link['relation'], link['relation'])} traject "
                  f"{link['id']} ({link['flow']}): {escape(link.get('title', ''))}")
    deadlines(view["deadlines"], with_trajectory=False)
    if view["history"]:
        table = Table("Wanneer (Amsterdam)", "Wie", "Gebeurtenis", "Naar", title="Geschiedenis",
                      title_justify="left")
        for entry in view["history"]:
            table.add_row(entry.get("at_local", entry["at"]), escape(entry["actor"]),
                          escape(entry.get("event_label", entry["event"])), entry["to"])
        out.print(table)


def deadlines(rows: list[dict[str, Any]], *, with_trajectory: bool = True) -> None:
    if not rows:
        out.print("Geen termijnen.")
        return
    table = Table(title="Termijnen", title_justify="left", show_lines=True)
    if with_trajectory:
        table.add_column("Traject")
    for name in ("Termijn", "Einddatum", "Status", "Uitleg"):
        table.add_column(name)
    for row in rows:
        cells = [row["label"], row["due"], labels.status(row["status"]),
                 escape(row["explanation"])]
        table.add_row(*([str(row["trajectory_id"])] if with_trajectory else []), *cells)
    out.print(table)


def listing(rows: list[dict[str, Any]]) -> None:
    if not rows:
        out.print("Geen trajecten gevonden.")
        return
    table = Table("Nr", "Titel", "Soort", "Stap", "Eerstvolgende termijn")
    for row in rows:
        table.add_row(str(row["id"]), escape(row["title"]), row["flow_title"], row["state_label"],
                      row.get("next_due") or "")
    out.print(table)
