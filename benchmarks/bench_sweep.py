"""Deadlines due at once, swept by one and by two worker processes, beside APScheduler firing.

Every trajectory waits in `calling` with a sign-up term that ended yesterday; the worker's sweep
(app.sweep, `Worker.sweep_job`) fires `close_signup` for each, in the claim's transaction, which
moves it to `understaffed` and mails the secretariat. The organisation has no reminder steps,
so each deadline is one expiry. Each worker is a process of its own (benchmarks.children.sweep),
started once and warmed up by a small sweep, as a worker that runs every minute is; the time
runs from the moment all of them are told to go until the last one is done.

References, in the same run: APScheduler 3 firing as many due jobs from a MemoryJobStore
(benchmarks.children.scheduler); for two workers, one worker on the same data.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import IO, Any

from benchmarks import bulk
from benchmarks.databases import POSTGRES, SQLITE, child_env
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

NAME = "sweep"
SMALL_KINDS = (SQLITE, POSTGRES)  # two workers on PostgreSQL have a target of their own
WARM_UP = 5  # deadlines each worker sweeps before it is measured


def run(ctx: Context) -> list[Figure]:
    count = ctx.mode.size(20, 300, 10_000)
    figures = []
    with Sweepers(ctx.folder, workers=2) as sweepers:
        for kind in ctx.kinds:
            for worker in range(2):
                sweep(ctx, sweepers, kind, WARM_UP, workers=1, first=worker)
            runs = [measure(ctx, sweepers, kind, count) for _ in range(ctx.mode.runs)]
            figures += _figures(ctx, kind, count, runs)
    return figures


def _figures(ctx: Context, kind: str, count: int, runs: list[tuple[float, float, float]]) -> list[Figure]:
    first = None
    if kind == SQLITE:
        first = both(value_at_least(3000, "≥ 3,000/s"), ratio_at_least(1.0, "ahead of APScheduler"))
    second: Target | None = ratio_at_least(1.7, "≥ 1.7× one worker") if kind == POSTGRES else None
    common: dict[str, Any] = {"database": kind, "size": count, "unit": "deadlines/s",
                              "command": ctx.command(NAME, kind)}
    return [
        Figure("due deadlines swept, 1 worker", runs=[(one, aps) for one, _, aps in runs],
               reference="APScheduler firing as many due jobs", target=first, **common),
        Figure("due deadlines swept, 2 workers", runs=[(two, one) for one, two, _ in runs],
               reference="1 worker, same run", target=second,
               note="SQLite has one writer" if kind == SQLITE else "", **common),
    ]


def measure(ctx: Context, sweepers: Sweepers, kind: str, count: int) -> tuple[float, float, float]:
    """One run: deadlines/s with one worker, with two, and APScheduler's due jobs/s."""
    one = sweep(ctx, sweepers, kind, count, workers=1)
    two = sweep(ctx, sweepers, kind, count, workers=2)
    fired = run_child(python_child("scheduler", "fire", str(count)), child_env("", ctx.folder),
                      ctx.folder).check("APScheduler")
    return one, two, count / json.loads(fired.stdout)["seconds"]


def sweep(ctx: Context, sweepers: Sweepers, kind: str, count: int, workers: int, first: int = 0) -> float:
    """Deadlines per second: `count` due deadlines on a fresh database, swept by `workers`."""
    with ctx.dbs.engine(kind) as (url, engine):
        org = bulk.organisations(engine, 1, reminders=[])[0]
        bulk.trajectories(engine, [org], count, "calling",
                          (bulk.Term("signup_closes", due=bulk.ahead(-1)),), data=bulk.requested_data)
        reports = sweepers.sweep(url, range(first, first + workers))
    expired = sum(r["report"]["expired"] for r in reports)
    if expired != count:
        raise RuntimeError(f"{workers} worker(s) expired {expired} of {count} deadlines: {reports}")
    return count / float(max(r["ended"] for r in reports) - min(r["started"] for r in reports))


class Sweepers:
    """Worker processes kept for the whole benchmark; `sweep` tells some of them to sweep a
    database together: each connects, then all are told to go at once."""

    def __init__(self, folder: Path, workers: int) -> None:
        self.folder = folder
        self.logs = [folder / f"sweeper-{n}.log" for n in range(workers)]
        self.children = []
        for log in self.logs:
            with log.open("w") as stderr:
                self.children.append(subprocess.Popen(
                    python_child("sweep"), env=child_env("", folder), cwd=folder, stdin=subprocess.PIPE,
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

