"""Human-readable output of trajectories and deadlines (Dutch)."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

from rich.markup import escape
from rich.table import Table

from app.reports import DEFAULT_LIMIT, Page
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


def trajectory_page(page: Page) -> None:
    """A page of `advies list`: one aligned line per trajectory, then the line that says which
    rows these are and how to see the next ones."""
    if not page.total:
        _write("Geen trajecten gevonden.")
        return
    columns(("Nr", "Soort", "Stap", "Eerstvolgende termijn", "Titel"), (
        (str(row["id"]), row["flow_title"],
         row["state_label"] + (" (opgeschort)" if row["suspended"] else ""),
         (row["next_due"] or "") + (" (verlopen)" if row["overdue"] else ""), row["title"])
        for row in page.rows))
    _write(footer(page, "traject", "trajecten"))


def deadline_page(page: Page) -> None:
    """A page of `advies deadlines`, as `trajectory_page`."""
    if not page.total:
        _write("Geen termijnen.")
        return
    columns(("Traject", "Einddatum", "Status", "Termijn", "Uitleg"), (
        (str(row["trajectory_id"]), row["due"], labels.status(row["status"]), row["label"],
         " ".join(row["explanation"].split()))
        for row in page.rows))
    _write(footer(page, "termijn", "termijnen"))


def columns(header: tuple[str, ...], lines: Iterable[tuple[str, ...]]) -> None:
    """Aligned columns, written line by line; the last one (a title, an explanation) as long as
    it is. The widths are those of the header and of the lines: at most a page of them. No
    lines (a page past the end): nothing, not even the header."""
    made = list(lines)
    if not made:
        return
    widths = [max([len(name), *(len(line[n]) for line in made)]) for n, name in enumerate(header[:-1])]
    for line in (header, *made):
        _write("  ".join([*(cell.ljust(width) for cell, width in zip(line, widths, strict=False)),
                          line[-1]]).rstrip())


def footer(page: Page, one: str, many: str) -> str:
    """The last line of a page: "1–50 van 100.000 trajecten. Volgende: --offset 50" (the next
    page with the same --limit); past the end, where the last page starts."""
    total = f"{dutch_number(page.total)} {one if page.total == 1 else many}"
    if not page.rows:
        last = (page.total - 1) // page.limit * page.limit
        there = "er is" if page.total == 1 else "er zijn"
        return (f"Geen {many} vanaf --offset {page.offset}: {there} {total}. "
                f"Laatste pagina: --offset {last}{_limit(page)}")
    first, end = page.offset + 1, page.offset + len(page.rows)
    shown = dutch_number(first) if first == end else f"{dutch_number(first)}–{dutch_number(end)}"
    following = page.next_offset
    more = f" Volgende: --offset {following}{_limit(page)}" if following is not None else ""
    return f"{shown} van {total}.{more}"


def _limit(page: Page) -> str:
    return f" --limit {page.limit}" if page.limit != DEFAULT_LIMIT else ""


def dutch_number(value: int) -> str:
    """100000 as the Dutch write it: 100.000."""
    return f"{value:,}".replace(",", ".")


def _write(line: str) -> None:
    sys.stdout.write(line + "\n")
