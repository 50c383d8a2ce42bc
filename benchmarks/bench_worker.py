"""A worker's start-up and pass with many pending (future) deadlines, beside 1,000 of them.

The database holds trajectories in `advising`, each with a running advice term ending 8 to 607
days ahead (about a tenth within the sweep's 70-day look-ahead), over many organisations. The
real console script runs `advies worker --once --json`: start-up, one pass (sweep, digest,
planning, delivery, retention), exit. Its whole life is the start-up time, its peak RSS comes
from the kernel, and the pass alone is the `seconds` of its report. Each database had one
unmeasured pass first (the week's digest, the overdue marks), so every measured pass is the
steady state of a worker that runs every minute.

References, in the same run: APScheduler 3 storing as many future jobs in a MemoryJobStore and
starting (a scheduler that keeps every deadline as a job; benchmarks.children.scheduler; measured
once per run and shared by both databases, as it uses none), and the same pass on a database
with 1,000 pending deadlines.
"""

from __future__ import annotations

import json
import statistics
from typing import Any

from sqlalchemy import Engine

from benchmarks import bulk
from benchmarks.databases import check_durable, child_env, clock, preparing_engine, settings_for
from benchmarks.harness import (
    Context,
    Figure,
    Finished,
    advies,
    python_child,
    ratio_at_most,
    run_child,
    value_at_most,
)
from worker.main import Worker

NAME = "worker"


def run(ctx: Context) -> list[Figure]:
    pending, baseline = ctx.mode.size(40, 50_000, 1_000_000), ctx.mode.size(20, 1000, 1000)
    orgs = ctx.mode.size(2, 30, 300)
    figures = []
    for kind in ctx.kinds:
        with ctx.dbs.engine(kind) as (big_url, big), ctx.dbs.engine(kind) as (small_url, small):
            for url, engine, count in ((big_url, big, pending), (small_url, small, baseline)):
                with ctx.phase(f"{kind}: fill {count:,} pending", setup=True):
                    fill(engine, count, orgs)
                with ctx.phase(f"{kind}: first pass, {count:,} pending", setup=True):
                    first_pass(ctx, url)  # the first pass of the week: digest, overdue marks
                check_durable(url)
            envs = child_env(big_url, ctx.folder), child_env(small_url, ctx.folder)
            runs = [measure(ctx, kind, envs, pending, number) for number in range(ctx.mode.runs)]
        common: dict[str, Any] = {"database": kind, "size": pending, "command": ctx.command(NAME, kind)}
        at_baseline = {"seconds_at_baseline": statistics.median(s.seconds for _, s, _ in runs),
                       "peak_mb_at_baseline": statistics.median(s.peak_mb for _, s, _ in runs)}
        figures += [
            Figure("worker start-up and first pass", unit="s", extra=at_baseline, **common,
                   runs=[(b.seconds, a.seconds) for b, _, a in runs],
                   reference="APScheduler start-up, as many jobs stored", target=value_at_most(1.0, "≤ 1 s")),
            Figure("worker peak RSS", unit="MB", runs=[(b.peak_mb, a.peak_mb) for b, _, a in runs],
                   reference="APScheduler, as many jobs stored", target=value_at_most(150, "≤ 150 MB"),
                   extra=at_baseline, **common),
            Figure(f"worker pass vs {baseline:,} pending", unit="s",
                   runs=[(_pass(b), _pass(s)) for b, s, _ in runs],
                   reference=f"the same pass, {baseline:,} pending", **common,
                   target=ratio_at_most(1.2, "the same cost (≤ 1.2×)")),
        ]
    return figures


def fill(engine: Engine, pending: int, org_count: int) -> None:
    orgs = bulk.organisations(engine, org_count)
    bulk.trajectories(engine, orgs, pending, "advising", (bulk.Term("advice_due", due=bulk.ahead(8, 600)),))


#: APScheduler's start-up with N jobs: it has no database, so one measurement serves both
#: databases and every run. At 1,000,000 jobs it takes most of a minute, 30-40 times the
#: product's start-up: measuring it once per size keeps `make bench FULL=1` under 15 minutes.
_scheduler_runs: dict[int, Finished] = {}


def measure(ctx: Context, kind: str, envs: tuple[dict[str, str], dict[str, str]],
            pending: int, number: int) -> tuple[Finished, Finished, Finished]:
    with ctx.phase(f"{kind}: run {number + 1}, both passes"):
        big, small = (worker_pass(ctx, env) for env in envs)
    if pending not in _scheduler_runs:
        with ctx.phase(f"APScheduler storing {pending:,} jobs"):
            _scheduler_runs[pending] = run_child(
                python_child("scheduler", "store", str(pending)), envs[1], ctx.folder).check("APScheduler")
    return big, small, _scheduler_runs[pending]


def worker_pass(ctx: Context, env: dict[str, str]) -> Finished:
    """`advies worker --once --json`, as an administrator or a cron job runs it."""
    done = run_child([*advies(), "worker", "--once", "--json"], env, ctx.folder)
    if done.returncode != 0:
        raise RuntimeError(f"advies worker --once failed ({done.returncode}): "
                           f"{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return done


def first_pass(ctx: Context, url: str) -> None:
    """The product's own pass, unmeasured, on connections whose commits do not wait for the
    disk: what it writes is the same, only sooner (the measured passes run as configured).
    Then what autovacuum would do after it (`bulk.vacuumed`)."""
    engine = preparing_engine(url)
    worker = Worker(settings_for(url, ctx.folder), engine=engine, clock=clock())
    try:
        if problems := worker.once().problems:
            raise RuntimeError(f"the first worker pass had problems: {problems}")
        bulk.vacuumed(engine)
    finally:
        worker.close()
        engine.dispose()


def _pass(done: Finished) -> float:
    return float(json.loads(done.stdout)["seconds"])
