"""Shared fixtures: real SQLite files, a real PostgreSQL database per test, a frozen clock."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime
from importlib import resources
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from app import org_file
from app.service import Service
from engine.clock import AMSTERDAM, FrozenClock
from settings import Settings
from storage import migrate
from storage.db import make_engine

PG_ADMIN_URL = os.environ.get(
    "ADVIES_TEST_PG_URL", "postgresql+psycopg://advies:advies@127.0.0.1:5432/advies_test"
)
TEST_SECRET = "test-geheim-niet-voor-productie-0123456789"
SECRETARIAT = "secretariaat@example.org"
DEMO_ORG = Path(str(resources.files("cli") / "demo_org.toml"))


def make_settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key=SecretStr(TEST_SECRET),
        mail_dir=tmp_path / "mail",
        mail_from="Adviesgroep Test <adviesgroep@example.org>",
        base_url="http://testserver",
        smtp_url=None,
        now=None,
    )


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 3, 24, 9, 30, tzinfo=AMSTERDAM))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'advies.db'}"


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Iterator[Engine]:
    engine = make_engine(sqlite_url)
    migrate.upgrade(engine)
    org_file.load(engine, DEMO_ORG)
    yield engine
    engine.dispose()


def _pg_reachable() -> bool:
    try:
        probe = create_engine(PG_ADMIN_URL)
        with probe.connect():
            pass
        probe.dispose()
        return True
    except OperationalError:
        return False


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A migrated template database with the demo organisation, made once per test run."""
    if not _pg_reachable():
        if os.environ.get("ADVIES_REQUIRE_POSTGRES"):
            pytest.fail("PostgreSQL is vereist (ADVIES_REQUIRE_POSTGRES) maar niet bereikbaar.")
        pytest.skip("PostgreSQL is niet bereikbaar; start het met scripts/postgres-up.sh")
    name = f"advies_tpl_{uuid.uuid4().hex[:8]}"
    _admin(f'CREATE DATABASE "{name}"')
    engine = make_engine(_url_for(name))
    migrate.upgrade(engine)
    org_file.load(engine, DEMO_ORG)
    engine.dispose()
    yield name
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _url_for(database: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + database


def _admin(sql: str) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(sql))
    admin.dispose()


@pytest.fixture
def pg_url(pg_template: str) -> Iterator[str]:
    """A fresh PostgreSQL database per test, copied from the template."""
    name = f"advies_t_{uuid.uuid4().hex[:10]}"
    _admin(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')
    yield _url_for(name)
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_engine(pg_url: str) -> Iterator[Engine]:
    engine = make_engine(pg_url)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def any_engine(request: pytest.FixtureRequest) -> Engine:
    """Runs the test once on a SQLite file and once on PostgreSQL."""
    name = "sqlite_engine" if request.param == "sqlite" else "pg_engine"
    engine: Engine = request.getfixturevalue(name)
    return engine


@pytest.fixture
def settings(sqlite_url: str, tmp_path: Path) -> Settings:
    return make_settings(sqlite_url, tmp_path)


@pytest.fixture
def service(sqlite_engine: Engine, settings: Settings, clock: FrozenClock) -> Service:
    return Service(sqlite_engine, settings, clock)
