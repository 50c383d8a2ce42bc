"""Read the organisation file (TOML) and write it in one transaction.

Unknown keys and bad values are refused with the line they are on; nothing is written
unless the whole file is right.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w
from sqlalchemy import Engine
from sqlmodel import Session, select

from app import departures
from app.directory import EXTRA_TERMS
from app.sweep_claims import replan_organisation
from engine import inputs
from engine.dsl import KNOWN_ROLES, Words
from engine.errors import InvalidInput
from engine.reminders import StepsError, parse_steps
from engine.terms import TermError, parse_recess, parse_term
from settings import Settings
from storage.db import transaction
from storage.tables import Organisation, Person

#: Terms kept in columns of their own; the flows' other terms live in `Organisation.terms`.
TERM_KEYS = ("advice_term", "response_term", "signup_window")
EXTRA_TERM_KEYS = tuple(EXTRA_TERMS)
ORG_KEYS = {"slug", "name", *TERM_KEYS, *EXTRA_TERM_KEYS, "group_min", "group_max", "recess",
            "reminders", "person", "flows", "words", "group", "mail_retention_months"}
PERSON_KEYS = {"name", "email", "roles"}
WORD_KEYS = set(Words.__dataclass_fields__)
GROUP_KEYS = {"name", "members", "chair"}
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
HEADER = re.compile(r"^\s*\[\[?\s*(organisation(?:\.person|\.group|\.words)?)\s*\]\]?")
KEY = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_-]*)\s*=")


BOM = "\ufeff"  # Windows editors start a UTF-8 file with it
TOML_PLACE = re.compile(r"at line (\d+), column (\d+)")


def read_toml(text: str, what: str) -> dict[str, Any]:
    """`text` as TOML; InvalidInput in Dutch (with the line) when it is not, or nested so deep
    that it cannot be read."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        place = TOML_PLACE.search(str(error))
        where = f" (regel {place.group(1)}, kolom {place.group(2)})" if place else ""
        raise InvalidInput(f"{what} is geen geldige TOML{where}: controleer daar de aanhalingstekens, "
                           "haakjes en het '='-teken.") from error
    except RecursionError as error:
        raise InvalidInput(f"{what} is te diep genest om te lezen: zoveel haakjes in elkaar "
                           "horen niet in een organisatiebestand.") from error


@dataclass
class Lines:
    """Where each table and key of the file stands, to name the line of a problem."""

    tables: list[tuple[str, int, dict[str, int]]] = field(default_factory=list)

    @classmethod
    def scan(cls, text: str) -> Lines:
        found = cls()
        for number, line in enumerate(text.splitlines(), start=1):
            header, key = HEADER.match(line), KEY.match(line)
            if header:
                found.tables.append((header.group(1), number, {}))
            elif key and found.tables:
                found.tables[-1][2].setdefault(key.group(1), number)
        return found

    def line(self, kind: str, index: int, key: str | None = None) -> int:
        tables = [t for t in self.tables if t[0] == kind]
        if index >= len(tables):
            return 0
        _, header_line, keys = tables[index]
        return keys.get(key, header_line) if key else header_line


class FileProblem(InvalidInput):
    """Bad input in the organisation's data; `key` names the key it is about (None: the block)."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


@dataclass
class Problem:
    lines: Lines
    kind: str
    index: int

    def fail(self, message: str, key: str | None = None) -> FileProblem:
        line = self.lines.line(self.kind, self.index, key)
        return FileProblem(f"regel {line}: {message}" if line else message, key)


def parse(text: str) -> list[dict[str, Any]]:
    """The organisations in the file, checked; InvalidInput names the line of a problem."""
    text = text.removeprefix(BOM)
    doc = read_toml(text, "Het bestand")
    if set(doc) - {"organisation"} or not doc.get("organisation"):
        raise InvalidInput("Het bestand moet een of meer [[organisation]]-blokken hebben, en verder niets.")
    lines = Lines.scan(text)
    firsts = {"person": 0, "group": 0}
    orgs = []
    for index, raw in enumerate(doc["organisation"]):
        orgs.append(_org(raw, Problem(lines, "organisation", index), lines, dict(firsts)))
        for kind in firsts:
            firsts[kind] += len(raw.get(kind, [])) if isinstance(raw.get(kind), list) else 0
    _no_double_slugs(orgs, lines)
    return orgs


def check(raw: dict[str, Any]) -> dict[str, Any]:
    """One organisation given as the data of one [[organisation]] block (as `advies org load`
    reads it from the file), checked exactly as the file is; FileProblem (without a line) when
    something is wrong. What `write` takes."""
    lines = Lines()
    return _org(raw, Problem(lines, "organisation", 0), lines, {"person": 0, "group": 0})


def _org(raw: dict[str, Any], where: Problem, lines: Lines, firsts: dict[str, int]) -> dict[str, Any]:
    _known_keys(raw, ORG_KEYS, where)
    org: dict[str, Any] = {"slug": _slug(raw, where), "name": _line(raw, "name", where)}
    for key in TERM_KEYS:
        if key in raw:
            org[key] = _term(raw[key], key, where)
    org["terms"] = {k: _term(raw[k], k, where) for k in EXTRA_TERM_KEYS if k in raw}
    org["flows"] = _flows(raw, where)
    org["words"] = _words(raw, Problem(lines, "organisation.words", where.index))
    org.update(_group_sizes(raw, where))
    org["recess"] = _recess(raw, where)
    org["reminders"] = _reminders(raw, where)
    org["mail_retention_months"] = _retention(raw, where)
    first_person = firsts["person"]
    people = raw.get("person", [])
    org["people"] = [_person(p, Problem(lines, "organisation.person", first_person + i))
                     for i, p in enumerate(people)]
    _no_double_emails(org["people"], Problem(lines, "organisation.person", first_person))
    emails = {p["email"] for p in org["people"]}
    groups = raw.get("group", [])
    if not isinstance(groups, list):
        raise where.fail("schrijf groepen als [[organisation.group]]-blokken.", "group")
    org["groups"] = [_group(g, emails, Problem(lines, "organisation.group", firsts["group"] + i))
                     for i, g in enumerate(groups)]
    _no_double_groups(org["groups"], Problem(lines, "organisation.group", firsts["group"]))
    return org


def _flows(raw: dict[str, Any], where: Problem) -> list[str] | None:
    """The flows this organisation may start (absent: all of them)."""
    from flows import all_flows

    value = raw.get("flows")
    if value is None:
        return None
    known = list(all_flows())
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise where.fail(f"'flows' moet een lijst met stromen zijn, uit: {', '.join(known)}.", "flows")
    unknown = [v for v in value if v not in known]
    if unknown:
        raise where.fail(f"onbekende stroom '{unknown[0]}'. Stromen: {', '.join(known)}.", "flows")
    return list(dict.fromkeys(value))


def _words(raw: dict[str, Any], where: Problem) -> dict[str, str]:
    """The organisation's own words: council, member, members, group, secretariat."""
    value = raw.get("words", {})
    if not isinstance(value, dict):
        raise where.fail("schrijf de woorden als [organisation.words] met council, member en group.")
    _known_keys(value, WORD_KEYS, where)
    words = {key: _line(value, key, where) for key in value}
    if "member" in words and "members" not in words:
        words["members"] = plural(words["member"])
    return words


def plural(word: str) -> str:
    """A Dutch plural good enough for the words councils use: lid → leden, deelnemer → deelnemers."""
    irregular = {"lid": "leden"}
    if word.lower() in irregular:
        return irregular[word.lower()]
    return f"{word}s" if word.endswith(("er", "el", "em", "en", "je", "e")) else f"{word}en"


def _group(raw: Any, emails: set[str], where: Problem) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise where.fail("een groep moet een [[organisation.group]]-blok zijn.")
    _known_keys(raw, GROUP_KEYS, where)
    name = _line(raw, "name", where)
    members = raw.get("members")
    if not isinstance(members, list) or not members or not all(isinstance(m, str) for m in members):
        raise where.fail("'members' moet een lijst met minstens één e-mailadres zijn.", "members")
    cleaned = list(dict.fromkeys(m.strip().lower() for m in members))
    strangers = [m for m in cleaned if m not in emails]
    if strangers:
        raise where.fail(f"{strangers[0]} staat niet bij de personen van deze organisatie.", "members")
    chair = raw.get("chair")
    if chair is not None:
        chair = chair.strip().lower() if isinstance(chair, str) else chair
        if chair not in cleaned:
            raise where.fail("'chair' moet een van de leden van de groep zijn.", "chair")
    return {"name": name, "members": cleaned, "chair": chair}


def _no_double_groups(groups: list[dict[str, Any]], where: Problem) -> None:
    names = [g["name"].lower() for g in groups]
    for name in names:
        if names.count(name) > 1:
            raise where.fail(f"de groep '{name}' staat er twee keer in.")


def _known_keys(raw: dict[str, Any], allowed: set[str], where: Problem) -> None:
    for key in raw:
        if key not in allowed:
            raise where.fail(f"onbekende sleutel '{key}'. Toegestaan: {', '.join(sorted(allowed))}.", key)


def _slug(raw: dict[str, Any], where: Problem) -> str:
    slug = raw.get("slug")
    if not isinstance(slug, str) or not SLUG.match(slug):
        raise where.fail("'slug' moet bestaan uit kleine letters, cijfers en streepjes.", "slug")
    return slug


def _line(raw: dict[str, Any], key: str, where: Problem) -> str:
    value = raw.get(key)
    if not isinstance(value, str):
        raise where.fail(f"'{key}' ontbreekt of is geen tekst.", key)
    try:
        return inputs.check_line(value, f"'{key}'")
    except InvalidInput as error:
        raise where.fail(error.message, key) from error


def _term(value: Any, key: str, where: Problem) -> str:
    try:
        term = parse_term(str(value))
    except TermError as error:
        raise where.fail(f"'{key}': {error}", key) from error
    if term.kind == "date":
        raise where.fail(f"'{key}' moet een duur zijn (zoals 6w), geen datum.", key)
    return str(value).strip()


def _group_sizes(raw: dict[str, Any], where: Problem) -> dict[str, int]:
    sizes = {"group_min": raw.get("group_min", 5), "group_max": raw.get("group_max", 10)}
    for key, value in sizes.items():
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 100:
            raise where.fail(f"'{key}' moet een geheel getal van 1 tot 100 zijn.", key)
    if sizes["group_min"] > sizes["group_max"]:
        raise where.fail("'group_min' mag niet groter zijn dan 'group_max'.", "group_min")
    return sizes


def _recess(raw: dict[str, Any], where: Problem) -> tuple[str, str] | None:
    value = raw.get("recess")
    if value is None:
        return None
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)):
        raise where.fail("'recess' moet twee datums zijn, zoals [\"07-01\", \"08-31\"].", "recess")
    try:
        parse_recess(f"{value[0]}:{value[1]}")
    except TermError as error:
        raise where.fail(f"'recess': {error}", "recess") from error
    return value[0], value[1]


def _reminders(raw: dict[str, Any], where: Problem) -> list[str] | None:
    """Optional: when reminders and alerts go, e.g. ["-5wd", "0", "+1wd"]; absent: the default."""
    value = raw.get("reminders")
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise where.fail("'reminders' moet een lijst met stappen zijn, zoals [\"-5wd\", \"0\", \"+1wd\"].",
                         "reminders")
    try:
        parse_steps(value)
    except StepsError as error:
        raise where.fail(f"'reminders': {error}", "reminders") from error
    return [v.strip().lower() for v in value]


def _retention(raw: dict[str, Any], where: Problem) -> int:
    """How many months sent mail bodies are kept (AVG); absent: 24."""
    value = raw.get("mail_retention_months", 24)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 120:
        raise where.fail("'mail_retention_months' moet een geheel getal van 1 tot 120 (maanden) zijn.",
                         "mail_retention_months")
    return value


def _person(raw: dict[str, Any], where: Problem) -> dict[str, Any]:
    _known_keys(raw, PERSON_KEYS, where)
    email = raw.get("email")
    if not isinstance(email, str) or not inputs.valid_email(email.strip().lower()):
        raise where.fail(f"'{email}' is geen geldig e-mailadres.", "email")
    roles = raw.get("roles")
    if not isinstance(roles, list) or not roles or not all(isinstance(r, str) for r in roles):
        raise where.fail("'roles' moet een lijst met minstens één rol zijn.", "roles")
    unknown = sorted(set(roles) - KNOWN_ROLES)
    if unknown:
        raise where.fail(f"onbekende rol '{unknown[0]}'. Rollen: {', '.join(sorted(KNOWN_ROLES))}.", "roles")
    return {"name": _line(raw, "name", where), "email": email.strip().lower(), "roles": list(roles)}


def _no_double_emails(people: list[dict[str, Any]], where: Problem) -> None:
    seen: set[str] = set()
    for person in people:
        if person["email"] in seen:
            raise where.fail(f"{person['email']} staat twee keer in deze organisatie.")
        seen.add(person["email"])


def _no_double_slugs(orgs: list[dict[str, Any]], lines: Lines) -> None:
    slugs = [o["slug"] for o in orgs]
    for index, slug in enumerate(slugs):
        if slug in slugs[:index]:
            raise Problem(lines, "organisation", index).fail(f"slug '{slug}' komt twee keer voor.", "slug")


#: The order of the keys of a written [[organisation]] block: as the README shows them.
FILE_ORDER = ("slug", "name", *TERM_KEYS, "group_min", "group_max", "recess", "reminders",
              "mail_retention_months", "flows", *EXTRA_TERM_KEYS, "words", "person", "group")
FILE_HEADER = ("# Het organisatiebestand van '{slug}', zoals het bij het exporteren in Adviestraject stond.\n"
               "# Wijzig het en lees het in met: advies org load BESTAND\n"
               "# Laden zet de organisatie op wat hier staat: wie er niet in staat, verliest elke rol.\n\n")


def dumps(raw: dict[str, Any]) -> str:
    """One organisation, given as the data of its [[organisation]] block (what `check` takes),
    as the text of an organisation file that `parse` reads back to exactly that organisation.
    Absent or empty parts the file may leave out (no words, people or groups) are left out;
    an empty list of reminders (none at all) is not."""
    ordered = {key: raw[key] for key in (*FILE_ORDER, *sorted(set(raw) - set(FILE_ORDER)))
               if key in raw and raw[key] is not None
               and not (key in ("words", "person", "group") and not raw[key])}
    slug = raw.get("slug")
    header = FILE_HEADER.format(slug=slug if isinstance(slug, str) and SLUG.match(slug) else "?")
    return header + tomli_w.dumps({"organisation": [ordered]})


def save(path: Path, text: str, *, overwrite: bool = False) -> None:
    """Write `text` (an organisation file) to `path` whole or not at all: into a new file beside
    it, then renamed. An existing file is left alone unless `overwrite`; InvalidInput (Dutch)
    when it cannot be written, and then nothing changed."""
    if path.is_dir():
        raise InvalidInput(f"'{path}' is een map. Geef de naam van een bestand, zoals "
                           f"{path / 'organisatie.toml'}.")
    if not overwrite and (path.exists() or path.is_symlink()):
        raise InvalidInput(_exists(path))
    folder = path.parent
    if not folder.is_dir():
        raise InvalidInput(f"De map '{folder}' bestaat niet. Maak haar eerst aan, of kies een andere map.")
    temp = folder / f".{path.name}.{secrets.token_hex(6)}.tmp"
    try:
        handle = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(handle, "wb") as file:
            file.write(text.encode("utf-8"))
            file.flush()
            os.fsync(file.fileno())
        _place(temp, path, overwrite)
    except OSError as error:
        raise InvalidInput(f"Kan '{path}' niet schrijven: {_why_unwritable(error)}. Er is niets "
                           "geschreven.") from error
    finally:
        temp.unlink(missing_ok=True)


def _place(temp: Path, path: Path, overwrite: bool) -> None:
    """The whole new file under its name; without `overwrite` never over a file that appeared
    meanwhile (a hard link fails when the name exists)."""
    if overwrite:
        os.replace(temp, path)
        return
    try:
        os.link(temp, path)
    except FileExistsError:
        raise InvalidInput(_exists(path)) from None
    except OSError:  # a file system without hard links: look, then rename
        if path.exists() or path.is_symlink():
            raise InvalidInput(_exists(path)) from None
        os.replace(temp, path)


def _exists(path: Path) -> str:
    return f"'{path}' bestaat al. Kies een andere naam, of geef --overwrite om het te overschrijven."


def _why_unwritable(error: OSError) -> str:
    if error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return "de schijf is vol"
    if isinstance(error, PermissionError) or error.errno == errno.EROFS:
        return "geen toegang (of de map is alleen-lezen)"
    if isinstance(error, IsADirectoryError):
        return "dat is een map"
    if isinstance(error, FileNotFoundError | NotADirectoryError):
        return "de map bestaat niet"
    return "het besturingssysteem gaf een fout"


def load(engine: Engine, path: Path, settings: Settings | None = None) -> list[dict[str, Any]]:
    """Read, check and write the file; returns what was loaded. People left out of the file
    also leave the running trajectories, and the secretariat is told (app.departures; mail
    with `settings`, None: from the environment)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidInput(f"Kan '{path}' niet lezen: {_why_unreadable(error)}.") from error
    orgs = parse(text)
    with transaction(engine) as session:
        for org in orgs:
            write(session, org, settings)
    return orgs


def _why_unreadable(error: OSError | UnicodeDecodeError) -> str:
    reasons: list[tuple[type[BaseException], str]] = [
        (FileNotFoundError, "het bestand bestaat niet"), (IsADirectoryError, "dat is een map"),
        (PermissionError, "geen toegang"), (UnicodeDecodeError, "het is geen UTF-8-tekst")]
    return next((why for kind, why in reasons if isinstance(error, kind)), "het besturingssysteem "
                "gaf een fout")


def write(session: Session, org: dict[str, Any], settings: Settings | None) -> None:
    """One checked organisation (from `parse` or `check`) into the database, in the caller's
    transaction; people left out lose their roles and leave the running trajectories."""
    row = session.exec(select(Organisation).where(Organisation.slug == org["slug"])).first()
    row = row or Organisation(slug=org["slug"], name=org["name"])
    row.name = org["name"]
    for key in (*TERM_KEYS, "group_min", "group_max"):
        if key in org:
            setattr(row, key, org[key])
    row.recess_start, row.recess_end = org["recess"] or (None, None)
    steps_changed = row.id is not None and row.reminders != org.get("reminders")
    row.reminders = org.get("reminders")
    row.mail_retention_months = org["mail_retention_months"]
    row.flows, row.words, row.groups, row.terms = org["flows"], org["words"], org["groups"], org["terms"]
    session.add(row)
    session.flush()
    if steps_changed:
        assert row.id is not None
        replan_organisation(session, row.id)  # the next sweep computes each term's next step again
    gone = _write_people(session, row, org["people"])
    departures.remove_from_trajectories(session, row, gone, settings)


def _write_people(session: Session, org: Organisation, people: list[dict[str, Any]]) -> list[Person]:
    """People left out of the file keep their name (history refers to them) but lose their roles.
    Returns those who had a role until now: they left the organisation."""
    existing = {p.email: p for p in session.exec(select(Person).where(Person.organisation_id == org.id))}
    listed = {p["email"] for p in people}
    gone = [p for email, p in existing.items() if email not in listed and p.roles]
    for email, person in existing.items():
        if email not in listed:
            person.roles = []
            session.add(person)
    for data in people:
        assert org.id is not None
        person = existing.get(data["email"]) or Person(organisation_id=org.id, email=data["email"], name="")
        person.name, person.roles = data["name"], data["roles"]
        session.add(person)
    session.flush()  # the new roles, before the trajectories are looked at
    return gone
