"""Near the end of the calendar: no "year 10000 is out of range" (issue 7, points 6 and 7).

Resuming or extending a term that ends near the year 9999 crashed; a term past the calendar in
`advies start` or `advies fire` printed a traceback. Now the input bounds keep every date a
person enters sane, and a term that would still run past the calendar (a database from before
these bounds, an extension of 9999 months) is one Dutch sentence with exit 2, and nothing is
written. Driven as a user: real `advies` processes on a real SQLite file.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, update
from sqlmodel import Session, select

from engine.deadline_rules import on_event
from engine.dsl import SYSTEM, Context, DeadlineView, OrgSettings
from engine.terms import Term, TermError, add_days, compute_due
from storage.tables import DeadlineRow, HistoryEntry

ROOT = Path(__file__).resolve().parents[2]
ADVIES = str(Path(sys.executable).parent / "advies")
SECRETARIAT = "secretariaat@example.org"
NOW = "2026-11-20T09:00:00+01:00"
LATER = "2026-12-20T09:00:00+01:00"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One database for the module (every refusal writes nothing): trajectory 1 runs as usual;
    trajectory 2 comes from a database before the input bounds, its advice term ending on
    30 December 9999, and is suspended."""
    folder = tmp_path_factory.mktemp("kalender")
    values = {k: v for k, v in os.environ.items() if not k.startswith("ADVIES_")}
    values.update(ADVIES_DATABASE_URL=f"sqlite:///{folder / 'a.db'}", ADVIES_NOW=NOW,
                  ADVIES_MAIL_DIR=str(folder / "mail"), ADVIES_SECRET_KEY="calendar-end-" + "x" * 32,
                  PYTHONPATH=str(ROOT))
    assert advies(values, "init", "--demo").returncode == 0
    for _ in range(2):
        result = advies(values, "start", "asked_advice", "--org", "demo", "--title", "Eindeloos",
                        "--actor", SECRETARIAT, "--set", "policy_adviser=beleid@example.org")
        assert result.returncode == 0, result.stderr
    move_advice_due(values, 2, date(9999, 12, 30))
    assert advies(values, "fire", "2", "suspend", "--actor", SECRETARIAT).returncode == 0
    return values


def advies(env: dict[str, str], *args: str, now: str = NOW) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ADVIES, *args], env={**env, "ADVIES_NOW": now}, capture_output=True,
                          text=True, timeout=120, cwd=Path(env["ADVIES_MAIL_DIR"]).parent)


def move_advice_due(env: dict[str, str], tid: int, to: date) -> None:
    """A database from before the input bounds: the advice term ends near the year 9999."""
    engine = create_engine(env["ADVIES_DATABASE_URL"])
    with Session(engine) as session:
        session.execute(update(DeadlineRow).where(DeadlineRow.trajectory_id == tid,
                                                  DeadlineRow.name == "advice_due").values(due=to))
        session.commit()
    engine.dispose()


def history(env: dict[str, str]) -> list[tuple[int, str]]:
    engine = create_engine(env["ADVIES_DATABASE_URL"])
    with Session(engine) as session:
        found = [(h.trajectory_id, h.event)
                 for h in session.exec(select(HistoryEntry).order_by(HistoryEntry.id))]
    engine.dispose()
    return found


UNCHANGED = [(1, "start"), (2, "start"), (2, "suspend")]


def refused(result: subprocess.CompletedProcess[str], message: str) -> None:
    assert result.returncode == 2, result.stderr + result.stdout
    assert "Traceback" not in result.stderr + result.stdout
    assert len(result.stderr.strip().splitlines()) == 1
    assert message in result.stderr


def extend(env: dict[str, str], tid: str, extension: str) -> subprocess.CompletedProcess[str]:
    return advies(env, "fire", tid, "extend", "--actor", SECRETARIAT, "--set", "deadline=advice_due",
                  "--set", extension, "--set", "reason=meer tijd")


def test_resume_near_the_end_of_the_calendar_is_refused_in_dutch(env: dict[str, str]) -> None:
    refused(advies(env, "fire", "2", "resume", "--actor", SECRETARIAT, now=LATER),
            "valt buiten de kalender")
    assert history(env) == UNCHANGED


@pytest.mark.parametrize("extension", ["extra=9999m", "extra=1d"])
def test_extend_near_the_end_of_the_calendar_is_refused_in_dutch(env: dict[str, str],
                                                                 extension: str) -> None:
    result = extend(env, "2", extension)
    assert result.returncode in (2, 3), result.stderr + result.stdout  # 3: not after the end now
    assert "Traceback" not in result.stderr + result.stdout
    assert len(result.stderr.strip().splitlines()) == 1
    assert history(env) == UNCHANGED


@pytest.mark.parametrize(("extension", "message"), [
    ("extra=9999w", "Fout: De "),  # past the years the holiday calendar knows, or past 5 years
    ("extra=300w", "ligt meer dan 5 jaar na vandaag"),
    ("until=2099-12-31", "ligt meer dan 5 jaar na vandaag"),
])
def test_an_extension_far_beyond_today_is_bad_input(env: dict[str, str], extension: str,
                                                    message: str) -> None:
    refused(extend(env, "1", extension), message)
    assert history(env) == UNCHANGED


@pytest.mark.parametrize("given", ["received_on=9999-12-01"])
def test_a_term_past_the_calendar_in_start_is_refused_in_dutch(env: dict[str, str], given: str) -> None:
    result = advies(env, "start", "asked_advice", "--org", "demo", "--title", "Eindeloos",
                    "--actor", SECRETARIAT, "--set", "policy_adviser=beleid@example.org",
                    "--set", given)
    refused(result, "kan niet kloppen")
    assert history(env) == UNCHANGED


def test_the_engine_says_past_the_calendar_instead_of_crashing() -> None:
    with pytest.raises(TermError, match="valt buiten de kalender"):
        add_days(date(9999, 12, 30), 31)
    with pytest.raises(TermError, match="valt buiten de kalender"):
        compute_due(date(9999, 6, 1), Term("months", 9999))
    view = DeadlineView("advice_due", date(9999, 12, 30), "suspended", "uitleg",
                        date(2026, 11, 20), True)
    org = OrgSettings("demo", "Demo", {})
    ctx = Context("requested", {}, {}, SYSTEM, org, date(2026, 12, 20), {"advice_due": view})
    with pytest.raises(TermError, match="valt buiten de kalender"):
        on_event(ctx, "resume")
