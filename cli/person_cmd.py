"""`advies person forget EMAIL --org SLUG`: forget a person (AVG), keeping the history's shape."""

from __future__ import annotations

from typing import Annotated

import typer

from app import privacy
from cli.context import database, out, print_json, reports, settings

app = typer.Typer(help="Personen: iemand vergeten (AVG).", no_args_is_help=True)

Json = Annotated[bool, typer.Option("--json", help="Uitvoer als JSON.")]


@app.command()
@reports
def forget(address: Annotated[str, typer.Argument(metavar="EMAIL", help="E-mailadres van de persoon.")],
           org: Annotated[str, typer.Option("--org", help="De organisatie (slug).")],
           as_json: Json = False) -> None:
    """Vervang naam en adres van iemand overal door een vaste schuilnaam; de geschiedenis blijft
    even lang. Kan niet zolang de persoon in een lopend traject of in het organisatiebestand staat."""
    config = settings()
    secret, now = config.signing_key(), config.clock.now()
    engine = database()
    try:
        found = privacy.forget(engine, secret, org, address, now)
    finally:
        engine.dispose()
    if as_json:
        print_json(found.as_dict())
        return
    out.print(_sentence(address, found), markup=False)


def _sentence(address: str, found: privacy.Forgotten) -> str:
    who = f"{found.pseudonym.name} <{found.pseudonym.email}>"
    if found.already_forgotten:
        return f"{address.strip().lower()} was al vergeten en heet {who}."
    return (f"{address.strip().lower()} is vergeten en heet nu {who}: {found.trajectories} traject(en), "
            f"{found.history} regel(s) geschiedenis en {found.mails} mail(s) aangepast, "
            f"{found.purged} mailtekst(en) gewist, {found.cancelled} wachtende mail(s) niet verstuurd.")
