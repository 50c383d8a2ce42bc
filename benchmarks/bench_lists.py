"""`advies list` and `advies deadlines` with a country's trajectories, beside the SQL behind them.

The database holds trajectories of the asked-advice flow over many organisations, in a mix of
states with running, overdue and met deadlines (benchmarks.bulk.COUNTRY), bulk-loaded. Each
command runs as the real console script in a child process: the time until its first page (the
first 50 lines of output, or all of it when shorter) and its peak RSS. A command that takes
`--limit` is asked for one page; one that does not is measured as it is.

References, in the same run: the raw SQL that produces what the command shows (every row, or one
page with LIMIT when the command paginates), in a child process: its time to fetch the rows and
its peak RSS. And the command itself on an empty database: its start-up, against which the first
page (≤ 50 ms more) and the memory (flat: ≤ 1.1×) are judged (`advies list` on an empty
database: both commands start the same way).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer.main

from benchmarks import bulk
from benchmarks.databases import child_env
from benchmarks.harness import (
    Context,
    Figure,
    Finished,
    percentile,
    python_child,
    run_child,
    value_at_most,
)
from cli.main import app

NAME = "lists"
PAGE = 50  # rows in a page; also the lines of output that make the first page
ACTIVE = "('running', 'suspended', 'overdue')"
SQL = {
    "list": ("SELECT t.id, t.title, t.flow, t.state, n.due FROM trajectory t LEFT JOIN "
             f"(SELECT trajectory_id, min(due) AS due FROM deadline WHERE status IN {ACTIVE} "
             "GROUP BY trajectory_id) n ON n.trajectory_id = t.id ORDER BY t.id"),
    "deadlines": ("SELECT d.id, d.trajectory_id, d.name, d.label, d.due, d.status, d.explanation, t.title "
                  f"FROM deadline d JOIN trajectory t ON t.id = d.trajectory_id WHERE d.status IN {ACTIVE} "
                  "ORDER BY d.due, d.id"),
}


def run(ctx: Context) -> list[Figure]:
    count, orgs = ctx.mode.size(20, 2000, 100_000), ctx.mode.size(2, 30, 300)
    figures = []
    for kind in ctx.kinds:
        with ctx.dbs.engine(kind) as (url, engine), ctx.dbs.fresh(kind) as empty_url:
            bulk.country(engine, count, orgs)
            start_up = run_child([*advies(), "list"], child_env(empty_url, ctx.folder), ctx.folder)
            for command in SQL:
                figures += measure(ctx, kind, command, url, count, start_up.check("list"))
    return figures


def measure(ctx: Context, kind: str, command: str, url: str, count: int, start_up: Finished) -> list[Figure]:
    paged = paginates(command)
    args = [*advies(), command, *(["--limit", str(PAGE)] if paged else [])]
    sql = SQL[command] + (f" LIMIT {PAGE}" if paged else "")
    env = child_env(url, ctx.folder)
    runs = [(run_child(args, env, ctx.folder).check(command),
             run_child(python_child("raw_sql", url, sql), env, ctx.folder).check("SQL"))
            for _ in range(ctx.mode.runs)]
    start_s, start_mb = start_up.seconds, start_up.peak_mb
    how = "one page (--limit)" if paged else "not paginated: every row"
    extra = {"paginated": paged, "start_up_s": start_s, "start_up_mb": start_mb,
             "output_lines": len(runs[0][0].line_times),
             "all_output_s": percentile([c.seconds for c, _ in runs], 0.95)}
    common: dict[str, Any] = {"database": kind, "size": count, "command": ctx.command(NAME, kind),
                              "extra": extra}
    return [
        Figure(f"advies {command}: first page", unit="s", statistic="p95", note=how,
               runs=[(first_page(c), _sql_seconds(s)) for c, s in runs], reference="the SQL behind it",
               target=value_at_most(start_s + 0.05, f"p95 ≤ 50 ms beyond start-up ({start_s:.2f} s)"),
               **common),
        Figure(f"advies {command}: peak RSS", unit="MB", runs=[(c.peak_mb, s.peak_mb) for c, s in runs],
               reference="the SQL behind it", note=how,
               target=value_at_most(start_mb * 1.1, f"flat: ≤ 1.1× start-up ({start_mb:.0f} MB)"), **common),
    ]


def first_page(done: Finished) -> float:
    """When the PAGE-th line of output arrived (or the command ended, if it printed fewer)."""
    return done.line_times[PAGE - 1] if len(done.line_times) >= PAGE else done.seconds


def _sql_seconds(done: Finished) -> float:
    return float(json.loads(done.stdout)["seconds"])


def advies() -> list[str]:
    """The real console script beside this interpreter (as `make` installs it)."""
    script = Path(sys.executable).parent / "advies"
    return [str(script)] if script.exists() else [sys.executable, "-c", "from cli.main import app; app()"]


def paginates(command: str) -> bool:
    """Whether the command takes --limit (then it is asked for one page)."""
    found = typer.main.get_command(app)
    commands: dict[str, Any] = getattr(found, "commands", {})
    return any(p.name == "limit" for p in commands[command].params)
