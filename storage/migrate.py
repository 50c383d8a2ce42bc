"""Create or upgrade the database schema with Alembic."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, text

MIGRATIONS = Path(__file__).parent / "migrations"
#: The PostgreSQL advisory lock that lets one `advies init` at a time change the schema.
MIGRATION_LOCK = 0x41647669  # "Advi"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision; safe to run again, and at the same time: a
    second upgrade waits for the first and then finds nothing left to do."""
    config = alembic_config()
    with engine.begin() as connection:
        _one_at_a_time(connection)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def _one_at_a_time(connection: Connection) -> None:
    """Take the schema's lock for this transaction: SQLite's write lock (BEGIN IMMEDIATE, waits
    for the busy timeout), or a PostgreSQL advisory lock."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def revision(engine: Engine, message: str) -> None:
    """Developer helper: autogenerate a revision against `engine` (`make migration`)."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.revision(config, message=message, autogenerate=True)
