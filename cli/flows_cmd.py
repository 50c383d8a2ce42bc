"""`advies flows migrate` and `advies flows versions`: the versions of the flows, and moving
running trajectories to another version (app.flow_migration)."""

from __future__ import annotations

from typing import Annotated, NoReturn

import typer

from app import flow_migration
from cli.context import database, out, print_json, reports, say_failure, settings
from engine.errors import InvalidInput

Json = Annotated[bool, typer.Option("--json", help="Uitvoer als JSON.")]
#: The highest version number a flow can have (the column is an integer).
MAX_VERSION = 2**31 - 1


def register(flows_app: typer.Typer) -> None:
    """Add these commands to `advies flows`."""
    flows_app.command("migrate")(migrate)
    flows_app.command("versions")(versions)


@reports
def migrate(flow: Annotated[str, typer.Argument(metavar="STROOM", help="De stroom, zoals asked_advice.")],
            to: Annotated[int, typer.Option("--to", help="De versie waarnaar de trajecten gaan.")],
            maps: Annotated[list[str] | None, typer.Option(
                "--map", help="Een stap die de nieuwe versie niet heeft: oude_stap=nieuwe_stap.")] = None,
            dry_run: Annotated[bool, typer.Option(
                "--dry-run", help="Toon alleen wat er zou gebeuren; er verandert niets.")] = False,
            as_json: Json = False) -> None:
    """Zet de lopende trajecten van een stroom over naar een andere versie van die stroom."""
    from flows import flow_versions

    if not 1 <= to <= MAX_VERSION:
        raise InvalidInput(f"--to is een versienummer: een geheel getal vanaf 1, niet {to}.")
    mapping = flow_migration.parse_mapping(maps)
    engine = database()
    try:
        done = flow_migration.migrate(engine, settings().clock, flow_versions(), flow, to,
                                      mapping, dry_run=dry_run)
    except flow_migration.MigrationRefused as refused:
        _refuse(refused, as_json)
    finally:
        engine.dispose()
    if as_json:
        print_json(done.as_dict())
        return
    for line in _lines(done):
        out.print(line, markup=False)


def _refuse(refused: flow_migration.MigrationRefused, as_json: bool) -> NoReturn:
    """Exit 3 with the sentence on stderr; with --json the trajectories concerned as a list."""
    if as_json:
        print_json({"error": refused.message, "exit_code": refused.exit_code,
                    "stuck": [vars(s) for s in refused.stuck]})
    say_failure(refused.message)
    raise typer.Exit(refused.exit_code)


def _lines(done: flow_migration.Migration) -> list[str]:
    name = f"{done.flow_title} ({done.flow})"
    if not done.moves:
        head = f"Geen lopend traject van {name} hoeft naar versie {done.to_version}; er is niets verplaatst."
    elif done.dry_run:
        head = (f"Proef: {len(done.moves)} traject(en) van {name} zouden naar versie "
                f"{done.to_version} gaan; er is niets verplaatst.")
    else:
        head = f"{len(done.moves)} traject(en) van {name} staan nu op versie {done.to_version}."
    lines = [head] + [_move_line(m, done.to_version) for m in done.moves]
    if done.finished_left:
        lines.append(f"{done.finished_left} afgesloten traject(en) blijven op hun eigen versie.")
    return lines


def _move_line(move: flow_migration.Move, to_version: int) -> str:
    step = (f"stap {move.from_state} blijft" if move.from_state == move.to_state
            else f"stap {move.from_state} → {move.to_state}")
    return f"  {move.id} '{move.title}': versie {move.from_version} → {to_version}, {step}"


@reports
def versions(as_json: Json = False) -> None:
    """Toon per stroom de versies en hoeveel trajecten erop lopen en erop zijn afgesloten."""
    from flows import current_of, flow_versions

    registry = flow_versions()
    current = current_of(registry)
    engine = database()
    try:
        found = flow_migration.usage(engine, registry, list(current))
    finally:
        engine.dispose()
    if as_json:
        print_json([{"name": name, "title": current[name].flow.title,
                     "versions": [vars(u) for u in uses]} for name, uses in found.items()])
        return
    for name, uses in found.items():
        out.print(f"{name}: {current[name].flow.title}", markup=False)
        for use in uses:
            now = " (huidige)" if use.current else ""
            out.print(f"  versie {use.version}{now}: {use.running} lopend, {use.finished} afgesloten",
                      markup=False)
