"""`advies list` and `advies deadlines` with a country's trajectories, beside the SQL behind them.

The database holds trajectories of the asked-advice flow over many organisations, in a mix of
states with running, overdue and met deadlines (benchmarks.bulk.COUNTRY), bulk-loaded. Each
command runs as the real console script in a child process: the time until its first page (the
first 50 lines of output, or all of it when shorter) and its peak RSS. A command that takes
`--limit` is asked for one page; one that does not is measured as it is.

References, in the same run: the raw SQL that produces what the command shows (every row, or one
page with LIMIT when the command paginates), in a child process: its time to fetch the rows and
its peak RSS. And the command itself on an empty database, just before in each run: its
start-up, whose p95 over the runs the first page's p95 (≤ 50 ms more) and the memory (flat:
≤ 1.1×) are judged against (`advies list` on an empty database: both commands start the same
way).

The web overview (/trajecten, the secretariat's start page) of a big organisation of its own
(`big` in run(), counted in the size) is asked for in-process, through the app of
web.app.create_app, by its secretariat signed in as a person does (the sign-in mail's link, then
its button): REQUESTS times a run, each timed to the whole first page (a run's value: their
p95), beside the SQL that page shows (the count, the page with each row's next deadline, the
counts per state, the deadlines of this week and the overdue ones), run with SQLAlchemy Core
on the same engine just after each request.
"""

from __future__ import annotations

import email
import email.policy
import json
import re
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import typer.main
from sqlalchemy import Engine, text

from benchmarks import bulk
from benchmarks.databases import child_env, clock, settings_for
from benchmarks.harness import (
    Context,
    Figure,
    Finished,
    advies,
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


OVERVIEW_PAGE = 25  # app.overview.PAGE_SIZE
REQUESTS = 20  # overview pages asked for in a run
THEIR_DEADLINES = ("SELECT d.id, d.trajectory_id, d.name, d.label, d.due, d.status, d.explanation, "
                   "d.steps_done, t.title FROM deadline d JOIN trajectory t ON t.id = d.trajectory_id "
                   "WHERE d.organisation_id = :org")
OVERVIEW_SQL = {
    "count": "SELECT count(*) FROM trajectory WHERE organisation_id = :org",
    "page": ("SELECT t.id, t.title, t.flow, t.state, t.version, t.data, d.name, d.label, d.due, d.status "
             "FROM (SELECT id, title, flow, state, version, data FROM trajectory "
             f"WHERE organisation_id = :org ORDER BY id DESC LIMIT {OVERVIEW_PAGE}) t "
             "LEFT JOIN deadline d ON d.id = (SELECT n.id FROM deadline n WHERE n.trajectory_id = t.id "
             f"AND n.status IN {ACTIVE} ORDER BY n.due, n.id LIMIT 1) ORDER BY t.id DESC"),
    "per_state": ("SELECT flow, state, count(*) FROM trajectory WHERE organisation_id = :org "
                  "GROUP BY flow, state ORDER BY flow, state"),
    "this_week": f"{THEIR_DEADLINES} AND d.status IN {ACTIVE} AND d.due BETWEEN :today AND :week_end "
                 "ORDER BY d.due, d.id LIMIT 50",
    "overdue": f"{THEIR_DEADLINES} AND d.status IN ('running', 'overdue') AND d.due < :today "
               "ORDER BY d.due, d.id LIMIT 50",
}


def run(ctx: Context) -> list[Figure]:
    count, orgs = ctx.mode.size(20, 2000, 100_000), ctx.mode.size(2, 30, 300)
    big = ctx.mode.size(10, 200, 5000)
    figures = []
    for kind in ctx.kinds:
        with ctx.dbs.engine(kind) as (url, engine), ctx.dbs.fresh(kind) as empty_url:
            bulk.country(engine, count - big, orgs)
            secretariat = bulk.big_organisation(engine, big)
            for command in SQL:
                figures += measure(ctx, kind, command, (url, empty_url), count)
            figures.append(measure_overview(ctx, kind, url, engine, count, (secretariat, big)))
    return figures


def measure(ctx: Context, kind: str, command: str, urls: tuple[str, str], count: int) -> list[Figure]:
    """The command's first page and peak RSS, each run beside the SQL behind it and the
    start-up (`advies list` on the empty database at `urls[1]`) measured just before."""
    url, empty_url = urls
    paged = paginates(command)
    args = [*advies(), command, *(["--limit", str(PAGE)] if paged else [])]
    sql = SQL[command] + (f" LIMIT {PAGE}" if paged else "")
    env = child_env(url, ctx.folder)
    start_ups, runs = [], []
    for _ in range(ctx.mode.runs):
        start_ups.append(run_child([*advies(), "list"], child_env(empty_url, ctx.folder), ctx.folder)
                         .check("start-up"))
        runs.append((run_child(args, env, ctx.folder).check(command),
                     run_child(python_child("raw_sql", url, sql), env, ctx.folder).check("SQL")))
    # judged like the first page: the p95 of the runs (a single start-up drifts by 0.2 s here)
    start_s = percentile([s.seconds for s in start_ups], 0.95)
    start_mb = percentile([s.peak_mb for s in start_ups], 0.95)
    how = "one page (--limit)" if paged else "not paginated: every row"
    extra = {"paginated": paged, "start_up_s": start_s, "start_up_mb": start_mb,
             "start_up_runs_s": [s.seconds for s in start_ups],
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


def paginates(command: str) -> bool:
    """Whether the command takes --limit (then it is asked for one page)."""
    found = typer.main.get_command(app)
    commands: dict[str, Any] = getattr(found, "commands", {})
    return any(p.name == "limit" for p in commands[command].params)


# --- the web overview -----------------------------------------------------------------------------


def measure_overview(ctx: Context, kind: str, url: str, engine: Engine, count: int,
                     big: tuple[bulk.Org, int]) -> Figure:
    """The first page of /trajecten for the big organisation's secretariat, beside its SQL."""
    org, size = big
    runs = []
    with signed_in_client(ctx, url, engine, org) as client:
        page = client.get("/trajecten")  # the first request warms templates and the pool
        if page.status_code != 200 or "Alle trajecten" not in page.text:
            raise RuntimeError(f"overview failed ({page.status_code}): {page.text[:2000]}")
        for _ in range(ctx.mode.runs):
            pairs = [(_seconds(lambda: client.get("/trajecten").raise_for_status()),
                      _seconds(lambda: overview_sql(engine, org.id))) for _ in range(REQUESTS)]
            runs.append((percentile([p for p, _ in pairs], 0.95), percentile([r for _, r in pairs], 0.95)))
    return Figure("web overview: first page", database=kind, size=count, unit="s", statistic="p95",
                  runs=runs, reference="the SQL behind it", command=ctx.command(NAME, kind),
                  note=f"an organisation of {size:,} trajectories, {REQUESTS} requests a run",
                  target=value_at_most(0.05, "p95 ≤ 50 ms"))


@contextmanager
def signed_in_client(ctx: Context, url: str, engine: Engine, org: bulk.Org) -> Iterator[Any]:
    """A TestClient of the web app, signed in as the organisation's secretariat."""
    from app.service import Service
    from web.app import create_app

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
        from fastapi.testclient import TestClient

    service = Service(engine, settings_for(url, ctx.folder), clock())
    with TestClient(create_app(service), base_url="http://testserver", follow_redirects=False) as client:
        if client.post("/inloggen", data={"email": org.secretariat}).status_code != 200:
            raise RuntimeError("asking for a sign-in link failed")
        link = sign_in_path(engine, org.secretariat)
        client.get(link).raise_for_status()
        if client.post(link).status_code != 303:
            raise RuntimeError("signing in failed")
        yield client


def sign_in_path(engine: Engine, address: str) -> str:
    """The path of the newest sign-in link mailed to `address` (as tests/web/conftest.py)."""
    with engine.connect() as conn:
        raw = conn.execute(text("SELECT raw FROM outbox WHERE recipient = :to AND "
                                "template = 'common/sign_in' ORDER BY id DESC LIMIT 1"),
                           {"to": address}).scalar_one()
    message = email.message_from_bytes(raw, policy=email.policy.default)
    body = message.get_body(preferencelist=("plain",))
    found = re.search(r"https?://[^/\s]+(/inloggen/\S+)", body.get_content() if body else "")
    if found is None:
        raise RuntimeError(f"no sign-in link in the mail to {address}")
    return found.group(1)


def overview_sql(engine: Engine, org_id: int) -> None:
    """The rows the overview shows, fetched with SQLAlchemy Core."""
    today = clock().now().date()
    params = {"org": org_id, "today": today, "week_end": today + timedelta(days=6)}
    with engine.connect() as conn:
        for sql in OVERVIEW_SQL.values():
            conn.execute(text(sql), params).all()


def _seconds(action: Any) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started
