"""outbox: the mail's bytes compressed with lz4 on PostgreSQL

A call writes fifty outbox rows of two to four kB in one transaction, and PostgreSQL compresses
every value over about 2 kB, by default with pglz. lz4 does it in a fraction of the time (and
delivery reads the mail back faster): call_participants to 50 members on PostgreSQL went from
117 to 129 events/s side by side (BENCHMARKS.md). Only values written from now on are
compressed with lz4, old rows are read as they are. A server built without lz4 keeps pglz;
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
