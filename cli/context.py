"""What every command needs: settings, a database engine, the service; and error handling."""

from __future__ import annotations

import functools
import json
import re
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from sqlalchemy import Engine

from cli.failures import ClickException, NoArgsIsHelpError, debugging, describe
from engine import inputs
from engine.dsl import SYSTEM
from engine.errors import AdviesError, InvalidInput, NotAllowed, NotFound
from settings import Settings
from storage.db import checked_url, make_engine_without_pool, sqlite_file

if TYPE_CHECKING:
    from app.reports import Reader
    from app.service import Service

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

F = TypeVar("F", bound=Callable[..., Any])

#: The largest id a database row can have (a signed 64-bit integer).
MAX_ID = 2**63 - 1
NO_DATABASE = "De database bestaat nog niet ({path}). Voer eerst 'advies init' uit."
#: Bytes that are not UTF-8 arrive in sys.argv as lone surrogates (PEP 383).
NOT_UTF8 = re.compile("[\udc80-\udcff]")


def settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        first = error.errors()[0]
        name = f"ADVIES_{str(first['loc'][0]).upper()}" if first["loc"] else "Een instelling"
        reason = (first.get("ctx") or {}).get("error")
        raise InvalidInput(f"{name} klopt niet: {reason}." if reason is not None
                           else f"{name} klopt niet.") from error


def database(*, create: bool = False) -> Engine:
    """The engine for the configured database. Only `create=True` (init, demo) may make a new
    SQLite file: every other command refuses when there is none, and so never leaves an empty
    file behind."""
    return _engine(settings().database_url, create)


def service() -> Service:
    from app.service import Service  # with its mailer: not imported by the commands that only read

    config = settings()
    return Service(_engine(config.database_url, create=False), config)


def reader() -> Reader:
    """What the lists read from: the database and the clock of the settings, and the flows."""
    from app.reports import Reader

    config = settings()
    return Reader(_engine(config.database_url, create=False), config.clock)


def _engine(url: str, create: bool) -> Engine:
    file = sqlite_file(checked_url(url))
    if file is not None and not create and not file.exists():
        raise AdviesError(NO_DATABASE.format(path=file))
    return make_engine_without_pool(url)


def parse_sets(values: list[str] | None) -> dict[str, str]:
    """`--set key=value` pairs; a pair without '=', or a key given twice, is bad input."""
    found: dict[str, str] = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(f"'--set {item}' klopt niet: schrijf --set sleutel=waarde.")
        if key.strip() in found:
            raise InvalidInput(f"--set {key.strip()}=... staat er twee keer: geef elke sleutel één keer.")
        found[key.strip()] = value
    return found


def human_actor(actor: str) -> str:
    """`--actor`: a person. Only the worker acts as 'systeem', never someone on the command line."""
    if actor.strip().lower() == SYSTEM.email:
        raise NotAllowed("'systeem' is Adviestraject zelf en handelt alleen in de worker. "
                         "Geef met --actor je eigen e-mailadres.")
    return actor


def checked_note(value: str | None) -> str | None:
    """`--note`: several lines may be, at most 2000 characters, no control characters."""
    return inputs.check_note(value)


def stored_id(value: int, what: str) -> int:
    """An id as the database can hold it; a larger (or negative) one cannot exist."""
    if not 1 <= value <= MAX_ID:
        raise NotFound(f"{what} {value} bestaat niet.")
    return value


def print_utf8(text: str) -> None:
    """A file's text as it is, in UTF-8 whatever the terminal's locale (no markup, no wrapping)."""
    stream = getattr(sys.stdout, "buffer", None)
    if stream is None:
        sys.stdout.write(text)
    else:
        stream.write(text.encode("utf-8"))
    sys.stdout.flush()


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2, default=str) + "\n")


def reports(command: F) -> F:
    """Turn our errors into a Dutch message on stderr and the exit code of DESIGN.md §6."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort, BrokenPipeError):  # a closed pipe (`| head`) ends quietly
            raise
        except Exception as error:
            if debugging() and not isinstance(error, AdviesError):
                raise
            failure = describe(error)
            _fail(failure.message, failure.exit_code, kwargs.get("as_json", False))

    return wrapper  # type: ignore[return-value]


def _fail(message: str, code: int, as_json: bool) -> None:
    if as_json:
        print_json({"error": message, "exit_code": code})
    say_failure(message)
    raise typer.Exit(code)


def run_safely(command: Any, argv: list[str]) -> int:
    """Run the command line and return its exit code; every failure is one Dutch line on stderr
    (typer's usage errors too), never a traceback."""
    bad = undecodable(argv)
    if bad:
        say_failure(f"Argument {bad} bevat tekens die geen UTF-8 zijn. Gebruik UTF-8.")
        return 2
    try:
        result = command.main(args=argv, prog_name="advies", standalone_mode=False)
    except SystemExit:
        raise
    except NoArgsIsHelpError as error:  # `advies org`: the help, as asked
        error.show()
        return error.exit_code
    except BaseException as error:
        if debugging() and not isinstance(error, AdviesError | ClickException):
            raise
        failure = describe(error)
        say_failure(failure.message)
        return failure.exit_code
    return result if isinstance(result, int) else 0


def undecodable(argv: list[str]) -> int:
    """The number (1-based) of the first argument with bytes that are not UTF-8, or 0."""
    return next((index for index, arg in enumerate(argv, start=1) if NOT_UTF8.search(arg)), 0)


def say_failure(message: str) -> None:
    """One line on stderr: 'Fout: ' and the Dutch sentence. Line breaks and control characters a
    message repeats from the input are shown as escapes (\\x85), so they cannot start a line."""
    err.print(f"[bold red]Fout:[/] {escape(one_line(message))}")


def one_line(text: str) -> str:
    return inputs.CONTROL.sub(lambda found: repr(found.group())[1:-1], text)
