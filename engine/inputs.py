"""Turn what a person typed (`--set key=value`, a web form) into checked event data."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from engine import labels
from engine.dsl import Field, Words
from engine.errors import InvalidInput, NotFound
from engine.terms import TermError, format_date, parse_term

EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
#: Control characters and every Unicode line break (C0, DEL, C1 with NEL U+0085, U+2028/U+2029):
#: none of them may stand in a name, title, subject or address (they end a mail header line).
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
#: In a document or note only the tab survives; line breaks are normalised to "\n" first.
CONTROL_BUT_NEWLINE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
MAX_TEXT = 300
MAX_LONGTEXT = 20_000
MAX_NOTE = 2_000


def valid_email(value: str) -> bool:
    return len(value) <= 254 and EMAIL.match(value) is not None


def check_email(value: str, what: str = "e-mailadres") -> str:
    cleaned = value.strip().lower()
    if not valid_email(cleaned):
        raise InvalidInput(f"'{value}' is geen geldig {what}.")
    return cleaned


def check_line(value: str, what: str) -> str:
    """One line of text, as used for names, titles and subjects."""
    cleaned = value.strip()
    if CONTROL.search(cleaned):
        raise InvalidInput(f"{what} mag geen regelovergang of stuurteken bevatten.")
    if not cleaned:
        raise InvalidInput(f"{what} mag niet leeg zijn.")
    if len(cleaned) > MAX_TEXT:
        raise InvalidInput(f"{what} is te lang (meer dan {MAX_TEXT} tekens).")
    return cleaned


#: The days a person may enter at all: earlier or later is a typing error, not a trajectory
#: (a back-dated year would send an alert for every week since; a year near 9999 breaks every
#: term). These bounds are fixed so that every caller gets them; the use cases also refuse a
#: date more than `engine.terms.FUTURE_YEARS` after today, which only they know.
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2099, 12, 31)


def parse_day(value: str, what: str) -> date:
    """A day written as 2026-03-24 or 24-03-2026, between EARLIEST_DAY and LATEST_DAY."""
    text = value.strip()
    for fmt in ("%Y-%m-%d", "%d-%m-%Y"):
        try:
            day = datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        if not EARLIEST_DAY <= day <= LATEST_DAY:
            raise InvalidInput(f"{what}: {format_date(day)} kan niet kloppen; een datum "
                               f"ligt tussen {EARLIEST_DAY.year} en {LATEST_DAY.year}.")
        return day
    raise InvalidInput(f"{what}: '{value}' is geen datum. Schrijf bijvoorbeeld 2026-03-24.")


def _time(value: str, what: str) -> str:
    try:
        return datetime.strptime(value.strip(), "%H:%M").strftime("%H:%M")
    except ValueError as error:
        raise InvalidInput(f"{what}: '{value}' is geen tijd. Schrijf bijvoorbeeld 19:30.") from error


def with_newlines(value: str) -> str:
    """Every line break (CRLF from Windows, CR, U+2028, Word's U+000B, ...) as one "\n"."""
    return "\n".join(value.splitlines())


def check_text(value: str, what: str, limit: int = MAX_LONGTEXT) -> str:
    """Text of several lines (a document, a note): line breaks become "\n", other control
    characters are refused."""
    cleaned = with_newlines(value).strip()
    if CONTROL_BUT_NEWLINE.search(cleaned):
        raise InvalidInput(f"{what} bevat een stuurteken.")
    if not cleaned or len(cleaned) > limit:
        raise InvalidInput(f"{what} moet tussen 1 en {limit} tekens lang zijn.")
    return cleaned


def check_note(value: str | None) -> str | None:
    """The note with an event (`--note`): like a document, at most MAX_NOTE characters."""
    if value is None:
        return None
    return check_text(value, "De notitie", MAX_NOTE)


def _url(value: str, what: str) -> str:
    cleaned = check_line(value, what)
    parts = urlsplit(cleaned)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput(f"{what}: '{value}' is geen webadres (begin met https://).")
    return cleaned


def _term(value: str, what: str) -> str:
    try:
        parse_term(value)
    except TermError as error:
        raise InvalidInput(f"{what}: {error}") from error
    return value.strip()


def _int(value: str, what: str) -> int:
    try:
        return int(value.strip())
    except ValueError as error:
        raise InvalidInput(f"{what}: '{value}' is geen geheel getal.") from error


def coerce(
    fields: tuple[Field, ...],
    raw: Mapping[str, str],
    *,
    event: str,
    is_person: Callable[[str], bool],
    groups: Collection[str] = (),
    has_role: Callable[[str, str], bool] | None = None,
) -> dict[str, Any]:
    """Check every given value against the event's fields; refuse unknown and missing ones."""
    by_name = {f.name: f for f in fields}
    unknown = sorted(set(raw) - set(by_name))
    if unknown:
        allowed = ", ".join(by_name) or "geen"
        raise InvalidInput(
            f"'{event}' kent het veld '{unknown[0]}' niet. Velden die wel kunnen: {allowed}."
        )
    checked: dict[str, Any] = {}
    for f in fields:
        value = raw.get(f.name)
        if value is None or not value.strip():
            if f.required:
                raise InvalidInput(
                    f"'{event}' heeft '{f.name}' ({f.label}) nodig: gebruik --set {f.name}=..."
                )
            continue
        checked[f.name] = _one(f, value, is_person, groups)
        if f.role and has_role is not None and not has_role(checked[f.name], f.role):
            raise NotFound(f"{checked[f.name]} heeft niet de rol {labels.role(f.role, Words())} "
                           f"en kan dus geen {f.label} zijn.")
    return checked


def _one(f: Field, value: str, is_person: Callable[[str], bool], groups: Collection[str]) -> Any:
    what = f"{f.label} ({f.name})"
    if f.kind == "person":
        return _person(value, f, is_person)
    if f.kind == "people":
        found = [_person(v, f, is_person) for v in value.split(",") if v.strip()]
        if not found:
            raise InvalidInput(f"{what}: geef een of meer e-mailadressen, gescheiden door komma's.")
        return list(dict.fromkeys(found))
    if f.kind == "choice":
        return _choice(f, value, what)
    if f.kind == "group":
        return _group(f, value, what, groups)
    if f.kind == "date":
        return parse_day(value, what).isoformat()
    return _CHECKS[f.kind](value, what)


def _person(value: str, f: Field, is_person: Callable[[str], bool]) -> str:
    email = check_email(value, f"e-mailadres voor {f.label}")
    if not is_person(email):
        raise NotFound(f"{email} staat niet in het bestand van de organisatie.")
    return email


def _choice(f: Field, value: str, what: str) -> str:
    cleaned = value.strip()
    picked = next((o for o in f.options if o.lower() == cleaned.lower()), None)
    if picked is None:
        raise InvalidInput(f"{what}: '{value}' kan niet. Kies uit: {', '.join(f.options)}.")
    reason = dict(f.refused).get(picked)
    if reason:
        raise InvalidInput(reason)
    return picked


def _group(f: Field, value: str, what: str, groups: Collection[str]) -> str:
    cleaned = value.strip()
    picked = next((g for g in (*groups, *f.options) if g.lower() == cleaned.lower()), None)
    if picked is None:
        known = ", ".join((*groups, *f.options)) or "de organisatie heeft er nog geen"
        raise NotFound(f"{what}: de groep '{value}' bestaat niet. Groepen: {known}.")
    return picked


_CHECKS: dict[str, Callable[[str, str], Any]] = {
    "text": check_line,
    "deadline": check_line,
    "longtext": check_text,
    "url": _url,
    "time": _time,
    "term": _term,
    "int": _int,
}
