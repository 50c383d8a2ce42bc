"""Load many trajectories fast: SQL Core inserts (COPY on PostgreSQL), not through the engine.

Organisations and their people go through the ORM (a few thousand rows); trajectories, their
deadlines and outbox rows are written with explicit ids in chunks, so that a million rows load
in seconds. The rows look like the engine's own: states, data and deadlines of the asked-advice
flow, with the flow's labels, alert roles and expiry events.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, timedelta
from itertools import islice
from typing import Any

from sqlalchemy import Engine, Table, func, select, text
from sqlmodel import Session

from benchmarks.databases import NOW
from flows import all_flows
from storage.tables import DeadlineRow, Organisation, OutboxMessage, Person, Trajectory

CHUNK = 20_000
FLOW = "asked_advice"
TODAY = NOW.date()
STAMP = NOW.astimezone(UTC)

trajectory_table: Table = Trajectory.__table__  # type: ignore[attr-defined]
deadline_table: Table = DeadlineRow.__table__  # type: ignore[attr-defined]
outbox_table: Table = OutboxMessage.__table__  # type: ignore[attr-defined]


@dataclass
class Loaded:
    """What `load` wrote so far in this process: the suite reports it per benchmark (setup)."""

    seconds: float = 0.0
    rows: int = 0


LOADED = Loaded()


@dataclass(frozen=True)
class Org:
    id: int
    slug: str
    secretariat: str
    policy_adviser: str
    members: tuple[str, ...]


def ahead(days: int, spread: int = 1) -> Callable[[int], date]:
    """The end of the n-th deadline: `days` after today (before, if negative), spread over
    `spread` days."""
    return lambda n: TODAY + timedelta(days=days + n % spread)


SOON = ahead(20, 60)


@dataclass(frozen=True)
class Term:
    """One deadline each trajectory gets: its name in the flow, its status and its end."""

    name: str
    status: str = "running"
    due: Callable[[int], date] = SOON


def organisations(engine: Engine, count: int, *, members: int = 8, reminders: list[str] | None = None,
                  prefix: str = "raad") -> list[Org]:
    """`count` organisations, each with a secretariat, a liaison, a policy adviser, an alderman
    and `members` members (the first one chairs)."""
    made = []
    with Session(engine, expire_on_commit=False) as session:
        for n in range(count):
            slug = f"{prefix}-{n}"
            org = Organisation(slug=slug, name=f"Adviesraad {prefix.title()} {n}", reminders=reminders)
            session.add(org)
            session.flush()
            assert org.id is not None
            mail = f"@{slug}.example.org"
            staff = {"secretariat": "secretariaat", "liaison": "verbinding", "policy_adviser": "beleid",
                     "alderman": "wethouder"}
            for role, name in staff.items():
                session.add(Person(organisation_id=org.id, name=name.title(), email=name + mail,
                                   roles=[role]))
            emails = tuple(f"lid{m}{mail}" for m in range(members))
            for m, email in enumerate(emails):
                roles = ["member", "chair"] if m == 0 else ["member"]
                session.add(Person(organisation_id=org.id, name=f"Lid {m}", email=email, roles=roles))
            made.append(Org(org.id, slug, "secretariaat" + mail, "beleid" + mail, emails))
        session.commit()
    return made


def advising_data(org: Org) -> dict[str, Any]:
    """The data of a trajectory that has its group and contact person (state `advising`)."""
    group = list(org.members[:6])
    return {"received_on": (TODAY - timedelta(days=30)).isoformat(), "policy_adviser": org.policy_adviser,
            "group": group, "signups": group, "contact_person": group[1] if len(group) > 1 else group[0]}


def requested_data(org: Org) -> dict[str, Any]:
    return {"received_on": (TODAY - timedelta(days=2)).isoformat(), "policy_adviser": org.policy_adviser}


def trajectories(engine: Engine, orgs: list[Org], count: int, state: str, terms: tuple[Term, ...],
                 data: Callable[[Org], dict[str, Any]] = advising_data) -> list[int]:
    """`count` trajectories of the asked-advice flow in `state`, round-robin over `orgs`, each
    with the deadlines `terms`; returns their ids."""
    first_t = _next_id(engine, trajectory_table)
    ids = list(range(first_t, first_t + count))
    datas = [data(org) for org in orgs]
    with without_indexes(engine, trajectory_table, deadline_table):
        _load_trajectories(engine, orgs, ids, state, terms, datas)
    return ids


def _load_trajectories(engine: Engine, orgs: list[Org], ids: list[int], state: str, terms: tuple[Term, ...],
                       datas: list[dict[str, Any]]) -> None:
    first_d = _next_id(engine, deadline_table)
    specs = {d.name: d for d in all_flows()[FLOW].flow.deadlines}
    load(engine, trajectory_table, (
        {"id": tid, "organisation_id": orgs[n % len(orgs)].id, "flow": FLOW, "flow_version": 1,
         "state": state, "title": f"Adviesaanvraag {tid}", "data": datas[n % len(orgs)], "version": 1,
         "created_at": STAMP, "updated_at": STAMP} for n, tid in enumerate(ids)))
    load(engine, deadline_table, (
        _deadline(first_d + n * len(terms) + k, (tid, orgs[n % len(orgs)].id), specs[term.name], term, n)
        for n, tid in enumerate(ids) for k, term in enumerate(terms)))


def _deadline(deadline_id: int, owner: tuple[int, int], spec: Any, term: Term, n: int) -> dict[str, Any]:
    """A deadline of `owner` (trajectory id, organisation id)."""
    due = term.due(n)
    return {"id": deadline_id, "trajectory_id": owner[0], "organisation_id": owner[1],
            "name": spec.name, "label": spec.label,
            "due": due, "status": term.status, "explanation": f"{spec.label}: tot en met {due:%d-%m-%Y}",
            "steps_done": [], "alert_roles": list(spec.alert), "on_expiry": spec.on_expiry, "atw": spec.atw,
            "started_on": min(due, TODAY) - timedelta(days=1), "suspended_on": None,
            "closed_on": due if term.status == "met" else None}


#: A country's mix: (share out of 20, state, deadlines). Running, overdue and met deadlines.
COUNTRY = (
    (2, "requested", (Term("advice_due"),)),
    (2, "calling", (Term("advice_due"), Term("signup_closes", due=ahead(1, 9)))),
    (2, "matching", (Term("advice_due"),)),
    (5, "advising", (Term("advice_due"),)),
    (1, "advising", (Term("advice_due", "overdue", ahead(-30, 30)),)),
    (3, "awaiting_response", (Term("advice_due", "met", ahead(-40)), Term("response_due"))),
    (2, "monitoring", (Term("follow_up", due=ahead(100, 80)),)),
    (3, "closed", (Term("follow_up", "met", ahead(-310, 300)),)),
)


def country(engine: Engine, trajectory_count: int, org_count: int) -> list[Org]:
    """`trajectory_count` trajectories over `org_count` organisations, in the COUNTRY mix."""
    orgs = organisations(engine, org_count, prefix="land")
    mix(engine, orgs, trajectory_count)
    return orgs


def big_organisation(engine: Engine, trajectory_count: int) -> Org:
    """One organisation of its own with `trajectory_count` trajectories in the COUNTRY mix."""
    org = organisations(engine, 1, prefix="groot")[0]
    mix(engine, [org], trajectory_count)
    return org


def mix(engine: Engine, orgs: list[Org], trajectory_count: int) -> None:
    """`trajectory_count` trajectories, round-robin over `orgs`, in the COUNTRY mix."""
    shares = sum(share for share, _, _ in COUNTRY)
    left = trajectory_count
    with without_indexes(engine, trajectory_table, deadline_table):  # made once, at the end
        for index, (share, state, terms) in enumerate(COUNTRY):
            count = left if index == len(COUNTRY) - 1 else trajectory_count * share // shares
            trajectories(engine, orgs, count, state, terms)
            left -= count


def outbox(engine: Engine, raw: bytes, recipients: list[str], sender: str) -> None:
    """Queued mails, one per recipient, each the same message under its own Message-ID."""
    first = _next_id(engine, outbox_table)
    marker = b"Message-ID: <bench@example.org>"
    assert marker in raw
    load(engine, outbox_table, (
        {"id": first + n, "trajectory_id": None, "message_id": f"<bench-{first + n}@example.org>",
         "template": "bench", "sender": sender, "recipient": rcpt, "subject": "Bench",
         "raw": raw.replace(marker, f"Message-ID: <bench-{first + n}@example.org>".encode()),
         "status": "queued", "attempts": 0, "next_attempt_at": STAMP, "claimed_until": None,
         "claimed_by": None, "last_error": None, "created_at": STAMP, "sent_at": None, "purged_at": None}
        for n, rcpt in enumerate(recipients)))


# --- writing rows ---------------------------------------------------------------------------------


def load(engine: Engine, table: Table, rows: Iterable[dict[str, Any]]) -> None:
    """Insert rows in one transaction, into a table without its secondary indexes
    (`without_indexes`). PostgreSQL: COPY, then its id sequence moves on. SQLite: executemany of
    plain tuples on a connection of its own that does not wait for the disk (`_fast_sqlite`)."""
    began = time.perf_counter()
    counted = _counted(rows)
    with without_indexes(engine, table):
        if engine.dialect.name == "postgresql":
            _copy(engine, table, counted)
            with engine.begin() as conn:
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                  f"(SELECT coalesce(max(id), 1) FROM {table.name}))"))
        else:
            _sqlite_insert(engine, table, counted)
    LOADED.seconds += time.perf_counter() - began


def _counted(rows: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for row in rows:
        LOADED.rows += 1
        yield row


#: The engines (by id) whose tables are without their secondary indexes right now.
_without: set[int] = set()


@contextmanager
def without_indexes(engine: Engine, *tables: Table) -> Iterator[None]:
    """The tables' secondary indexes dropped, and made again at the end from their own
    definitions, as the migrations made them: building an index once is much cheaper than
    keeping it up to date row by row. Nested (several loads in one): made once, at the outer
    end. Then, on PostgreSQL, ANALYZE of the tables: a product database that holds that many
    rows has long been analyzed by autovacuum, which runs on its own schedule (minutes after a
    load); without it the planner's choice would depend on when the load ended. SQLite: none,
    as the product runs none there."""
    if id(engine) in _without:
        yield
        return
    definitions = [d for table in tables for d in _secondary_indexes(engine, table).items()]
    _run_ddl(engine, [f'DROP INDEX "{name}"' for name, _ in definitions])
    _without.add(id(engine))
    try:
        yield
    finally:
        _without.discard(id(engine))
        postgres = engine.dialect.name == "postgresql"
        analyzed = [f'ANALYZE "{table.name}"' for table in tables] if postgres else []
        _run_ddl(engine, [definition for _, definition in definitions] + analyzed)


def vacuumed(engine: Engine) -> None:
    """PostgreSQL: VACUUM (ANALYZE) of every table, as autovacuum does on its own schedule
    after a pass that changed many rows (the first pass at 1,000,000 pending plans the next step
    of 100,000 deadlines). Without it autovacuum may still be at work while a pass is measured.
    SQLite: nothing (it has no such background work)."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM (ANALYZE)"))


def _secondary_indexes(engine: Engine, table: Table) -> dict[str, str]:
    """The table's indexes made with CREATE INDEX, not those behind its primary key or a
    constraint, each with its definition."""
    if engine.dialect.name == "postgresql":
        query = ("SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
                 "JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = CAST(:table AS regclass) "
                 "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)")
    else:
        query = ("SELECT name, sql FROM sqlite_master "
                 "WHERE type = 'index' AND tbl_name = :table AND sql IS NOT NULL")
    with engine.connect() as conn:
        return {str(name): str(definition)
                for name, definition in conn.execute(text(query), {"table": table.name})}


def _run_ddl(engine: Engine, statements: list[str]) -> None:
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))  # index builds only
            for statement in statements:
                conn.execute(text(statement))
        return
    with _fast_sqlite(engine) as conn:
        conn.execute("BEGIN")
        for statement in statements:
            conn.execute(statement)
        conn.execute("COMMIT")


@contextmanager
def _fast_sqlite(engine: Engine) -> Iterator[sqlite3.Connection]:
    """A connection of its own to the engine's SQLite file for loading, without journal and
    without waiting for the disk; the engine's other connections are closed first (the journal
    mode can change only then), and the file is back in WAL mode afterwards: the engine's next
    connections are the product's (WAL, synchronous=FULL)."""
    path = engine.url.database
    assert path, "a SQLite file"
    engine.dispose()
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-262144"):
            conn.execute(f"PRAGMA {pragma}")
        yield conn
        if (mode := conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]) != "wal":
            raise RuntimeError(f"the SQLite file is not back in WAL mode ({mode})")
    finally:
        conn.close()


def _sqlite_insert(engine: Engine, table: Table, rows: Iterable[dict[str, Any]]) -> None:
    with _fast_sqlite(engine) as conn:
        conn.execute("BEGIN")
        columns, convert, statement = None, None, ""
        for chunk in _chunks(rows):
            if columns is None:
                columns = list(chunk[0])
                convert = _sqlite_converters(engine, table, columns)
                statement = (f"INSERT INTO {table.name} ({', '.join(columns)}) "
                             f"VALUES ({', '.join('?' * len(columns))})")
            assert convert is not None
            conn.executemany(statement, [convert(row) for row in chunk])
        conn.execute("COMMIT")


def _sqlite_converters(engine: Engine, table: Table, columns: list[str]) -> Callable[[dict[str, Any]],
                                                                                 tuple[Any, ...]]:
    """A row as the tuple SQLAlchemy would hand to sqlite3: each value through its column type's
    own bind processor (dates and datetimes as SQLAlchemy writes them, JSON as text)."""
    dialect = engine.dialect
    steps = [(c, table.c[c].type.dialect_impl(dialect).bind_processor(dialect)) for c in columns]
    return lambda row: tuple(p(row[c]) if p else row[c] for c, p in steps)


def _copy(engine: Engine, table: Table, rows: Iterable[dict[str, Any]]) -> None:
    raw = engine.raw_connection()
    try:
        connection = raw.driver_connection
        assert connection is not None
        columns: list[str] | None = None
        with connection.cursor() as cursor:
            for chunk in _chunks(rows):
                columns = columns or list(chunk[0])
                with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in chunk:
                        copy.write_row([_pg(row[c]) for c in columns])
        connection.commit()
    finally:
        raw.close()


def _pg(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, dict | list) else value


def _chunks(rows: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, CHUNK)):
        yield chunk


def _next_id(engine: Engine, table: Table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()) + 1
