"""A pooled PostgreSQL connection is pinged only after it lay unused (storage.db.PING_AFTER_IDLE):
events in a row skip the round trip, and a connection the server dropped while it lay in the
pool is replaced before anyone uses it."""

from __future__ import annotations

import time

from sqlalchemy import Engine, create_engine, text

from storage.db import PING_AFTER_IDLE
from tests.conftest import PG_ADMIN_URL


def _backend(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(pid: int) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    admin.dispose()


def test_a_connection_dropped_while_idle_is_replaced_before_use(pg_engine: Engine) -> None:
    dropped = _backend(pg_engine)
    _terminate(dropped)
    time.sleep(PING_AFTER_IDLE + 0.2)
    assert _backend(pg_engine) != dropped  # no error: the ping found it dead, a new one came


def test_connections_used_in_a_row_keep_their_connection(pg_engine: Engine) -> None:
    first = _backend(pg_engine)
    assert all(_backend(pg_engine) == first for _ in range(5))
