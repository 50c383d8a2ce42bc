"""Alembic's head is exactly the SQLModel metadata, on SQLite and on PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect
from sqlmodel import SQLModel

from storage import migrate


def test_head_matches_the_tables(any_engine: Engine) -> None:
    with any_engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert differences == []


def test_upgrade_twice_is_harmless(sqlite_engine: Engine) -> None:
    migrate.upgrade(sqlite_engine)
    assert "trajectory" in inspect(sqlite_engine).get_table_names()


def test_sqlite_runs_in_wal_with_full_sync(sqlite_engine: Engine) -> None:
    with sqlite_engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
