"""Import running trajectories from a spreadsheet (`advies import FILE`, the page /importeren).

Each row becomes a trajectory in the state it is in, with the deadlines the flow's own rules
give for that state from the row's dates (app.import_plan), and one history entry `import`. One
file is one transaction: when any row is wrong, every wrong row is reported by its line and
nothing is written. No mail is sent: the people already know their trajectory. The reminder
steps whose day lies before the import are recorded as done (they were the spreadsheet's
business); the sweep sends the ones from the day of the import on.

The rows are checked in Python, then written table by table with one executemany each
(trajectory with RETURNING of the ids, history, deadline, deadline step).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import PurePath
from typing import Any

from sqlalchemy import Connection, Engine, Table, insert, select

from app import directory
from app.import_plan import COLUMNS, Planned, Planner
from app.import_rows import Row, read
from app.sweep_claims import DONE
from app.writer import deadline_values, new_deadline
from engine.clock import Clock, local_today
from engine.dsl import Actor
from engine.errors import InvalidInput, NotAllowed
from engine.reminders import Schedule, Step, due_steps, next_step_on, reminders_of, steps_of
from flows import all_flows
from storage.db import busy, detached, is_busy
from storage.tables import (
    DeadlineRow,
    DeadlineStep,
    HistoryEntry,
    Organisation,
    Person,
    Trajectory,
)

#: Who may import into an organisation: its secretariat, as on the web page (web.site.MANAGERS).
IMPORTERS = frozenset({"secretariat"})
#: How many problems a refusal lists; the rest are counted ("en nog 12").
MAX_PROBLEMS = 20
#: How many rows a dry run shows with their deadlines.
PREVIEW = 5

TRAJECTORY: Table = Trajectory.__table__  # type: ignore[attr-defined]
HISTORY: Table = HistoryEntry.__table__  # type: ignore[attr-defined]
DEADLINE: Table = DeadlineRow.__table__  # type: ignore[attr-defined]
STEP: Table = DeadlineStep.__table__  # type: ignore[attr-defined]
ORGANISATION: Table = Organisation.__table__  # type: ignore[attr-defined]
PERSON: Table = Person.__table__  # type: ignore[attr-defined]


class FileRefused(InvalidInput):
    """Rows of the file are wrong: each by its line and why; nothing was written."""

    def __init__(self, name: str, problems: list[tuple[int, str]]) -> None:
        count = len(problems)
        super().__init__(f"{name} is niet geïmporteerd: {count} "
                         f"{'regel klopt' if count == 1 else 'regels kloppen'} niet. "
                         "Er is niets opgeslagen.")
        self.problems = problems

    def lines(self) -> list[str]:
        """One Dutch line per problem, at most MAX_PROBLEMS, then how many more."""
        shown = [f"regel {line}: {why}" for line, why in self.problems[:MAX_PROBLEMS]]
        rest = len(self.problems) - MAX_PROBLEMS
        return shown + ([f"en nog {rest} {'regel' if rest == 1 else 'regels'}."] if rest > 0 else [])


@dataclass
class ImportResult:
    """What an import created (or, in a dry run, would create)."""

    file: str
    dry_run: bool
    created: int
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # flow → state → rows
    preview: list[dict[str, Any]] = field(default_factory=list)
    ids: list[int] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"file": self.file, "dry_run": self.dry_run, "created": self.created,
                "counts": self.counts, "preview": self.preview, "ids": self.ids}


class Importer:
    """Reads, checks and writes one import file in one transaction."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock

    def run(self, name: str, content: bytes, actor_email: str, *, dry_run: bool = False,
            only_org: str | None = None) -> ImportResult:
        """Import the file `name` (or check it: `dry_run`); `only_org`: rows of another
        organisation are wrong rows (the web page imports into the person's own)."""
        file = PurePath(name).name
        rows = read(file, content, COLUMNS)
        try:
            with self.engine.begin() as conn:
                planned = self._checked(conn, file, rows, actor_email.strip().lower(), only_org)
                result = _result(file, planned, dry_run)
                if not dry_run:
                    result.ids = self._write(conn, planned, file)
        except Exception as error:
            if is_busy(error):
                raise busy(self.engine) from error
            raise
        return result

    def _checked(self, conn: Connection, file: str, rows: list[Row], actor_email: str,
                 only_org: str | None) -> list[Planned]:
        today = local_today(self.clock)
        slugs = {r.values.get("organisation", "").strip() for r in rows}
        orgs = _organisations(conn, {only_org} & slugs if only_org else slugs)
        actors = {slug: _actor(conn, org, actor_email) for slug, org in orgs.items()}
        planner = Planner(all_flows(), orgs, actors, _titles(conn, orgs), today, only_org)
        planned: list[Planned] = []
        problems: list[tuple[int, str]] = []
        for row in rows:
            found = planner.plan(row)
            if isinstance(found, str):
                problems.append((row.line, found))
            else:
                planned.append(found)
        if problems:
            raise FileRefused(file, problems)
        return planned

    def _write(self, conn: Connection, planned: list[Planned], file: str) -> list[int]:
        now, today = self.clock.now(), local_today(self.clock)
        ids = _insert_trajectories(conn, planned, now)
        conn.execute(insert(HISTORY), [_history(p, tid, now, file) for p, tid in zip(
            planned, ids, strict=True)])
        deadlines = [(p, new_deadline(tid, p.org.id or 0, effect, p.since))
                     for p, tid in zip(planned, ids, strict=True) for effect in p.deadlines]
        if deadlines:
            self._write_deadlines(conn, deadlines, today, now)
        return ids

    @staticmethod
    def _write_deadlines(conn: Connection, deadlines: list[tuple[Planned, DeadlineRow]],
                         today: date, now: datetime) -> None:
        """The deadlines, each with its next step day; the steps before today recorded done."""
        yesterday = today - timedelta(days=1)
        plain, with_steps, past = [], [], []
        known: dict[Schedule, tuple[date, list[Step]]] = {}  # many deadlines share a schedule
        for planned, deadline in deadlines:
            schedule = _schedule(planned, deadline)
            if schedule not in known:
                known[schedule] = (next_step_on(schedule, yesterday),
                                   due_steps(schedule, yesterday))
            deadline.next_step_on, steps_done = known[schedule]
            if steps_done:  # its id is needed for its steps: RETURNING (slower on PostgreSQL)
                with_steps.append(deadline_values(deadline))
                past.append((schedule.due, steps_done))
            else:
                plain.append(deadline_values(deadline))
        if plain:
            conn.execute(insert(DEADLINE), plain)
        if with_steps:
            found = conn.execute(insert(DEADLINE).returning(
                DEADLINE.c.id, sort_by_parameter_order=True), with_steps).scalars().all()
            conn.execute(insert(STEP), [
                {"deadline_id": did, "step": step.id, "for_due": due, "due_on": step.due_on,
                 "status": DONE, "done_at": now, "mails": 0}
                for did, (due, done) in zip(found, past, strict=True) for step in done])


def _schedule(planned: Planned, deadline: DeadlineRow) -> Schedule:
    spec = next(s for s in planned.flow.flow.deadlines if s.name == deadline.name)
    return Schedule(deadline.due, deadline.started_on, spec.on_expiry is not None,
                    steps_of(planned.org.reminders), reminders_of(spec))


def _insert_trajectories(conn: Connection, planned: list[Planned], now: datetime) -> list[int]:
    values = [{"organisation_id": p.org.id, "flow": p.flow.name,
               "flow_version": p.flow.flow.version, "state": p.state, "title": p.title,
               "data": p.data, "version": 1, "created_at": now, "updated_at": now}
              for p in planned]
    found = conn.execute(insert(TRAJECTORY).returning(TRAJECTORY.c.id,
                                                      sort_by_parameter_order=True), values)
    return list(found.scalars().all())


def _history(planned: Planned, trajectory_id: int, now: datetime, file: str) -> dict[str, Any]:
    return {"trajectory_id": trajectory_id, "at": now, "actor": planned.actor.email,
            "event": "import", "from_state": None, "to_state": planned.state,
            "note": f"Geïmporteerd uit {file}, regel {planned.line}.",
            "payload": {"file": file, "line": planned.line, "since": planned.since.isoformat()}}


def _organisations(conn: Connection, slugs: set[str]) -> dict[str, Organisation]:
    rows = conn.execute(select(ORGANISATION).where(ORGANISATION.c.slug.in_(sorted(slugs))))
    names = tuple(rows.keys())
    found = (detached(Organisation, dict(zip(names, r, strict=True))) for r in rows)
    return {org.slug: org for org in found}


def _actor(conn: Connection, org: Organisation, email: str) -> tuple[Actor, directory.People]:
    """Who imports, in this organisation: a person of its secretariat (or its chair)."""
    people = directory.People(conn, org.id or 0, {})
    person = people.everyone().get(email)
    if person is None or not set(person.roles) & IMPORTERS:
        raise NotAllowed(f"Alleen het secretariaat van {org.name} mag trajecten importeren; "
                         f"{email or 'wie importeert'} hoort daar niet bij. Geef met --actor je "
                         "eigen e-mailadres.")
    return Actor(person.email, person.name, frozenset(person.roles)), people


def _titles(conn: Connection, orgs: dict[str, Organisation]) -> set[tuple[int, str]]:
    """The titles the organisations' trajectories have already: an import twice is refused."""
    ids = [org.id for org in orgs.values()]
    rows = conn.execute(select(TRAJECTORY.c.organisation_id, TRAJECTORY.c.title)
                        .where(TRAJECTORY.c.organisation_id.in_(ids)))
    return {(oid, title.casefold()) for oid, title in rows}


def _result(file: str, planned: list[Planned], dry_run: bool) -> ImportResult:
    counts: dict[str, dict[str, int]] = {}
    for (flow, state), number in sorted(Counter((p.flow.name, p.state) for p in planned).items()):
        counts.setdefault(flow, {})[state] = number
    preview = [{"line": p.line, "title": p.title, "flow": p.flow.name, "state": p.state,
                "deadlines": [{"name": d.spec.name, "label": d.spec.label, "due": d.due.isoformat()}
                              for d in p.deadlines]}
               for p in planned[:PREVIEW]]
    return ImportResult(file, dry_run, len(planned), counts, preview)
