"""Engines and sessions. Nothing connects at import time.

A SQLite database has one writer at a time. A command that finds it busy waits for it (the
busy timeout: 10 seconds, or `?timeout=SECONDS` in the database URL, at most 60); when it still
cannot write, the use case says so with `DatabaseBusy` (exit 4: try again), never with a claim
that someone changed the trajectory.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy import URL, Engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError, OperationalError
from sqlalchemy.orm import configure_mappers
from sqlalchemy.pool import NullPool
from sqlmodel import Session, SQLModel, create_engine

from engine.errors import Conflict, InvalidInput

BUSY_TIMEOUT = 10.0  # seconds a command waits for another writer
MAX_BUSY_TIMEOUT = 60.0
SQLITE_PRAGMAS = (
    "journal_mode=WAL",
    "synchronous=FULL",
    "foreign_keys=ON",
)
BUSY = ("De database is bezet: een ander proces schrijft er al langer dan {seconds:g} seconden in; "
        "er is niets veranderd, probeer het zo nog eens.")
#: What SQLite says when its busy timeout ran out, and PostgreSQL when its lock_timeout did.
BUSY_TEXTS = ("database is locked", "database is busy", "database table is locked",
              "lock timeout")


Model = TypeVar("Model", bound=SQLModel)


class DatabaseBusy(Conflict):
    """Another writer held the database longer than the busy timeout; nothing was written.
    Exit 4 like a conflict (try again), with its own message; the web page says "try again"."""


#: The database drivers Adviestraject is built and tested for.
DRIVERS = ("sqlite", "sqlite+pysqlite", "postgresql+psycopg")
EXAMPLE_URLS = "sqlite:///advies.db of postgresql+psycopg://gebruiker:wachtwoord@host/database"
#: Seconds to wait for a PostgreSQL server before saying it cannot be reached.
CONNECT_TIMEOUT = 10
#: A pooled PostgreSQL connection unused for longer than this is pinged before it is handed out.
PING_AFTER_IDLE = 1.0


def checked_url(url: str) -> URL:
    """The database URL, read and checked before anything connects: a known driver, and for a
    SQLite file an existing folder. InvalidInput (Dutch) otherwise; the URL itself is not
    repeated, it may hold a password."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as error:
        raise InvalidInput("ADVIES_DATABASE_URL is geen database-adres. Schrijf bijvoorbeeld "
                           f"{EXAMPLE_URLS}.") from error
    if parsed.drivername not in DRIVERS:
        raise InvalidInput(f"ADVIES_DATABASE_URL begint met '{parsed.drivername}://' en dat kent "
                           f"Adviestraject niet. Gebruik {EXAMPLE_URLS}.")
    file = sqlite_file(parsed)
    if file is not None and not file.parent.is_dir():
        raise InvalidInput(f"De map {file.parent} voor de database bestaat niet. Maak haar aan "
                           "of kies een ander ADVIES_DATABASE_URL.")
    return parsed


def sqlite_file(url: URL | str) -> Path | None:
    """The file of a SQLite database URL; None for PostgreSQL and in-memory SQLite."""
    parsed = make_url(url) if isinstance(url, str) else url
    name = parsed.database
    if parsed.get_backend_name() != "sqlite" or not name or name == ":memory:" \
            or name.startswith("file:"):
        return None
    return Path(name)


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL with synchronous=FULL and a busy timeout."""
    checked_url(url)
    if url.startswith("sqlite"):
        timeout = busy_timeout(url)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": timeout})
        event.listen(engine, "connect", _sqlite_pragmas(timeout))
        return engine
    engine = create_engine(url, connect_args={"connect_timeout": CONNECT_TIMEOUT})
    _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: Engine) -> None:
    """`pool_pre_ping`, but only for a connection that lay unused in the pool for more than
    PING_AFTER_IDLE seconds (a server restart or a dropped connection happens while it lies
    there). A ping is a round trip of its own: events in a row would pay it each time. A dead
    connection is replaced before use; one that broke within the last second fails its one
    statement, and the pool then drops every connection it held (SQLAlchemy's handling)."""

    def on_checkin(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    def on_checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since <= PING_AFTER_IDLE:
            return  # just connected, or in use a moment ago
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as error:
            raise DisconnectionError("the connection was closed while unused") from error

    event.listen(engine, "checkin", on_checkin)
    event.listen(engine, "checkout", on_checkout)


def make_engine_without_pool(url: str) -> Engine:
    """For short-lived command-line processes and forked workers."""
    if url.startswith("sqlite"):
        return make_engine(url)
    checked_url(url)
    return create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": CONNECT_TIMEOUT})


def busy_timeout(url: str) -> float:
    """How long SQLite waits for another writer: `?timeout=` in the URL, else 10 seconds."""
    given = make_url(url).query.get("timeout")
    text = given[-1] if isinstance(given, tuple) else given
    if text is None:
        return BUSY_TIMEOUT
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= MAX_BUSY_TIMEOUT:
        raise InvalidInput(f"timeout={text} in de database-URL kan niet: geef 0 tot "
                           f"{MAX_BUSY_TIMEOUT:g} seconden.")
    return seconds


def _sqlite_pragmas(timeout: float) -> Any:
    pragmas = (*SQLITE_PRAGMAS, f"busy_timeout={int(timeout * 1000)}")

    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        for pragma in pragmas:
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    return on_connect


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def is_busy(error: BaseException) -> bool:
    """Whether the database refused because another writer held it too long."""
    if not isinstance(error, OperationalError):
        return False
    text = str(error.orig).lower()
    return any(s in text for s in BUSY_TEXTS)


def waits_for(engine: Engine) -> float:
    """How many seconds a statement of `engine` waits for another writer."""
    if engine.dialect.name == "sqlite":
        return busy_timeout(engine.url.render_as_string(hide_password=False))
    return BUSY_TIMEOUT


def busy(engine: Engine) -> DatabaseBusy:
    return DatabaseBusy(BUSY.format(seconds=waits_for(engine)))


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One session, one commit; anything that fails rolls all of it back."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def detached(model: type[Model], values: Mapping[Any, Any]) -> Model:
    """An instance of a table model holding a row read with a Core statement, built as the ORM
    builds what it loads (no validation: the values are the database's own), in no session:
    changing it writes nothing. For hot paths that read with Core and write with Core."""
    instance: Model = _manager(model).new_instance()
    instance.__dict__.update(values)
    return instance


def assign(instance: SQLModel, **values: Any) -> None:
    """Set columns of an instance that is in no session (`detached`, `fresh`, or not yet
    added), without the ORM's change tracking, which nothing would read: Core writes it."""
    instance.__dict__.update(values)


@cache
def _manager(model: type[SQLModel]) -> Any:
    configure_mappers()  # the mapping complete (relationships, attribute impls) before use
    return inspect(model).class_manager


def fresh(model: type[Model], **values: Any) -> Model:
    """A new instance of a table model with `values` and the model's defaults for the rest, as
    its constructor makes it but without validating (for values the code itself computed)."""
    defaults = {name: factory() if factory else default
                for name, default, factory in _defaults(model) if name not in values}
    return detached(model, {**defaults, **values})


@cache
def _defaults(model: type[SQLModel]) -> tuple[tuple[str, Any, Callable[[], Any] | None], ...]:
    """Each field's default value or default factory."""
    return tuple((name, field.default, cast(Callable[[], Any] | None, field.default_factory))
                 for name, field in model.model_fields.items())
