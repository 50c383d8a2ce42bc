"""`make bench`: run the benchmarks, print the table and write bench/results.json.

    .venv/bin/python -m benchmarks                      # every benchmark, small sizes
    BENCH_FULL=1 .venv/bin/python -m benchmarks         # the sizes of issue 9
    .venv/bin/python -m benchmarks sweep --db sqlite    # one benchmark on one database

BENCH_TINY=1 runs every benchmark once at a tiny size (the smoke test). PostgreSQL is skipped,
with the reason in the table and the file, when it cannot be reached.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from rich.console import Console
from rich.table import Table

from benchmarks import (
    bench_calls,
    bench_delivery,
    bench_events,
    bench_import,
    bench_lists,
    bench_scale,
    bench_sweep,
    bench_worker,
    bulk,
    machine,
)
from benchmarks.databases import KINDS, PG_ADMIN_URL, SQLITE, Databases
from benchmarks.harness import ROOT, Context, Figure, Mode, mode_from_env, show

BENCHES: dict[str, ModuleType] = {m.NAME: m for m in (
    bench_events, bench_calls, bench_sweep, bench_worker, bench_lists, bench_delivery, bench_scale,
    bench_import)}
RESULTS = ROOT / "bench" / "results.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("benches", nargs="*", metavar="BENCH", help=f"some of: {', '.join(BENCHES)}")
    parser.add_argument("--db", action="append", choices=KINDS, help="only this database (repeatable)")
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"default: {RESULTS.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    unknown = [b for b in args.benches if b not in BENCHES]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; known: {', '.join(BENCHES)}")
    console = Console(width=None if sys.stdout.isatty() else 180)
    mode = mode_from_env()
    started, began, load = datetime.now(UTC), time.perf_counter(), os.getloadavg()[0]
    figures: list[Figure] = []
    errors: list[dict[str, str]] = []
    timings: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="advies-bench-") as tmp:
        dbs = Databases(Path(tmp), tuple(args.db or KINDS))
        templates_seconds = time.perf_counter() - began
        try:
            for name in args.benches or list(BENCHES):
                chosen = kinds(BENCHES[name], mode, args.db, dbs.kinds)
                ctx = Context(mode, dbs, chosen, Path(tmp), console.log)
                figures += _run(BENCHES[name], ctx, errors, timings)
        finally:
            dbs.close()
    results = {
        "mode": mode.name, "runs": mode.runs, "started_at": started.isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - began, 1),
        "templates_seconds": round(templates_seconds, 1), "benchmarks": timings,
        "load_average": {"start": load, "end": os.getloadavg()[0]},  # other work on the machine
        "machine": machine.describe(PG_ADMIN_URL if "postgresql" in dbs.kinds else None),
        "skipped": dbs.skipped, "errors": errors, "figures": [f.as_dict() for f in figures],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    console.print(table(figures, results))
    console.print(f"Written to {args.out} in {results['seconds']} s.")
    return 1 if errors else 0


def kinds(module: ModuleType, mode: Mode, asked: Sequence[str] | None, reachable: list[str]) -> list[str]:
    """The databases a benchmark runs on: those asked for; else, in the small mode, SQLite and
    PostgreSQL only where the module says so (SMALL_KINDS: a target of PostgreSQL's own), to stay
    within two minutes; else every reachable one."""
    small: Sequence[str] = getattr(module, "SMALL_KINDS", (SQLITE,))
    wanted = asked or (small if mode.name == "small" else KINDS)
    return [k for k in reachable if k in wanted]


def _run(module: ModuleType, ctx: Context, errors: list[dict[str, str]],
         timings: list[dict[str, Any]]) -> list[Figure]:
    ctx.say(f"{module.NAME}: {', '.join(ctx.kinds)} ({ctx.mode.name}, {ctx.mode.runs} run(s); "
            f"load average {os.getloadavg()[0]:.1f})")
    began, loaded = time.perf_counter(), replace(bulk.LOADED)
    try:
        found: list[Figure] = module.run(ctx)
    except Exception as error:  # one broken benchmark never hides the others' figures
        errors.append({"bench": module.NAME, "error": f"{type(error).__name__}: {error}",
                       "traceback": traceback.format_exc()})
        ctx.say(f"[red]{module.NAME} failed: {type(error).__name__}: {error}")
        found = []
    timings.append(spent := timing(module.NAME, ctx, time.perf_counter() - began, loaded))
    ctx.say(f"{module.NAME}: {spent['seconds']:.1f} s (setting up {spent['setup_seconds']:.1f} s)")
    for figure in found:
        figure.bench = module.NAME
    return found


def timing(name: str, ctx: Context, seconds: float, loaded_before: bulk.Loaded) -> dict[str, Any]:
    """Where a benchmark's time went: in all, bulk loading, and the phases it timed itself.
    Its setup is the phases it marked as setting up, else (it timed none) its bulk loading."""
    load_seconds = bulk.LOADED.seconds - loaded_before.seconds
    return {"bench": name, "databases": ctx.kinds, "seconds": round(seconds, 1),
            "setup_seconds": round(ctx.setup_seconds if ctx.setup else load_seconds, 1),
            "bulk_load_seconds": round(load_seconds, 1), "rows_loaded": bulk.LOADED.rows - loaded_before.rows,
            "phases": {phase: round(s, 2) for phase, s in ctx.phases.items()}}


def table(figures: list[Figure], results: dict[str, Any]) -> Table:
    title = (f"Adviestraject benchmarks ({results['mode']}, median of {results['runs']} run(s)); "
             f"{results['machine']['cpu']}, {results['machine']['cores']} cores")
    found = Table(title=title, title_justify="left")
    for column in ("figure", "db", "size", "value", "reference (same run)", "ratio", "target", "met"):
        found.add_column(column, justify="right" if column in ("size", "value", "ratio") else "left")
    for f in figures:
        met = {True: "[green]yes", False: "[red]no", None: ""}[f.met]
        found.add_row(f.name, f.database, f"{f.size:,}", show(f.value, f.unit),
                      f"{f.reference}: {show(f.reference_value, f.unit)}", f"{f.ratio:.2f}×",
                      f.target.text if f.target else "", met)
    for kind, reason in results["skipped"].items():
        found.add_row(f"[yellow]skipped: {reason}", kind, "", "", "", "", "", "")
    for error in results["errors"]:
        found.add_row(f"[red]{error['bench']} failed: {error['error']}", "", "", "", "", "", "", "")
    return found


if __name__ == "__main__":
    sys.exit(main())
