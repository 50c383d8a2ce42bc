"""What every command needs: settings, a database engine, the service; and error handling."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError, ProgrammingError

from app.service import Service
from engine.errors import AdviesError, InvalidInput
from settings import Settings
from storage.db import make_engine_without_pool

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

F = TypeVar("F", bound=Callable[..., Any])


def settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        first = error.errors()[0]
        raise InvalidInput(f"Instelling {first['loc'][0]} klopt niet: {first['msg']}") from error


def database() -> Engine:
    return make_engine_without_pool(settings().database_url)


def service() -> Service:
    config = settings()
    return Service(make_engine_without_pool(config.database_url), config)


def parse_sets(values: list[str] | None) -> dict[str, str]:
    """`--set key=value` pairs; a pair without '=' is bad input."""
    found: dict[str, str] = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(f"'--set {item}' klopt niet: schrijf --set sleutel=waarde.")
        found[key.strip()] = value
    return found


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2, default=str) + "\n")


def reports(command: F) -> F:
    """Turn our errors into a Dutch message on stderr and the exit code of DESIGN.md §6."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except AdviesError as error:
            _fail(error.message, error.exit_code, kwargs.get("as_json", False))
        except (OperationalError, ProgrammingError) as error:
            if "no such table" in str(error) or "does not exist" in str(error):
                _fail("De database is nog niet ingericht. Voer eerst 'advies init' uit.", 1,
                      kwargs.get("as_json", False))
            raise

    return wrapper  # type: ignore[return-value]


def _fail(message: str, code: int, as_json: bool) -> None:
    if as_json:
        print_json({"error": message, "exit_code": code})
    err.print(f"[bold red]Fout:[/] {escape(message)}")
    raise typer.Exit(code)
