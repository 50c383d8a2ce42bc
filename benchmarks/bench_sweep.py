"""Deadlines due at once, swept by one and by two worker processes, beside APScheduler firing.

Every trajectory waits in `calling` with a sign-up term that ended yesterday; the worker's sweep
(app.sweep, `Worker.sweep_job`) fires `close_signup` for each, in the claim's transaction, which
moves it to `understaffed` and mails the secretariat. The organisation has no reminder steps,
so each deadline is one expiry. Each worker is a process of its own (benchmarks.children.sweep),
started once and warmed up by a small sweep, as a worker that runs every minute is; the time
runs from the moment all of them are told to go until the last one is done. The deadlines were
planned (their next step day stored) by an unmeasured pass two days before they end, as a
worker that runs every minute plans a deadline minutes after it starts: at its end the sweep
only fires it.

References, in the same run (one worker, the bare parts, two workers, APScheduler, in turn, so
that the machine's drift hits all):
- APScheduler 3 firing as many due jobs from a MemoryJobStore (benchmarks.children.scheduler);
- the same work with bare parts (benchmarks.children.bare_sweep, a process kept and warmed up
  as the workers are): SQL Core in batches of 100 per transaction, the same mail rendered and
  built per deadline with the product's templates, no claims, no engine;
- for two workers, one worker on the same data.
"""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Engine, func, select

from benchmarks import bulk
from benchmarks.databases import NOW, POSTGRES, SQLITE, child_env, clock, preparing_engine, settings_for
from benchmarks.harness import (
    Context,
    Figure,
    Target,
    both,
    python_child,
    ratio_at_least,
    run_child,
    value_at_least,
)
from worker.main import Worker

NAME = "sweep"
SMALL_KINDS = (SQLITE, POSTGRES)  # two workers on PostgreSQL have a target of their own
WARM_UP = 5  # deadlines each worker sweeps before it is measured
PLANNED_AHEAD = timedelta(days=2)  # the unmeasured pass that planned the deadlines
TARGET = 3000  # deadlines/s on SQLite (issue 9)
#: Why the 3,000/s target is measured against the bare parts too.
CEILING = ("The bare parts do the sweep's work and nothing else: per deadline the same mail to the "
           "secretariat rendered with the product's jinja2 templates and built by its message "
           "builder, and the rows (state with version check, history, deadline, outbox) written "
           "with SQL Core executemany in batches of 100 per durable commit; no claims, no "
           "savepoints, no engine. When they themselves stay under 3,000/s on this machine, the "
           "3,000/s target cannot be met by code that renders and writes each deadline's mail as "
           "it fires. Reaching it would take rendering without jinja2 per item (e.g. a template "
           "rendered once per batch with markers filled in per deadline), or the mail written "
           "later, off the sweep (the sweep records the event; the delivery renders its mail).")
PG_NOTE = "The 3,000/s target is SQLite's; shown beside the product's sweep for comparison."


@dataclass
class Rates:
    """Deadlines/s of one run: one worker, two, the bare parts, and APScheduler's due jobs/s."""

    one: float
    two: float
    bare: float
    apscheduler: float


def run(ctx: Context) -> list[Figure]:
    count = ctx.mode.size(20, 300, 10_000)
    figures = []
    with Sweepers(ctx.folder, workers=2) as sweepers, \
            Sweepers(ctx.folder, workers=1, child="bare_sweep") as bare:
        for kind in ctx.kinds:
            for worker in range(2):
                sweep(ctx, sweepers, kind, WARM_UP, workers=1, first=worker)
            bare_sweep(ctx, bare, kind, WARM_UP)
            runs = [measure(ctx, sweepers, bare, kind, count) for _ in range(ctx.mode.runs)]
            figures += _figures(ctx, kind, count, runs)
    return figures


def _figures(ctx: Context, kind: str, count: int, runs: list[Rates]) -> list[Figure]:
    first = ceiling = None
    if kind == SQLITE:
        first = both(value_at_least(TARGET, "≥ 3,000/s"), ratio_at_least(1.0, "ahead of APScheduler"))
        ceiling = value_at_least(TARGET, "≥ 3,000/s, or the 3,000/s target cannot be met rendering "
                                         "each mail as it fires")
    second: Target | None = ratio_at_least(1.7, "≥ 1.7× one worker") if kind == POSTGRES else None
    aps = "APScheduler firing as many due jobs"
    common: dict[str, Any] = {"database": kind, "size": count, "unit": "deadlines/s",
                              "command": ctx.command(NAME, kind)}
    return [
        Figure("due deadlines swept, 1 worker", runs=[(r.one, r.apscheduler) for r in runs],
               reference=aps, target=first, **common),
        Figure("due deadlines swept, 2 workers", runs=[(r.two, r.one) for r in runs],
               reference="1 worker, same run", target=second,
               note="SQLite has one writer" if kind == SQLITE else "", **common),
        Figure("sweep vs the same work with bare parts", runs=[(r.one, r.bare) for r in runs],
               reference="the same work with bare parts (SQL Core, batches of 100)",
               target=ratio_at_least(0.8, "≥ 0.8× bare parts"), **common),
        Figure("ceiling: bare parts vs 3,000/s", runs=[(r.bare, r.apscheduler) for r in runs],
               reference=aps, target=ceiling, note=CEILING if kind == SQLITE else PG_NOTE, **common),
    ]


def measure(ctx: Context, sweepers: Sweepers, bare: Sweepers, kind: str, count: int) -> Rates:
    """One run: deadlines/s with one worker, the bare parts, two workers, and APScheduler's
    due jobs/s, in turn."""
    one = sweep(ctx, sweepers, kind, count, workers=1)
    barely = bare_sweep(ctx, bare, kind, count)
    two = sweep(ctx, sweepers, kind, count, workers=2)
    fired = run_child(python_child("scheduler", "fire", str(count)), child_env("", ctx.folder),
                      ctx.folder).check("APScheduler")
    return Rates(one, two, barely, count / json.loads(fired.stdout)["seconds"])


def sweep(ctx: Context, sweepers: Sweepers, kind: str, count: int, workers: int, first: int = 0) -> float:
    """Deadlines per second: `count` due deadlines on a fresh database, swept by `workers`."""
    with ctx.dbs.engine(kind) as (url, engine):
        due_deadlines(engine, count)
        planned_beforehand(url, ctx.folder)
        reports = sweepers.sweep(url, range(first, first + workers))
    return _rate(reports, count, f"{workers} worker(s)")


def bare_sweep(ctx: Context, bare: Sweepers, kind: str, count: int) -> float:
    """Deadlines per second: `count` due deadlines on a fresh database, done with bare parts;
    checked afterwards: every deadline ended, every trajectory moved, every mail written."""
    with ctx.dbs.engine(kind) as (url, engine):
        ids = due_deadlines(engine, count)
        reports = bare.sweep(url, range(1))
        _check_all_swept(engine, ids)
    return _rate(reports, count, "the bare parts")


def due_deadlines(engine: Engine, count: int) -> list[int]:
    """`count` trajectories in `calling` whose sign-up term ended yesterday; their ids."""
    org = bulk.organisations(engine, 1, reminders=[])[0]
    return bulk.trajectories(engine, [org], count, "calling",
                             (bulk.Term("signup_closes", due=bulk.ahead(-1)),), data=bulk.requested_data)


def planned_beforehand(url: str, folder: Path) -> None:
    """The worker's pass of two days before the deadlines end (unmeasured): it plans their
    steps and fires nothing."""
    engine = preparing_engine(url)
    try:
        worker = Worker(settings_for(url, folder), engine=engine, clock=clock(NOW - PLANNED_AHEAD))
        report = worker.sweep_job()
    finally:
        engine.dispose()
    if report is None or report.expired:
        raise RuntimeError(f"the planning pass did not plan without firing: {report}")


def _rate(reports: list[dict[str, Any]], count: int, who: str) -> float:
    expired = sum(r["report"]["expired"] for r in reports)
    if expired != count:
        raise RuntimeError(f"{who} expired {expired} of {count} deadlines: {reports}")
    return count / float(max(r["ended"] for r in reports) - min(r["started"] for r in reports))


def _check_all_swept(engine: Engine, ids: list[int]) -> None:
    t, d, o = bulk.trajectory_table, bulk.deadline_table, bulk.outbox_table
    with engine.connect() as conn:
        moved = conn.execute(select(func.count()).where(t.c.id.in_(ids),
                                                        t.c.state == "understaffed")).scalar()
        ended = conn.execute(select(func.count()).where(d.c.trajectory_id.in_(ids), d.c.status == "expired",
                                                        d.c.closed_on.is_not(None))).scalar()
        mails = conn.execute(select(func.count()).where(o.c.trajectory_id.in_(ids),
                                                        o.c.status == "queued")).scalar()
    if not moved == ended == mails == len(ids):
        raise RuntimeError(f"the bare parts moved {moved}, ended {ended} and mailed {mails} "
                           f"of {len(ids)} trajectories")


class Sweepers:
    """Worker processes kept for the whole benchmark (benchmarks.children.`child`); `sweep` tells
    some of them to sweep a database together: each connects, then all are told to go at once."""

    def __init__(self, folder: Path, workers: int, child: str = "sweep") -> None:
        self.folder = folder
        self.logs = [folder / f"{child}-{n}.log" for n in range(workers)]
        self.children = []
        for log in self.logs:
            with log.open("w") as stderr:
                self.children.append(subprocess.Popen(
                    python_child(child), env=child_env("", folder), cwd=folder, stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE, stderr=stderr, text=True, bufsize=1))

    def __enter__(self) -> Sweepers:
        return self

    def __exit__(self, *_exc: object) -> None:
        for child in self.children:
            assert child.stdin is not None
            child.stdin.close()
        for child in self.children:
            try:
                child.wait(30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()

    def sweep(self, url: str, which: range) -> list[dict[str, Any]]:
        go = self.folder / f"go-{time.monotonic_ns()}"
        for n in which:
            _pipes(self.children[n])[0].write(f"{url} {go}\n")
        for n in which:
            if self._read(n) != "ready":
                raise RuntimeError("a sweep worker did not get ready")
        go.touch()
        return [json.loads(self._read(n)) for n in which]

    def _read(self, n: int) -> str:
        line = _pipes(self.children[n])[1].readline()
        if not line:
            raise RuntimeError(f"a sweep worker stopped: {self.logs[n].read_text()[-2000:]}")
        return line.strip()


def _pipes(child: subprocess.Popen[str]) -> tuple[IO[str], IO[str]]:
    assert child.stdin is not None
    assert child.stdout is not None
    return child.stdin, child.stdout

