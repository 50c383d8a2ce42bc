"""The dossier as one self-contained HTML file: its style inline, no script, nothing fetched
from elsewhere, so that it opens from a USB stick years later. Every value is escaped
(Jinja2 autoescape); a Content-Security-Policy in the file itself forbids scripts as well."""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from app import org_file
from app.dossier import Dossier
from engine.errors import InvalidInput

TEMPLATES = Path(__file__).parent / "templates"
SLUG_LENGTH = 60


@cache
def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True,
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def html(dossier: Dossier) -> str:
    return _environment().get_template("dossier.html").render(d=dossier)


def file_name(dossier: Dossier) -> str:
    """'dossier-12-regiovisie-beschermd-wonen.html': ASCII only, safe in any file system."""
    plain = unicodedata.normalize("NFKD", dossier.title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")[:SLUG_LENGTH].rstrip("-")
    return f"dossier-{dossier.id}-{slug or 'traject'}.html"


def save(path: Path, text: str, *, overwrite: bool) -> None:
    """Write the file whole or not at all, an existing one only with `overwrite` (as an
    organisation file is written); InvalidInput (one Dutch sentence) when it cannot be."""
    if path.is_dir():
        raise InvalidInput(f"'{path}' is een map. Geef de naam van een bestand, zoals "
                           f"{path / 'dossier.html'}.")
    org_file.save(path, text, overwrite=overwrite)
