"""Plain events through the engine, beside bare commits of the same rows and a naive peer.

A plain event writes state, history and deadline rows and sends no mail, in one transaction:
`conclude_jointly` (advising -> monitoring: the advice term met, the follow-up term started)
and then `close` (monitoring -> closed: the follow-up term met), fired through `Service.fire`
by the secretariat, as the command line and the web do. On SQLite the file is in WAL mode with
synchronous=FULL (storage.db.make_engine), so every commit reaches the disk.

References, in the same run on the same database:
- bare commits: the same rows written with SQL Core statements, one transaction per event;
- the naive peer (benchmarks.peer): `transitions` + SQLModel with an audit row per step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, insert, select, update

from app.service import Service
from benchmarks import bulk, peer
from benchmarks.databases import NOW, clock, settings_for
from benchmarks.harness import (
    Context,
    Figure,
    percentile,
    ratio_at_least,
    timed_each,
    value_at_most,
)
from storage.tables import HistoryEntry

NAME = "events"
FOLLOW_UP_ON = (NOW.date() + timedelta(days=180)).isoformat()
PAIR: tuple[tuple[str, dict[str, str]], ...] = (("conclude_jointly", {"follow_up_on": FOLLOW_UP_ON}),
                                               ("close", {}))
history_table = HistoryEntry.__table__  # type: ignore[attr-defined]
#: Why the peer target is measured against the bare commits too.
CEILING = ("An event writes its rows and commits once; no engine commits the same rows faster than "
           "bare SQL Core does. When bare commits are less than 2.5x the naive peer, the target "
           "'2.5x the naive peer' is beyond any implementation on this machine and database.")


P99_TARGET_MS = 5.0


@dataclass
class Rates:
    rate: float  # events per second
    p99_ms: float


def rates(seconds: float, latencies: list[float]) -> Rates:
    return Rates(len(latencies) / seconds, percentile(latencies, 0.99) * 1000)


def run(ctx: Context) -> list[Figure]:
    events = ctx.mode.size(20, 400, 2000)
    figures = []
    for kind in ctx.kinds:
        runs = [measure(ctx, kind, events // 2) for _ in range(ctx.mode.runs)]
        common: dict[str, Any] = {"database": kind, "size": events, "command": ctx.command(NAME, kind)}
        figures += [
            Figure("plain event: events/s", unit="events/s", reference="bare commits of the same rows",
                   runs=[(p.rate, b.rate) for p, b, _ in runs],
                   target=ratio_at_least(0.5, "≥ 0.5× bare commits (≈ 2,000/s)"), **common),
            Figure("plain event: p99 latency", unit="ms", reference="bare commits: p99",
                   runs=[(p.p99_ms, b.p99_ms) for p, b, _ in runs], note=_p99_note(runs),
                   target=value_at_most(P99_TARGET_MS, "p99 ≤ 5 ms"), **common),
            Figure("plain event vs naive peer", unit="events/s", runs=[(p.rate, q.rate) for p, _, q in runs],
                   reference="transitions + SQLModel, audit row",
                   target=ratio_at_least(2.5, "≥ 2.5× the naive peer"), **common),
            Figure("ceiling: bare commits vs naive peer", unit="events/s", note=CEILING,
                   runs=[(b.rate, q.rate) for _, b, q in runs], reference="transitions + SQLModel, audit row",
                   target=ratio_at_least(2.5, "≥ 2.5×, or the peer target cannot be met"), **common),
        ]
    return figures


def _p99_note(runs: list[tuple[Rates, Rates, Rates]]) -> str:
    """Say so when the bare commits themselves miss the p99 target in this run."""
    bare = sorted(b.p99_ms for _, b, _ in runs)[len(runs) // 2]
    if bare <= P99_TARGET_MS:
        return ""
    return (f"The bare commits of the same rows have a p99 of {bare:.1f} ms here themselves: a "
            f"p99 of {P99_TARGET_MS:g} ms is beyond any implementation on this machine and "
            "database in this run.")


def measure(ctx: Context, kind: str, pairs: int) -> tuple[Rates, Rates, Rates]:
    """One run on a fresh database: the product, the bare commits and the peer, in turn."""
    with ctx.dbs.engine(kind) as (url, engine):
        org = bulk.organisations(engine, 1)[0]
        ours = bulk.trajectories(engine, [org], pairs + 1, "advising", (bulk.Term("advice_due"),))
        bare = bulk.trajectories(engine, [org], pairs + 1, "advising", (bulk.Term("advice_due"),))
        cases = peer.cases(engine, pairs + 1, NOW)
        return (product(engine, settings_for(url, ctx.folder), org, ours),
                bare_commits(engine, org, bare),
                naive_peer(engine, org, cases))


def product(engine: Engine, settings: Any, org: bulk.Org, ids: list[int]) -> Rates:
    service = Service(engine, settings, clock())

    def fire(item: tuple[int, str, dict[str, str]]) -> None:
        service.fire(item[0], item[1], org.secretariat, item[2], report=False)

    return _timed(ids, fire)


def _timed(ids: list[int], fire: Callable[[Any], None]) -> Rates:
    """The first pair warms up (caches, compiled statements); the rest is measured."""
    items = [(tid, event, raw) for tid in ids for event, raw in PAIR]
    for item in items[:2]:
        fire(item)
    return rates(*timed_each(items[2:], fire))


def naive_peer(engine: Engine, org: bulk.Org, ids: list[int]) -> Rates:
    now = NOW.astimezone(UTC)
    return _timed(ids, lambda item: peer.fire(engine, item[0], item[1], org.secretariat, now))


# --- bare commits -------------------------------------------------------------------------------

T, D = bulk.trajectory_table, bulk.deadline_table
#: Built once; each event only binds its values (what a careful hand-written version does).
MOVE = update(T).where(T.c.id == bindparam("tid"), T.c.version == bindparam("old_version"))
MEET = update(D).where(D.c.id == bindparam("did"))


def bare_commits(engine: Engine, org: bulk.Org, ids: list[int]) -> Rates:
    """The rows `conclude_jointly` and `close` write, as SQL Core, one commit per event."""
    with engine.connect() as conn:
        advice = dict(conn.execute(select(D.c.trajectory_id, D.c.id).where(D.c.trajectory_id.in_(ids))).all())
        data = dict(conn.execute(select(T.c.id, T.c.data).where(T.c.id.in_(ids))).all())
    follow_up: dict[int, int] = {}
    with engine.connect() as conn:

        def fire(item: tuple[int, str, dict[str, str]]) -> None:
            tid, event, raw = item
            with conn.begin():
                if event == "conclude_jointly":
                    follow_up[tid] = _conclude(conn, tid, advice[tid], {**data[tid], **raw}, org)
                else:
                    _close(conn, tid, follow_up[tid], org)

        return _timed(ids, fire)


def _conclude(conn: Connection, tid: int, advice_id: int, data: dict[str, Any], org: bulk.Org) -> int:
    today = NOW.date()
    _move(conn, tid, 1, "advising", "monitoring", data, "conclude_jointly", org)
    conn.execute(MEET, {"did": advice_id, "status": "met", "closed_on": today})
    found = conn.execute(insert(D), {
        "trajectory_id": tid, "organisation_id": org.id, "name": "follow_up", "label": "nazorg",
        "due": today + timedelta(days=180),
        "status": "running", "explanation": "nazorg: op de afgesproken datum", "steps_done": [],
        "alert_roles": ["secretariat"], "on_expiry": None, "atw": True, "started_on": today})
    assert found.inserted_primary_key is not None
    return int(found.inserted_primary_key[0])


def _close(conn: Connection, tid: int, follow_up_id: int, org: bulk.Org) -> None:
    _move(conn, tid, 2, "monitoring", "closed", None, "close", org)
    conn.execute(MEET, {"did": follow_up_id, "status": "met", "closed_on": NOW.date()})


def _move(conn: Connection, tid: int, version: int, source: str, dest: str, data: dict[str, Any] | None,
          event: str, org: bulk.Org) -> None:
    """The trajectory's new state (version checked, as the engine does) and its history row."""
    now = NOW.astimezone(UTC)
    values: dict[str, Any] = {"tid": tid, "old_version": version, "state": dest, "updated_at": now,
                              "version": version + 1}
    if data is not None:
        values["data"] = data
    conn.execute(MOVE, values)
    conn.execute(insert(history_table), {
        "trajectory_id": tid, "at": now, "actor": org.secretariat, "event": event, "from_state": source,
        "to_state": dest, "note": None, "payload": {}})
