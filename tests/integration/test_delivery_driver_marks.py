"""The delivery loop writes its marks on the driver's own connection (`outbox.DriverMarks`): the
same statement as `mark_all_sent`, so the same rows change, to the same stored values, and a
driver's error is raised as SQLAlchemy's."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, String, cast, select
from sqlalchemy.exc import OperationalError

from notifications import outbox
from storage import migrate
from storage.db import is_busy, make_engine, transaction
from tests.integration.test_delivery_kill import queue_mails

START = datetime(2026, 3, 24, 9, 30, tzinfo=UTC)
LATER = START + timedelta(minutes=6)


def stored(engine: Engine) -> dict[int, tuple[str | None, ...]]:
    """Each row as the database holds it: every column that a mark sets, as text."""
    t = outbox.table
    columns = [t.c.status, t.c.sent_at, t.c.last_error, t.c.claimed_until, t.c.claimed_by]
    with engine.connect() as connection:
        found = connection.execute(select(t.c.id, *(cast(c, String) for c in columns)).order_by(t.c.id))
        return {row[0]: tuple(row[1:]) for row in found}


def mark_on_the_driver(engine: Engine, outbox_ids: list[int], holder: str, now: datetime) -> set[int]:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        marks = outbox.DriverMarks(engine.dialect)
        return marks.run(connection.connection.driver_connection, outbox_ids, holder, now)


def claim(engine: Engine, holder: str, lease: timedelta, now: datetime = START,
          limit: int = 4) -> list[outbox.Claimed]:
    with transaction(engine) as session:
        return outbox.claim(session, now, limit=limit, lease=lease, holder=holder)


def fail(engine: Engine, row: outbox.Claimed) -> None:
    with transaction(engine) as session:
        assert outbox.mark_failed(session, row, START, "kapot")


def test_the_driver_marks_the_same_rows_to_the_same_values_as_sqlalchemy(any_engine: Engine) -> None:
    queue_mails(any_engine, 8, START)
    by_driver = claim(any_engine, "eerste", timedelta(minutes=5))
    by_sqlalchemy = claim(any_engine, "tweede", timedelta(minutes=20))
    fail(any_engine, by_driver[1])
    fail(any_engine, by_sqlalchemy[1])
    # the first lease ran out: another worker takes its first row (the lowest id due)
    assert claim(any_engine, "anders", timedelta(hours=1), LATER, 1)[0].id == by_driver[0].id
    ours = mark_on_the_driver(any_engine, [row.id for row in by_driver], "eerste", LATER)
    assert claim(any_engine, "anders", timedelta(hours=1), START + timedelta(minutes=21),
                 1)[0].id == by_sqlalchemy[0].id  # and later the second lease's
    with transaction(any_engine) as session:
        theirs = outbox.mark_all_sent(session, [row.id for row in by_sqlalchemy], "tweede", LATER)
    assert ours == {row.id for row in by_driver[2:]}
    assert theirs == {row.id for row in by_sqlalchemy[2:]}
    rows = stored(any_engine)
    assert [rows[row.id] for row in by_driver[1:]] == [rows[row.id] for row in by_sqlalchemy[1:]]
    assert [rows[row.id][0] for row in by_driver] == ["sending", "failed", "sent", "sent"]
    assert rows[by_driver[0].id][-1] == "anders"  # the row another worker took is left alone


def test_any_number_of_ids_and_none(any_engine: Engine) -> None:
    queue_mails(any_engine, 5, START)
    with transaction(any_engine) as session:
        claimed = outbox.claim(session, START, limit=5, holder="eerste")
    assert mark_on_the_driver(any_engine, [], "eerste", LATER) == set()
    assert mark_on_the_driver(any_engine, [claimed[0].id], "eerste", LATER) == {claimed[0].id}
    rest = {row.id for row in claimed[1:]}
    assert mark_on_the_driver(any_engine, sorted(rest), "eerste", LATER) == rest
    assert mark_on_the_driver(any_engine, sorted(rest), "eerste", LATER) == set()  # sent already
    with pytest.raises(ValueError, match="tijdzone"):
        mark_on_the_driver(any_engine, sorted(rest), "eerste", LATER.replace(tzinfo=None))


def test_a_busy_database_is_raised_as_sqlalchemy_raises_it(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'bezet.db'}?timeout=0")
    migrate.upgrade(engine)
    queue_mails(engine, 1, START)
    with transaction(engine) as session:
        [row] = outbox.claim(session, START, limit=1, holder="eerste")
    other = sqlite3.connect(tmp_path / "bezet.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another writer holds the database
    try:
        with pytest.raises(OperationalError) as raised:
            mark_on_the_driver(engine, [row.id], "eerste", LATER)
        assert is_busy(raised.value)
    finally:
        other.execute("ROLLBACK")
        other.close()
        engine.dispose()
    assert mark_on_the_driver(engine, [row.id], "eerste", LATER) == {row.id}
