"""`advies`: the command line of Adviestraject (DESIGN.md §6).

Exit codes: 0 ok, 2 bad input, 3 not allowed in this state or for this actor,
4 conflict with a concurrent change, 1 anything else. Every failure, typer's usage errors
included, is one Dutch sentence on stderr, never a traceback (`Advies.__call__`).

Every command starts a fresh interpreter, so each imports only what it uses: the web server,
the worker, migrations and the organisation file are imported inside the commands that need
them (tests/integration/test_cli_start_up.py), not by `advies list`.
"""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from app.reports import DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET, Filters, Reports
from cli import (
    calendar_cmd,
    demo,
    flows_cmd,
    import_cmd,
    outbox_cmd,
    person_cmd,
    planning_cmd,
    present,
    report_cmd,
    serve_cmd,
    worker_cmd,
)
from cli.context import (
    checked_note,
    database,
    human_actor,
    out,
    parse_sets,
    print_json,
    print_utf8,
    reader,
    reports,
    run_safely,
    service,
    settings,
    stored_id,
)
from engine.errors import InvalidInput
from flows import all_flows

if TYPE_CHECKING:
    from settings import Settings


class Advies(typer.Typer):
    """The `advies` command (the console script calls `app()`): it runs the command line and
    exits with its code; a failure of any kind is one Dutch sentence, never a traceback."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        sys.exit(run_safely(typer.main.get_command(self), sys.argv[1:]))


app = Advies(help="Adviestraject: adviestrajecten van aanvraag tot reactie van het college.",
             no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
org_app = typer.Typer(help="Organisaties, mensen en rollen.", no_args_is_help=True)
flows_app = typer.Typer(help="De stromen (flows) en hun stappen.", invoke_without_command=True)
app.add_typer(org_app, name="org")
app.add_typer(flows_app, name="flows")
flows_cmd.register(flows_app)
app.add_typer(calendar_cmd.app, name="calendar")
app.add_typer(outbox_cmd.app, name="outbox")
app.add_typer(person_cmd.app, name="person")
app.add_typer(report_cmd.app, name="report")
app.add_typer(planning_cmd.app, name="planning")

Json = Annotated[bool, typer.Option("--json", help="Uitvoer als JSON.")]
Sets = Annotated[list[str] | None, typer.Option("--set", help="Gegevens als sleutel=waarde.")]
Actor = Annotated[str, typer.Option("--actor", help="E-mailadres van wie dit doet.")]
Note = Annotated[str | None, typer.Option("--note", help="Notitie bij de geschiedenis.")]
Org = Annotated[str | None, typer.Option("--org", help="Alleen deze organisatie (slug).")]
Limit = Annotated[int, typer.Option("--limit", help=f"Regels per pagina, 1 tot en met {MAX_LIMIT}.")]
Offset = Annotated[int, typer.Option("--offset", help="Sla zoveel regels over: de volgende pagina.")]


@app.command()
@reports
def init(demo_data: Annotated[bool, typer.Option("--demo", help="Laad een verzonnen organisatie.")]
         = False) -> None:
    """Maak de database aan of werk haar bij."""
    from app import org_file
    from storage import migrate

    engine = database(create=True)
    migrate.upgrade(engine)
    out.print("Database is klaar.")
    if demo_data:
        config = settings()
        if _made_demo_key(config):
            out.print(f"Geheime sleutel voor de demo aangemaakt in {config.key_file}.")
        path = Path(str(resources.files("cli") / "demo_org.toml"))
        org_file.load(engine, path)
        out.print("Voorbeeldorganisaties 'demo' (Groningen) en 'demo-md' (Midden-Drenthe) geladen.")


def _made_demo_key(config: Settings) -> bool:
    """The demo's key, made once; an `init --demo` running at the same moment may be first."""
    try:
        return config.make_demo_key()
    except FileExistsError:
        return False


@org_app.command("load")
@reports
def org_load(file: Path, as_json: Json = False) -> None:
    """Laad organisaties, mensen, rollen, termijnen en reces uit een TOML-bestand."""
    from app import org_file

    loaded = org_file.load(database(), file)
    summary = [{"slug": o["slug"], "name": o["name"], "people": len(o["people"])} for o in loaded]
    if as_json:
        print_json(summary)
        return
    for org in summary:
        out.print(f"Geladen: {org['name']} ({org['slug']}), {org['people']} personen.")


@org_app.command("export")
@reports
def org_export(slug: str,
               output: Annotated[Path | None, typer.Option(
                   "--output", "-o", help="Schrijf naar dit bestand in plaats van naar het scherm.")] = None,
               overwrite: Annotated[bool, typer.Option(
                   "--overwrite", help="Een bestaand bestand mag worden overschreven.")] = False) -> None:
    """Schrijf een organisatie zoals ze nu in de database staat als organisatiebestand (TOML),
    dat 'advies org load' weer inleest."""
    from app import org_edit, org_file

    text = org_edit.file_text(database(), slug)
    if output is None:
        print_utf8(text)
        return
    org_file.save(output, text, overwrite=overwrite)
    out.print(f"Organisatiebestand van '{slug}' geschreven naar {output}.", markup=False)




@app.command()
@reports
def start(flow: str, org: Annotated[str, typer.Option("--org")],
          title: Annotated[str, typer.Option("--title")], actor: Actor,
          sets: Sets = None, note: Note = None,
          planned: Annotated[int | None, typer.Option(
              "--planned", help="Het nummer van het verzoek in de planning dat zo start.")] = None,
          as_json: Json = False) -> None:
    """Start een nieuw traject."""
    view = service().start(flow, org, title, human_actor(actor), parse_sets(sets), checked_note(note),
                           stored_id(planned, "Verzoek") if planned is not None else None)
    print_json(view) if as_json else present.trajectory(view)


@app.command()
@reports
def fire(trajectory_id: Annotated[int, typer.Argument(metavar="ID")], event: str, actor: Actor,
         sets: Sets = None, note: Note = None, as_json: Json = False) -> None:
    """Laat een gebeurtenis plaatsvinden in een traject."""
    view = service().fire(stored_id(trajectory_id, "Traject"), event, human_actor(actor),
                          parse_sets(sets), checked_note(note))
    print_json(view) if as_json else present.trajectory(view)


@app.command()
@reports
def show(trajectory_id: Annotated[int, typer.Argument(metavar="ID")], as_json: Json = False) -> None:
    """Toon een traject: stap, termijnen en geschiedenis."""
    view = service().show(stored_id(trajectory_id, "Traject"))
    print_json(view) if as_json else present.trajectory(view)


@app.command("list")
@reports
def list_(flow: Annotated[str | None, typer.Option("--flow")] = None,
          state: Annotated[str | None, typer.Option("--state")] = None,
          overdue: Annotated[bool, typer.Option("--overdue", help="Alleen met verlopen termijn.")]
          = False, org: Org = None, limit: Limit = DEFAULT_LIMIT, offset: Offset = 0,
          as_json: Json = False) -> None:
    """Toon de trajecten, een pagina tegelijk, op nummer."""
    paged = paging(limit, offset)
    page = Reports(reader()).trajectories(Filters(org, flow, state, overdue), **paged)
    print_json(page.rows) if as_json else present.trajectory_page(page)


@app.command()
@reports
def deadlines(org: Org = None, limit: Limit = DEFAULT_LIMIT, offset: Offset = 0,
              as_json: Json = False) -> None:
    """Toon de lopende termijnen, een pagina tegelijk, de eerste bovenaan."""
    paged = paging(limit, offset)
    page = Reports(reader()).deadlines(org, **paged)
    print_json(page.rows) if as_json else present.deadline_page(page)


def paging(limit: int, offset: int) -> dict[str, int]:
    """`--limit` and `--offset` as the database can take them; anything else is bad input."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"--limit is het aantal regels per pagina: een geheel getal van 1 tot "
                           f"en met {MAX_LIMIT}.")
    if not 0 <= offset <= MAX_OFFSET:
        raise InvalidInput(f"--offset is het aantal regels dat wordt overgeslagen: een geheel getal "
                           f"van 0 tot en met {MAX_OFFSET}.")
    return {"limit": limit, "offset": offset}


@flows_app.callback()
@reports
def flows_list(ctx: typer.Context, as_json: Json = False) -> None:
    """Toon de stromen die Adviestraject kent."""
    if ctx.invoked_subcommand:
        return
    rows: list[dict[str, Any]] = [{"name": f.name, "title": f.flow.title, "version": f.flow.version,
                                   "states": [s.name for s in f.flow.states]} for f in all_flows().values()]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        out.print(f"{row['name']}: {row['title']} (versie {row['version']}, {len(row['states'])} stappen)")


@flows_app.command("show")
@reports
def flows_show(name: str, fmt: Annotated[str, typer.Option("--format", help="md, mermaid of svg")]
               = "md") -> None:
    """Toon een stroom als tabel (md), diagram (mermaid) of plaatje (svg)."""
    from engine import render

    flows = all_flows()
    if name not in flows:
        raise InvalidInput(f"Onbekende stroom '{name}'. Bekend: {', '.join(flows)}.")
    if fmt == "md":
        typer.echo(render.markdown(flows[name]))
    elif fmt == "mermaid":
        typer.echo(render.mermaid(flows[name]))
    elif fmt == "svg":
        typer.echo(render.svg(flows[name]))
    else:
        raise InvalidInput(f"Onbekend formaat '{fmt}': kies md, mermaid of svg.")


@app.command("inloglink")
@reports
def sign_in_link(email: str, org: Annotated[str, typer.Option("--org")]) -> None:
    """Maak een inloglink voor de webpagina's (15 minuten, één keer), voor een beheerder."""
    from app.sign_in import SignIn

    found = service()
    found.settings.signing_key()
    out.print(SignIn(found).link_for(email, org), soft_wrap=True)


app.command(name="demo")(reports(demo.run))
app.command(name="serve")(serve_cmd.serve)
app.command(name="worker")(worker_cmd.worker)
app.command(name="import")(import_cmd.import_file)
