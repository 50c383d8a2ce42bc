"""A fresh database per benchmark run, on SQLite and on PostgreSQL, as tests/conftest.py does.

Each kind has a migrated template with the demo organisations, made once per suite; a run gets a
copy (a copied file; `CREATE DATABASE ... TEMPLATE` on PostgreSQL) that is removed afterwards.
PostgreSQL that cannot be reached is skipped with the reason, never a failure.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import OperationalError

from app import org_file
from engine.clock import AMSTERDAM, FrozenClock
from settings import Settings
from storage import migrate
from storage.db import make_engine

SQLITE, POSTGRES = "sqlite", "postgresql"
KINDS = (SQLITE, POSTGRES)
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://advies:advies@127.0.0.1:5432/postgres")
SECRET = "bench-geheim-niet-voor-productie-0123456789"
DEMO_ORG = Path(str(resources.files("cli") / "demo_org.toml"))
#: The moment every benchmark runs at (a Tuesday, after the week's digest became due).
NOW = datetime(2026, 3, 24, 9, 0, tzinfo=AMSTERDAM)
SECRETARIAT = "secretariaat@example.org"


def clock(at: datetime = NOW) -> FrozenClock:
    return FrozenClock(at)


def settings_for(url: str, folder: Path) -> Settings:
    return Settings(database_url=url, secret_key=SecretStr(SECRET), mail_dir=folder / "mail",
                    mail_from="Adviesgroep Bench <adviesgroep@example.org>",
                    base_url="http://bench.example.org", smtp_url=None, now=None)


def child_env(url: str, folder: Path, now: datetime = NOW) -> dict[str, str]:
    """The environment of a worker or `advies` command run as a child process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ADVIES_", "BENCH_"))}
    env.update(ADVIES_DATABASE_URL=url, ADVIES_NOW=now.isoformat(), ADVIES_SECRET_KEY=SECRET,
               ADVIES_MAIL_DIR=str(folder / "mail"), ADVIES_BASE_URL="http://bench.example.org",
               PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    return env


class Databases:
    """Templates made once; `fresh(kind)` yields the URL of a new database of that kind."""

    def __init__(self, folder: Path, wanted: tuple[str, ...] = KINDS) -> None:
        self.folder = folder
        self.skipped: dict[str, str] = {}
        self.kinds: list[str] = []
        self._sqlite_template = folder / "template.db"
        self._pg_template = f"bench_tpl_{uuid.uuid4().hex[:8]}"
        if SQLITE in wanted:
            self._make_template(f"sqlite:///{self._sqlite_template}")
            self.kinds.append(SQLITE)
        if POSTGRES in wanted:
            if reason := _pg_unreachable():
                self.skipped[POSTGRES] = reason
            else:
                _admin(f'CREATE DATABASE "{self._pg_template}"')
                self._make_template(_pg_url(self._pg_template))
                self.kinds.append(POSTGRES)

    @staticmethod
    def _make_template(url: str) -> None:
        engine = make_engine(url)
        migrate.upgrade(engine)
        org_file.load(engine, DEMO_ORG)
        engine.dispose()

    @contextmanager
    def fresh(self, kind: str) -> Iterator[str]:
        name = f"bench_{uuid.uuid4().hex[:10]}"
        if kind == SQLITE:
            path = self.folder / f"{name}.db"
            shutil.copyfile(self._sqlite_template, path)
            try:
                yield f"sqlite:///{path}"
            finally:
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)
            return
        _admin(f'CREATE DATABASE "{name}" TEMPLATE "{self._pg_template}"')
        try:
            yield _pg_url(name)
        finally:
            _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    @contextmanager
    def engine(self, kind: str) -> Iterator[tuple[str, Engine]]:
        """A fresh database and an engine on it, disposed afterwards."""
        with self.fresh(kind) as url:
            engine = make_engine(url)
            try:
                yield url, engine
            finally:
                engine.dispose()

    def close(self) -> None:
        if POSTGRES in self.kinds:
            _admin(f'DROP DATABASE IF EXISTS "{self._pg_template}" WITH (FORCE)')


def preparing_engine(url: str) -> Engine:
    """The product's engine (`make_engine`) for preparing a benchmark's data, e.g. a first
    worker pass that is not measured: its commits do not wait for the disk (SQLite
    `synchronous=OFF`, PostgreSQL `synchronous_commit=off`), per connection only. What is
    measured runs on connections of its own, as the product configures them (`check_durable`)."""
    engine = make_engine(url)
    statement = "PRAGMA synchronous=OFF" if engine.dialect.name == SQLITE else "SET synchronous_commit = off"

    def on_connect(dbapi_conn: Any, _record: Any) -> None:  # after the product's own pragmas
        cursor = dbapi_conn.cursor()
        cursor.execute(statement)
        cursor.close()
        if engine.dialect.name != SQLITE:
            dbapi_conn.commit()

    event.listen(engine, "connect", on_connect)
    return engine


#: What a new connection of the product has: SQLite in WAL with synchronous=FULL (2),
#: PostgreSQL committing durably.
DURABLE = {SQLITE: ("PRAGMA journal_mode", "wal", "PRAGMA synchronous", 2),
           POSTGRES: ("SHOW synchronous_commit", "on", "SHOW fsync", "on")}


def check_durable(url: str) -> None:
    """Raise unless a new connection of the product's engine on `url` writes as the product
    configures it (after data was prepared with `preparing_engine` or `bulk.load`)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            first, first_wanted, second, second_wanted = DURABLE[engine.dialect.name]
            found = conn.execute(text(first)).scalar(), conn.execute(text(second)).scalar()
    finally:
        engine.dispose()
    if found != (first_wanted, second_wanted):
        raise RuntimeError(f"the database does not write as the product configures it: "
                           f"{first}, {second} = {found}")


def _pg_url(database: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + database


def _pg_unreachable() -> str | None:
    try:
        probe = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with probe.connect():
            pass
        probe.dispose()
        return None
    except OperationalError as error:
        return f"PostgreSQL is not reachable at {PG_ADMIN_URL.split('@')[-1]} ({type(error.orig).__name__})"


def _admin(sql: str) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(sql))
    admin.dispose()
