"""Read the rows of an import file: CSV with a header row, or JSON lines. No checks of meaning
(app.importer checks every value); here only the shape: UTF-8, a header with the needed columns,
one object per JSON line. Every row keeps the line of the file it starts on."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Collection
from dataclasses import dataclass

from engine.errors import InvalidInput

#: The columns every row needs.
NEEDED = ("flow", "organisation", "title", "state")
#: Names a spreadsheet may use for a column, and the column they mean.
ALIASES = {"entered_on": "since", "organization": "organisation", "org": "organisation"}
JSON_LINES = (".jsonl", ".ndjson")
#: The separators of a list of people in one cell (a comma is kept for the engine's own lists).
LIST_SEPARATORS = (";", "|")


@dataclass(frozen=True)
class Row:
    """One row of the file: the line it starts on and its values by column, as text."""

    line: int
    values: dict[str, str]


def read(name: str, content: bytes, known: Collection[str]) -> list[Row]:
    """The rows of a file named `name`; bad input (one Dutch sentence) for a file that cannot
    be read as a whole: not UTF-8, empty, a header without the needed or with unknown columns."""
    text = _text(content)
    if name.lower().endswith(JSON_LINES):
        rows = _json_lines(text)
    else:
        rows = _csv(text, known)
    if not rows:
        raise InvalidInput("Het bestand heeft geen regels met trajecten.")
    return rows


def _text(content: bytes) -> str:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidInput("Het bestand is geen UTF-8-tekst. Sla het op als 'CSV UTF-8' of "
                           "als JSON lines.") from error
    if not text.strip():
        raise InvalidInput("Het bestand is leeg.")
    return text


def _csv(text: str, known: Collection[str]) -> list[Row]:
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [_column(h) for h in next(reader)]
    _check_header(header, known)
    rows: list[Row] = []
    line = reader.line_num
    for cells in reader:
        start, line = line + 1, reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header):
            rows.append(Row(start, {"": f"heeft {len(cells)} cellen, de kopregel maar "
                                        f"{len(header)}"}))
            continue
        rows.append(Row(start, dict(zip(header, cells, strict=False))))
    return rows


def _check_header(header: list[str], known: Collection[str]) -> None:
    missing = [c for c in NEEDED if c not in header]
    if missing:
        raise InvalidInput(f"De kopregel mist de kolom{'men' if len(missing) > 1 else ''} "
                           f"{', '.join(missing)}. Zet de kolomnamen op de eerste regel.")
    unknown = [c for c in header if c not in known]
    if unknown:
        raise InvalidInput(f"De kolom '{unknown[0] or '(leeg)'}' is onbekend. Kolommen die kunnen: "
                           f"{', '.join(sorted(known))}.")
    doubled = next((c for c in header if header.count(c) > 1), None)
    if doubled:
        raise InvalidInput(f"De kolom '{doubled}' staat twee keer in de kopregel.")


def _column(name: str) -> str:
    cleaned = name.strip().lower()
    return ALIASES.get(cleaned, cleaned)


def _json_lines(text: str) -> list[Row]:
    rows: list[Row] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            rows.append(Row(number, _object(line)))
    return rows


def _object(line: str) -> dict[str, str]:
    """One JSON line as text values by column; a problem of the line as the value of ''."""
    try:
        found = json.loads(line)
    except ValueError:
        return {"": "is geen geldige JSON"}
    if not isinstance(found, dict):
        return {"": "is geen JSON-object ({...})"}
    return {_column(str(k)): _cell(v) for k, v in found.items()}


def _cell(value: object) -> str:
    """A JSON value as a spreadsheet cell: a list of people joined by ';'."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return str(value)


def people_list(cell: str) -> str:
    """A cell with e-mail addresses separated by ';' or '|' (as a spreadsheet holds them) as
    the engine's list, separated by commas."""
    for separator in LIST_SEPARATORS:
        cell = cell.replace(separator, ",")
    return cell
