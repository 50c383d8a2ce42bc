"""`advies report dossier ID [--output FILE] [--overwrite]`: the dossier of one trajectory as one
self-contained HTML file, for the archive (app.dossier). Without --output the HTML goes to
stdout in UTF-8. Registered on the `report` sub-app by cli.report_cmd."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.context import out, print_utf8, reports, service, stored_id


@reports
def dossier(trajectory_id: Annotated[int, typer.Argument(metavar="ID", help="Het nummer van het traject.")],
            output: Annotated[Path | None, typer.Option(
                "--output", "-o", help="Schrijf naar dit bestand in plaats van naar het scherm.")] = None,
            overwrite: Annotated[bool, typer.Option(
                "--overwrite", help="Een bestaand bestand mag worden overschreven.")] = False) -> None:
    """Het dossier van een traject als één HTML-bestand voor het archief: de aanvraag, de groep,
    documenten en besluiten, termijnen, e-mails en de hele geschiedenis."""
    from app import dossier_file
    from app.dossier import read

    found = service()
    made = read(found.engine, found.compiled_for, stored_id(trajectory_id, "Traject"),
                found.clock.now())
    text = dossier_file.html(made)
    if output is None:
        print_utf8(text)
        return
    dossier_file.save(output, text, overwrite=overwrite)
    out.print(f"Dossier van traject {made.id} geschreven naar {output}.", markup=False)


