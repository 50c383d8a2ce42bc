"""Every way a command can fail, said in one Dutch sentence with the exit code of DESIGN.md §6.

`describe` turns any exception into a `Failure`: our own errors keep their message, the
database's and the operating system's are named by their cause (busy, full disk, unreachable
server, not set up), typer's usage errors are said in Dutch, and anything unforeseen still
ends in one sentence instead of a traceback (`ADVIES_DEBUG=1` shows the traceback).
"""

from __future__ import annotations

import errno
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import typer
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

from engine.errors import AdviesError
from engine.terms import TermError

try:
    from typer._click import exceptions as click_errors  # typer carries its own copy of Click
except ImportError:  # pragma: no cover - older typer uses Click itself
    from click import exceptions as click_errors  # type: ignore[no-redef]

#: The errors of typer's Click that the command line itself handles (cli.context.run_safely).
ClickException = click_errors.ClickException
NoArgsIsHelpError = click_errors.NoArgsIsHelpError

BAD_INPUT, TRY_AGAIN, ELSE = 2, 4, 1
NOT_SET_UP = "De database is nog niet ingericht. Voer eerst 'advies init' uit."
OLD_SCHEMA = "De database is van een oudere versie. Voer 'advies init' uit om haar bij te werken."
BUSY = ("De database is bezet: een ander proces houdt haar vast. Er is niets veranderd; "
        "probeer het zo nog eens.")
DISK_FULL = ("De schijf is vol of kan niet schrijven: er is niets opgeslagen. Maak ruimte vrij en "
             "probeer het opnieuw.")
UNREACHABLE = ("De databaseserver is niet bereikbaar of weigert de verbinding. Controleer "
               "ADVIES_DATABASE_URL (adres, poort, naam, gebruiker, wachtwoord) en of de server draait.")
CANNOT_OPEN = ("Het databasebestand kan niet worden geopend. Controleer ADVIES_DATABASE_URL en of "
               "Adviestraject in die map mag schrijven.")
READ_ONLY = "De database is alleen-lezen: Adviestraject mag er niet in schrijven."
NOT_A_DATABASE = "Het bestand in ADVIES_DATABASE_URL is geen SQLite-database."
TOO_DEEP = "De invoer is te diep genest om te lezen."
NOT_UTF8 = "Er staat tekst in die geen UTF-8 is. Gebruik UTF-8."
TOO_BIG = "Een getal is te groot."
ABORTED = "Afgebroken."

#: (texts in the database's own message, Dutch sentence); the first that matches wins.
DATABASE_CAUSES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("database is locked", "database is busy", "database table is locked", "lock timeout",
      "could not obtain lock"), BUSY),
    (("database or disk is full", "disk i/o error", "no space left on device", "file too large"),
     DISK_FULL),
    (("no such table", "relation \"", "undefinedtable"), NOT_SET_UP),
    (("no such column", "undefinedcolumn"), OLD_SCHEMA),
    (("readonly database", "read-only"), READ_ONLY),
    (("file is not a database",), NOT_A_DATABASE),
    (("unable to open database file",), CANNOT_OPEN),
    (("connection", "could not translate host name", "password authentication failed",
      "does not exist", "timeout expired", "server closed"), UNREACHABLE),
)
#: PostgreSQL's classes of SQLSTATE: 53 insufficient resources, 08 connection, 55P03 lock.
SQLSTATES = {"53": DISK_FULL, "08": UNREACHABLE, "55P03": BUSY, "42P01": NOT_SET_UP,
             "42703": OLD_SCHEMA, "28": UNREACHABLE, "3D": UNREACHABLE}
DISK_ERRNOS = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}
OS_CAUSES = {errno.ENOENT: "bestaat niet", errno.EACCES: "geen toegang", errno.EPERM: "geen toegang",
             errno.EROFS: "alleen-lezen", errno.EISDIR: "is een map", errno.ENOTDIR: "is geen map"}


@dataclass(frozen=True)
class Failure:
    message: str
    exit_code: int


def describe(error: BaseException) -> Failure:
    """The Dutch sentence and exit code for `error`."""
    if isinstance(error, AdviesError):
        return Failure(error.message, error.exit_code)
    if _header_injection(error):
        return Failure(str(error), BAD_INPUT)
    if isinstance(error, click_errors.ClickException):
        return Failure(usage(error), error.exit_code)
    if isinstance(error, SQLAlchemyError):
        return database(error)
    if isinstance(error, OSError):
        return Failure(operating_system(error), ELSE)
    if isinstance(error, TermError):
        return Failure(str(error), BAD_INPUT)
    return Failure(*_other(error))


def _header_injection(error: BaseException) -> bool:
    """A header with a line break in it (notifications.message). Only a command that builds mail
    can raise one, and it has imported that module; the others never need to (start-up)."""
    message = sys.modules.get("notifications.message")
    return message is not None and isinstance(error, message.HeaderInjection)


def _other(error: BaseException) -> tuple[str, int]:
    if isinstance(error, RecursionError):
        return TOO_DEEP, BAD_INPUT
    if isinstance(error, UnicodeError):
        return NOT_UTF8, BAD_INPUT
    if isinstance(error, OverflowError):
        return TOO_BIG, BAD_INPUT
    if isinstance(error, MemoryError):
        return "Er is te weinig geheugen.", ELSE
    if isinstance(error, KeyboardInterrupt):
        return ABORTED, 130
    if isinstance(error, typer.Abort):
        return ABORTED, ELSE
    return (f"Er ging iets onverwachts mis ({type(error).__name__}). Meld dit bij de beheerder; "
            "ADVIES_DEBUG=1 toont de details.", ELSE)


def debugging() -> bool:
    return os.environ.get("ADVIES_DEBUG", "") not in ("", "0")


# --- the database --------------------------------------------------------------------------


def database(error: SQLAlchemyError) -> Failure:
    if isinstance(error, ArgumentError | NoSuchModuleError):
        return Failure("ADVIES_DATABASE_URL is geen database-adres dat Adviestraject kent.", BAD_INPUT)
    if isinstance(error, DBAPIError):
        found = _by_sqlstate(error.orig) or _by_text(str(error.orig).lower())
        if found is not None:
            return Failure(found, TRY_AGAIN if found == BUSY else ELSE)
    return Failure(f"De database gaf een fout ({type(error).__name__}); er is niets veranderd.", ELSE)


def _by_sqlstate(orig: Any) -> str | None:
    state = str(getattr(orig, "sqlstate", None) or "")
    for prefix, message in sorted(SQLSTATES.items(), key=lambda item: -len(item[0])):
        if state.startswith(prefix):
            return message
    return None


def _by_text(text: str) -> str | None:
    return next((message for needles, message in DATABASE_CAUSES
                 if any(needle in text for needle in needles)), None)


# --- the operating system ------------------------------------------------------------------


def operating_system(error: OSError) -> str:
    if error.errno in DISK_ERRNOS:
        return DISK_FULL
    where = f" ({error.filename})" if error.filename else ""
    cause = OS_CAUSES.get(error.errno or 0)
    if cause:
        return f"Kan een bestand niet lezen of schrijven{where}: {cause}."
    name = errno.errorcode.get(error.errno or 0, type(error).__name__)
    return f"Het besturingssysteem gaf een fout ({name}){where}."


# --- typer's usage errors --------------------------------------------------------------------


def usage(error: click_errors.ClickException) -> str:
    """A usage error (unknown option, missing argument, bad number) in Dutch, with a pointer to
    the command's help."""
    sentence = _usage_sentence(error)
    context = getattr(error, "ctx", None)
    command = context.command_path if context is not None else "advies"
    return f"{sentence} Zie '{command} --help'."


def _usage_sentence(error: click_errors.ClickException) -> str:
    if isinstance(error, click_errors.MissingParameter):
        return _missing(error)
    if isinstance(error, click_errors.NoSuchOption):
        return _no_such_option(error)
    if isinstance(error, click_errors.BadParameter):
        return _bad_value(error)
    if isinstance(error, click_errors.BadOptionUsage):
        return _option_usage(error)
    return _general(error.message)


def _missing(error: click_errors.MissingParameter) -> str:
    param = error.param
    name = _name(param) if param is not None else "een waarde"
    if param is not None and param.param_type_name == "option":
        return f"De optie {name} ontbreekt."
    return f"Het argument {name} ontbreekt."


def _no_such_option(error: click_errors.NoSuchOption) -> str:
    guesses: Sequence[str] = error.possibilities or ()
    hint = f" Bedoel je {' of '.join(sorted(guesses))}?" if guesses else ""
    return f"Onbekende optie {error.option_name}.{hint}"


def _bad_value(error: click_errors.BadParameter) -> str:
    param = error.param
    name = _name(param) if param is not None else "een waarde"
    expected = " Geef een geheel getal." if _is_integer(param) else ""
    return f"De waarde voor {name} klopt niet.{expected}"


def _option_usage(error: click_errors.BadOptionUsage) -> str:
    if "does not take a value" in error.message:
        return f"De optie {error.option_name} krijgt geen waarde."
    return f"De optie {error.option_name} heeft een waarde nodig."


GENERAL = (
    (re.compile(r"No such command '(.*)'"), "Onbekende opdracht '{0}'."),
    (re.compile(r"Got unexpected extra argument(?:\(s\)|s)? \((.*)\)"), "Te veel argumenten: {0}."),
    (re.compile(r"Missing command"), "Geef een opdracht."),
)


def _general(message: str) -> str:
    for pattern, dutch in GENERAL:
        found = pattern.search(message)
        if found:
            return dutch.format(*found.groups())
    return "Deze opdracht klopt niet."


def _name(param: Any) -> str:
    raw = getattr(param, "metavar", None) or (param.opts[0] if param.opts else param.name)
    return str(raw)


def _is_integer(param: Any) -> bool:
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is not None:
        return getattr(descriptor, "annotation", None) is int
    return getattr(getattr(param, "type", None), "name", "") == "integer"
