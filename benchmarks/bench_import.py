"""`advies import` of a spreadsheet of running trajectories, beside bare executemany inserts.

The file is a CSV (`;`, as Dutch Excel writes it) of asked advice in the demo organisation, in
four states (requested, advising with a group and a contact person, awaiting_response,
monitoring), each with its dates; the import checks every row, computes each one's deadline
with the term calendar, and writes trajectory, history, deadline and the reminder steps already
past, in one transaction (app.importer.Importer, what `advies import FILE` runs).

Reference, in the same run: the same trajectory, history and deadline rows (read back from the
product's database) inserted into a fresh database with one executemany per table in one
transaction: no reading, no checks, no term arithmetic.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, Table, insert, select

from app.importer import Importer
from benchmarks.databases import NOW, POSTGRES, SQLITE, clock
from benchmarks.harness import Context, Figure, value_at_least
from storage.tables import DeadlineRow, HistoryEntry, Trajectory

NAME = "import"
SMALL_KINDS = (SQLITE, POSTGRES)  # the issue asks for both databases
SECRETARIAT = "secretariaat@example.org"
ADVISER = "beleid@example.org"
GROUP = "anna@example.org|bram@example.org|cor@example.org|dewi@example.org|els@example.org"
HEADER = "flow;organisation;title;state;received_on;policy_adviser;since;group;contact_person;" \
         "advice_sent_on;response_received_on"
TRAJECTORY: Table = Trajectory.__table__  # type: ignore[attr-defined]
HISTORY: Table = HistoryEntry.__table__  # type: ignore[attr-defined]
DEADLINE: Table = DeadlineRow.__table__  # type: ignore[attr-defined]


def run(ctx: Context) -> list[Figure]:
    rows = ctx.mode.size(20, 1_000, 10_000)
    content = spreadsheet(rows)
    figures = []
    for kind in ctx.kinds:
        runs = [measure(ctx, kind, content, rows) for _ in range(ctx.mode.runs)]
        figures.append(Figure(
            "advies import of a spreadsheet", kind, rows, "rows/s", runs,
            reference="bare executemany of the same rows", command=ctx.command(NAME, kind),
            target=value_at_least(1_000, "≥ 1,000 rows/s (10,000 rows in ≤ 10 s)")))
    return figures


def spreadsheet(rows: int) -> bytes:
    """`rows` running asked advice, a quarter in each of four states, dates spread over weeks."""
    today = NOW.date()
    lines = [HEADER]
    for n in range(rows):
        received = (today - timedelta(days=10 + n % 60)).isoformat()
        sent = (today - timedelta(days=1 + n % 40)).isoformat()
        since = (today - timedelta(days=n % 9)).isoformat()
        state = ("requested", "advising", "awaiting_response", "monitoring")[n % 4]
        group, contact = (GROUP, "bram@example.org") if state == "advising" else ("", "")
        answered = since if state == "monitoring" else ""
        sent_on = sent if state in ("awaiting_response", "monitoring") else ""
        lines.append(f"asked_advice;demo;Adviesaanvraag {n};{state};{received};{ADVISER};{since};"
                     f"{group};{contact};{sent_on};{answered}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def measure(ctx: Context, kind: str, content: bytes, rows: int) -> tuple[float, float]:
    """One run: (rows/s of the product's import, rows/s of bare executemany of its rows)."""
    with ctx.dbs.engine(kind) as (_url, engine):
        importer = Importer(engine, clock())
        began = time.perf_counter()
        result = importer.run("lopend.csv", content, SECRETARIAT)
        seconds = time.perf_counter() - began
        assert result.created == rows
        written = read_back(engine)
    with ctx.dbs.engine(kind) as (_url, engine):
        reference = bare_inserts(engine, written)
    return rows / seconds, rows / reference


def read_back(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """The rows the import wrote, without their keys, as the reference inserts them."""
    with engine.connect() as conn:
        return {table.name: [dict(r._mapping) for r in conn.execute(
            select(table).order_by(table.c.id))] for table in (TRAJECTORY, HISTORY, DEADLINE)}


def bare_inserts(engine: Engine, written: dict[str, list[dict[str, Any]]]) -> float:
    """Seconds to insert the same rows with one executemany per table, in one transaction."""
    trajectories = [{k: v for k, v in r.items() if k != "id"} for r in written[TRAJECTORY.name]]
    old_ids = [r["id"] for r in written[TRAJECTORY.name]]
    began = time.perf_counter()
    with engine.begin() as conn:
        new_ids = conn.execute(insert(TRAJECTORY).returning(TRAJECTORY.c.id,
                                                            sort_by_parameter_order=True),
                               trajectories).scalars().all()
        moved = dict(zip(old_ids, new_ids, strict=True))
        for table in (HISTORY, DEADLINE):
            conn.execute(insert(table), [{**{k: v for k, v in r.items() if k != "id"},
                                          "trajectory_id": moved[r["trajectory_id"]]}
                                         for r in written[table.name]])
    return time.perf_counter() - began
