"""Alembic's head is exactly the SQLModel metadata, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlmodel import SQLModel

from storage import migrate

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


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


def test_0008_names_the_organisation_of_every_existing_deadline(any_engine: Engine) -> None:
    """Downgraded to 0007, a deadline is written the old way (no organisation); the upgrade
    fills it in from the trajectory, and the overview's index is there."""
    config = migrate.alembic_config()
    with any_engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "a3d8e1f5c7b2")
    with any_engine.begin() as connection:
        org = connection.execute(text("SELECT id FROM organisation WHERE slug = 'demo'")).scalar_one()
        trajectory = connection.execute(text(
            "INSERT INTO trajectory (organisation_id, flow, flow_version, state, title, data, version, "
            "created_at, updated_at) VALUES (:org, 'asked_advice', 1, 'advising', 'Oud', '{}', 1, "
            ":now, :now) RETURNING id"), {"org": org, "now": NOW}).scalar_one()
        connection.execute(text(
            "INSERT INTO deadline (trajectory_id, name, label, due, status, explanation, steps_done, "
            "alert_roles, atw, started_on) VALUES (:t, 'advice_due', 'adviestermijn', :due, 'running', "
            "'uitleg', '[]', '[]', :atw, :due)"), {"t": trajectory, "due": NOW.date(), "atw": True})
    migrate.upgrade(any_engine)
    with any_engine.connect() as connection:
        found = connection.execute(text("SELECT organisation_id FROM deadline WHERE trajectory_id = :t"),
                                   {"t": trajectory}).scalar_one()
    assert found == org
    indexes = {index["name"] for index in inspect(any_engine).get_indexes("deadline")}
    assert "ix_deadline_organisation_status_due" in indexes


def test_0010_postgres_compresses_the_mails_with_lz4(pg_engine: Engine) -> None:
    """A mail of a few kB is written compressed with lz4; downgraded, new mails get the
    server's default (pglz) again."""
    assert _compression_of_new_mails(pg_engine) == "lz4"
    config = migrate.alembic_config()
    with pg_engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "d9f3a6c1e8b4")
    assert _compression_of_new_mails(pg_engine) == "pglz"


def _compression_of_new_mails(engine: Engine) -> str:
    raw = b"Beste lid, de gemeente vraagt om advies over de regiovisie.\r\n" * 60  # 3.7 kB
    with engine.begin() as connection:
        outbox_id = connection.execute(text(
            "INSERT INTO outbox (message_id, template, sender, recipient, subject, raw, status, "
            "attempts, next_attempt_at, created_at) VALUES (gen_random_uuid(), 'test', "
            "'a@example.org', 'b@example.org', 'Onderwerp', :raw, 'queued', 0, :now, :now) "
            "RETURNING id"), {"raw": raw, "now": NOW}).scalar_one()
    with engine.connect() as connection:
        return str(connection.execute(text("SELECT pg_column_compression(raw) FROM outbox WHERE id = :id"),
                                      {"id": outbox_id}).scalar_one())
