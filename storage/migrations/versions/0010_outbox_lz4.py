"""outbox: the mail's bytes compressed with lz4 on PostgreSQL

A call writes fifty outbox rows of two to four kB in one transaction, and PostgreSQL compresses
every value over about 2 kB, by default with pglz. lz4 does it faster, and delivery reads the
mail back faster too: inserting a call's fifty rows (2.3 kB each) took 1.9 ms with pglz and
1.4-1.5 ms with lz4 (medians of 40, three runs; BENCHMARKS.md), about 5 % of the event; the
whole event's rate moves by more than that from run to run. Only values written from now on
are compressed with lz4; old rows are read as they are. A server built without lz4 keeps pglz;
SQLite does not compress.

Revision ID: e2b7c4f9a1d6
Revises: d9f3a6c1e8b4
Create Date: 2026-11-29 14:00:00.000000
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import Connection

revision = 'e2b7c4f9a1d6'
down_revision = 'd9f3a6c1e8b4'
branch_labels = None
depends_on = None

LZ4_BUILT_IN = ("SELECT 'lz4' = ANY(enumvals) FROM pg_settings "
                "WHERE name = 'default_toast_compression'")


def _postgres_with_lz4(connection: Connection) -> bool:
    return connection.dialect.name == "postgresql" and bool(
        connection.exec_driver_sql(LZ4_BUILT_IN).scalar())


def upgrade() -> None:
    if _postgres_with_lz4(op.get_bind()):
        op.execute("ALTER TABLE outbox ALTER COLUMN raw SET COMPRESSION lz4")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE outbox ALTER COLUMN raw SET COMPRESSION DEFAULT")
