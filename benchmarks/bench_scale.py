"""The cost of a plain event with many trajectories in the database, beside a database of 1,000.

Both databases hold a country's mix of trajectories over many organisations
(benchmarks.bulk.COUNTRY); each run adds fresh trajectories in `advising` to one of those
organisations in each, and fires the same plain events on them as benchmarks.bench_events does
(`conclude_jointly`, then `close`). The figure is the time of one event with the large database,
its reference the time of one event with the small one, in the same run.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from benchmarks import bulk
from benchmarks.bench_events import product
from benchmarks.databases import settings_for
from benchmarks.harness import Context, Figure, ratio_at_most

NAME = "scale"


def run(ctx: Context) -> list[Figure]:
    big, small = ctx.mode.size(40, 10_000, 100_000), ctx.mode.size(20, 1000, 1000)
    pairs, orgs = ctx.mode.size(10, 150, 300), ctx.mode.size(2, 30, 300)
    figures = []
    for kind in ctx.kinds:
        with ctx.dbs.engine(kind) as large, ctx.dbs.engine(kind) as little:
            homes = bulk.country(large[1], big, orgs)[0], bulk.country(little[1], small, orgs)[0]
            runs = [(cost(ctx, *large, homes[0], pairs), cost(ctx, *little, homes[1], pairs))
                    for _ in range(ctx.mode.runs)]
        figures.append(Figure(
            f"plain event with {big:,} trajectories", kind, big, "ms/event", runs,
            reference=f"the same with {small:,}", command=ctx.command(NAME, kind),
            target=ratio_at_most(1.1, "within 10 %")))
    return figures


def cost(ctx: Context, url: str, engine: Engine, org: bulk.Org, pairs: int) -> float:
    """Milliseconds per plain event, on `pairs` fresh trajectories of `org`."""
    ids = bulk.trajectories(engine, [org], pairs + 1, "advising", (bulk.Term("advice_due"),))
    settings: Any = settings_for(url, ctx.folder)
    return 1000 / product(engine, settings, org, ids).rate
