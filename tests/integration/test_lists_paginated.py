"""`advies list` and `advies deadlines` one page at a time (issue 9), on a real SQLite file with
3,000 trajectories over 30 organisations (and one more in an organisation of its own),
bulk-inserted with SQL Core, and on PostgreSQL.

What a user gets is checked against the rows themselves, read once in Python: the pages are
disjoint and together are every row, in order (id; due then id), with the same fields as
before pagination; the filters agree with a plain Python filter over those rows; bad --limit,
--offset and --org are one Dutch sentence with exit 2; the last line says where the page is
and how to see the next one.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, insert, select
from sqlmodel import Session

from engine import labels
from flows import all_flows
from storage import migrate
from storage.db import make_engine
from storage.tables import DeadlineRow, Organisation, Trajectory
from tests.advies_cli import environment, in_process, one_dutch_line, run, set_environment

TODAY = date(2026, 3, 24)  # ADVIES_NOW of tests.advies_cli.environment
STAMP = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
ORGS = 30
TRAJECTORIES = 3000
ACTIVE = ("running", "suspended", "overdue")
FLOWS = all_flows()

Capture = pytest.CaptureFixture[str]


# --- the data ------------------------------------------------------------------------------------


def bulk_load(engine: Engine, trajectories: int, orgs: int) -> None:
    """`orgs` organisations 'raad-NN' with `trajectories` trajectories at random among them (every
    flow, every state, some suspended), 0 to 3 deadlines each in every status with ends around
    today (many on the same day); 'een' with one trajectory and one running deadline; 'leeg'
    with none."""
    rng = random.Random(9)
    with Session(engine) as session:
        made = [Organisation(slug=f"raad-{n:02d}", name=f"Adviesraad {n}") for n in range(orgs)]
        one, empty = Organisation(slug="een", name="Eén traject"), Organisation(slug="leeg", name="Leeg")
        session.add_all([*made, one, empty])
        session.commit()
        org_ids = [org.id for org in made]
        one_id = one.id
    trajectory_rows, deadline_rows = [], []
    for n in range(trajectories + 1):
        tid = 10_000 + n
        name = rng.choice(sorted(FLOWS))
        flow = FLOWS[name].flow
        org_id = one_id if n == trajectories else rng.choice(org_ids)
        trajectory_rows.append({
            "id": tid, "organisation_id": org_id,
            "flow": name, "flow_version": 1, "state": rng.choice(flow.states).name,
            "title": f"Advies [b]{n}[/b] ëën" if n % 7 == 0 else f"Advies {n}",
            "data": {"suspended_on": "2026-03-02"} if rng.random() < 0.05 else {},
            "version": 1 + n % 3, "created_at": STAMP, "updated_at": STAMP})
        count = rng.choice((0, 1, 1, 2, 3))
        terms = [flow.deadlines[0]] if n == trajectories else rng.choices(flow.deadlines, k=count)
        for spec in terms:
            status = "running" if n == trajectories else rng.choice(
                ("running",) * 5 + ("suspended", "overdue", "met", "cancelled"))
            due = TODAY + timedelta(days=rng.randint(-40, 60))
            deadline_rows.append({
                "id": 50_000 + len(deadline_rows), "trajectory_id": tid, "organisation_id": org_id,
                "name": spec.name,
                "label": spec.label, "due": due, "status": status,
                "explanation": f"{spec.label}:\ntot en met {due:%d-%m-%Y}",
                "steps_done": ["before-5wd"][:n % 2],
                "alert_roles": [], "on_expiry": None, "atw": True, "started_on": due - timedelta(days=42),
                "suspended_on": None, "closed_on": None})
    with engine.begin() as conn:
        conn.execute(insert(Trajectory.__table__), trajectory_rows)  # type: ignore[attr-defined]
        conn.execute(insert(DeadlineRow.__table__), deadline_rows)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Everything:
    """Every trajectory and deadline, read once, and the lists as they should be."""

    trajectories: list[dict[str, Any]]  # as `list --json` shows them, in id order
    org_of: dict[int, str]
    deadlines: list[dict[str, Any]]  # as `deadlines --json` shows them, by due then id


def read_everything(engine: Engine) -> Everything:
    with engine.connect() as conn:
        orgs = {o.id: o.slug for o in conn.execute(select(Organisation.__table__))}  # type: ignore[attr-defined]
        trajectories = list(conn.execute(select(Trajectory.__table__)))  # type: ignore[attr-defined]
        deadlines = list(conn.execute(select(DeadlineRow.__table__)))  # type: ignore[attr-defined]
    titles = {t.id: t.title for t in trajectories}
    active = [d for d in deadlines if d.status in ACTIVE]
    active_of = defaultdict(list)
    for d in active:
        active_of[d.trajectory_id].append(d)

    def shown(d: Any) -> str:
        return "overdue" if d.status == "running" and d.due < TODAY else d.status

    rows = []
    for t in sorted(trajectories, key=lambda t: t.id):
        flow = FLOWS[t.flow].flow
        own = active_of[t.id]
        rows.append({
            "id": t.id, "flow": t.flow, "flow_title": flow.title, "state": t.state,
            "state_label": flow.state(t.state).label, "title": t.title, "version": t.version,
            "suspended": bool(t.data.get("suspended_on")), "final": t.state in flow.final_states,
            "next_due": min(d.due for d in own).isoformat() if own else None,
            "overdue": any(shown(d) == "overdue" for d in own)})
    listed = [{"name": d.name, "label": d.label, "due": d.due.isoformat(), "status": shown(d),
               "status_label": labels.status(shown(d)), "explanation": d.explanation,
               "steps_done": list(d.steps_done), "trajectory_id": d.trajectory_id,
               "title": titles[d.trajectory_id]}
              for d in sorted(active, key=lambda d: (d.due, d.id))]
    return Everything(rows, {t.id: orgs[t.organisation_id] for t in trajectories}, listed)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], Everything]:
    folder = tmp_path_factory.mktemp("lists")
    env = environment(folder)
    engine = make_engine(env["ADVIES_DATABASE_URL"])
    migrate.upgrade(engine)
    bulk_load(engine, TRAJECTORIES, ORGS)
    everything = read_everything(engine)
    engine.dispose()
    return env, everything


@pytest.fixture
def everything(loaded: tuple[dict[str, str], Everything], monkeypatch: pytest.MonkeyPatch) -> Everything:
    """The bulk-loaded database, as the environment of `advies` in this process."""
    env, found = loaded
    set_environment(monkeypatch, env)
    return found


# --- running the commands ------------------------------------------------------------------------


def advies(capsys: Capture, *argv: str) -> str:
    code = in_process(list(argv))
    said = capsys.readouterr()
    assert code == 0, said.err
    assert not said.err
    return said.out


def every_page(capsys: Capture, *argv: str, limit: int) -> list[list[dict[str, Any]]]:
    """`advies ARGV --json` page after page, until a page is not full."""
    pages, offset = [], 0
    while True:
        page = json.loads(advies(capsys, *argv, "--json", "--limit", str(limit), "--offset", str(offset)))
        pages.append(page)
        if len(page) < limit:
            return pages
        offset += limit


def joined(pages: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    return [row for page in pages for row in page]


# --- pages ------------------------------------------------------------------------------------------


def test_list_pages_are_disjoint_and_together_every_trajectory_in_order(everything: Everything,
                                                                        capsys: Capture) -> None:
    pages = every_page(capsys, "list", limit=700)
    assert [len(p) for p in pages] == [700, 700, 700, 700, 201]
    ids = [[row["id"] for row in page] for page in pages]
    assert sum(len(set(p)) for p in ids) == len(set().union(*ids)) == TRAJECTORIES + 1
    assert joined(pages) == everything.trajectories  # same order, same fields, same values


def test_deadline_pages_are_disjoint_and_together_every_running_deadline_by_due(
        everything: Everything, capsys: Capture) -> None:
    pages = every_page(capsys, "deadlines", limit=1000)
    assert joined(pages) == everything.deadlines
    assert len({d["due"] for d in everything.deadlines}) < len(everything.deadlines) / 10  # ties on due
    assert {d["status"] for d in everything.deadlines} == {"running", "suspended", "overdue"}
    odd = every_page(capsys, "deadlines", limit=333)  # pages that split a day: ordered by id within
    assert joined(odd) == everything.deadlines


def test_the_default_page_is_50_rows(everything: Everything, capsys: Capture) -> None:
    assert json.loads(advies(capsys, "list", "--json")) == everything.trajectories[:50]
    assert json.loads(advies(capsys, "deadlines", "--json")) == everything.deadlines[:50]
    text = advies(capsys, "list").splitlines()
    assert len(text) == 1 + 50 + 1  # header, the rows, where this page is
    assert text[0].split() == ["Nr", "Soort", "Stap", "Eerstvolgende", "termijn", "Titel"]


FILTERS: list[tuple[list[str], Callable[[Everything, dict[str, Any]], bool]]] = [
    (["--org", "raad-07"], lambda e, r: e.org_of[r["id"]] == "raad-07"),
    (["--flow", "unasked_advice"], lambda e, r: r["flow"] == "unasked_advice"),
    (["--state", "awaiting_response"], lambda e, r: r["state"] == "awaiting_response"),
    (["--overdue"], lambda e, r: r["overdue"]),
    (["--org", "raad-03", "--overdue"], lambda e, r: e.org_of[r["id"]] == "raad-03" and r["overdue"]),
    (["--flow", "asked_advice", "--state", "advising", "--overdue"],
     lambda e, r: r["flow"] == "asked_advice" and r["state"] == "advising" and r["overdue"]),
    (["--org", "raad-11", "--flow", "md_signal"],
     lambda e, r: e.org_of[r["id"]] == "raad-11" and r["flow"] == "md_signal"),
    (["--state", "bestaat-niet"], lambda e, r: False),
    (["--org", "leeg"], lambda e, r: False),
]


@pytest.mark.parametrize(("args", "keep"), FILTERS, ids=[" ".join(a) for a, _ in FILTERS])
def test_list_filters_agree_with_a_plain_filter(everything: Everything, capsys: Capture,
                                                args: list[str], keep: Callable[..., bool]) -> None:
    expected = [row for row in everything.trajectories if keep(everything, row)]
    assert joined(every_page(capsys, "list", *args, limit=40)) == expected
    if expected:
        assert f"van {len(expected):,} traject".replace(",", ".") in advies(capsys, "list", *args)
    else:
        assert advies(capsys, "list", *args) == "Geen trajecten gevonden.\n"


def test_the_overdue_filter_is_about_terms_that_have_passed(everything: Everything) -> None:
    overdue = [row for row in everything.trajectories if row["overdue"]]
    assert 100 < len(overdue) < len(everything.trajectories) / 2
    assert any(row["state"] in FLOWS[row["flow"]].flow.final_states for row in overdue)


@pytest.mark.parametrize("org", ["raad-07", "raad-29", "een"])
def test_deadlines_of_one_organisation(everything: Everything, capsys: Capture, org: str) -> None:
    expected = [d for d in everything.deadlines if everything.org_of[d["trajectory_id"]] == org]
    assert joined(every_page(capsys, "deadlines", "--org", org, limit=25)) == expected
    assert expected


# --- the last line -------------------------------------------------------------------------------


def test_the_last_line_says_where_the_page_is_and_what_comes_next(everything: Everything,
                                                                  capsys: Capture) -> None:
    def last_line(*argv: str) -> str:
        return advies(capsys, *argv).splitlines()[-1]

    deadlines = f"{len(everything.deadlines):,}".replace(",", ".")
    assert last_line("list") == "1–50 van 3.001 trajecten. Volgende: --offset 50"
    assert last_line("list", "--offset", "50") == "51–100 van 3.001 trajecten. Volgende: --offset 100"
    assert last_line("list", "--limit", "700", "--offset", "700") == \
        "701–1.400 van 3.001 trajecten. Volgende: --offset 1400 --limit 700"
    assert last_line("list", "--offset", "2950") == "2.951–3.000 van 3.001 trajecten. Volgende: --offset 3000"
    assert last_line("list", "--offset", "3000") == "3.001 van 3.001 trajecten."
    assert last_line("list", "--offset", "5000") == \
        "Geen trajecten vanaf --offset 5000: er zijn 3.001 trajecten. Laatste pagina: --offset 3000"
    assert advies(capsys, "list", "--offset", "5000").count("\n") == 1  # no header for no rows
    assert last_line("list", "--offset", str(2**63 - 1)).startswith(
        "Geen trajecten vanaf --offset 9223372036854775807: er zijn 3.001 trajecten.")
    assert last_line("list", "--org", "een") == "1 van 1 traject."
    assert last_line("deadlines") == f"1–50 van {deadlines} termijnen. Volgende: --offset 50"
    assert last_line("deadlines", "--org", "een") == "1 van 1 termijn."
    assert advies(capsys, "deadlines", "--org", "leeg") == "Geen termijnen.\n"


def test_rows_are_one_aligned_line_each(everything: Everything, capsys: Capture) -> None:
    lines = advies(capsys, "list", "--limit", "200").splitlines()
    column = lines[0].index("Eerstvolgende termijn")
    for line, row in zip(lines[1:-1], everything.trajectories[:200], strict=True):
        assert line.split()[0] == str(row["id"])
        assert line[column:].startswith(row["next_due"] or " ")
        assert line.endswith(row["title"])  # as it is: no markup, whatever it looks like
    assert any("[b]" in row["title"] for row in everything.trajectories[:200])
    shown = advies(capsys, "deadlines", "--limit", "3").splitlines()
    assert shown[0].split() == ["Traject", "Einddatum", "Status", "Termijn", "Uitleg"]
    one = everything.deadlines[0]
    assert shown[1].startswith(str(one["trajectory_id"]))
    assert shown[1].endswith(" ".join(one["explanation"].split()))  # one line per deadline
    assert len(shown) == 1 + 3 + 1


def test_a_page_is_a_few_statements_whatever_the_size(everything: Everything, capsys: Capture) -> None:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        for argv in (["list", "--org", "raad-02", "--overdue"], ["deadlines"],
                     ["deadlines", "--org", "raad-02"]):
            seen.clear()
            advies(capsys, *argv)
            assert len(seen) <= 3, (argv, seen)  # the organisation, the page, the count
    finally:
        event.remove(Engine, "before_cursor_execute", record)


# --- bad values ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("argv", "words"), [
    (["list", "--limit", "0"],
     "--limit is het aantal regels per pagina: een geheel getal van 1 tot en met 1000."),
    (["list", "--limit", "1001"], "--limit is het aantal regels per pagina"),
    (["deadlines", "--limit", "-3"], "--limit is het aantal regels per pagina"),
    (["deadlines", "--limit", "99999999999999999999999"], "--limit is het aantal regels per pagina"),
    (["list", "--offset", "-1"], "--offset is het aantal regels dat wordt overgeslagen"),
    (["deadlines", "--offset", str(2**63)], "van 0 tot en met 9223372036854775807"),
    (["list", "--limit", "veel"], "De waarde voor --limit klopt niet. Geef een geheel getal."),
    (["deadlines", "--offset", "1.5"], "De waarde voor --offset klopt niet. Geef een geheel getal."),
    (["list", "--org", "nergens"], "Organisatie 'nergens' bestaat niet."),
    (["deadlines", "--org", "nergens"], "Organisatie 'nergens' bestaat niet."),
    (["list", "--flow", "nergens"], "Onbekende stroom 'nergens'"),
])
def test_bad_values_are_one_dutch_sentence(everything: Everything, capsys: Capture, argv: list[str],
                                           words: str) -> None:
    code = in_process(argv)
    said = capsys.readouterr()
    one_dutch_line(code, said.err, 2, words)
    assert not said.out


def test_with_json_a_bad_value_is_json_too(everything: Everything, capsys: Capture) -> None:
    code = in_process(["list", "--limit", "0", "--json"])
    said = capsys.readouterr()
    assert code == 2
    assert json.loads(said.out) == {"error": said.err.removeprefix("Fout: ").strip(), "exit_code": 2}


def test_the_real_command_line(loaded: tuple[dict[str, str], Everything]) -> None:
    env, _ = loaded
    listed = run(env, "list", "--limit", "3", "--offset", "3")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[-1] == "4–6 van 3.001 trajecten. Volgende: --offset 6 --limit 3"
    refused = run(env, "deadlines", "--limit", "0")
    assert (refused.returncode, refused.stdout) == (2, "")
    assert refused.stderr.startswith("Fout: --limit is het aantal regels per pagina")


# --- PostgreSQL ------------------------------------------------------------------------------------


@pytest.mark.postgres
def test_the_same_pages_on_postgresql(pg_url: str, tmp_path: Path, capsys: Capture,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    engine = make_engine(pg_url)
    bulk_load(engine, 600, 6)
    everything = read_everything(engine)
    engine.dispose()
    set_environment(monkeypatch, {**environment(tmp_path), "ADVIES_DATABASE_URL": pg_url})
    assert joined(every_page(capsys, "list", limit=250)) == everything.trajectories
    assert joined(every_page(capsys, "deadlines", limit=100)) == everything.deadlines
    overdue = [row for row in everything.trajectories
               if row["overdue"] and everything.org_of[row["id"]] == "raad-02"]
    assert joined(every_page(capsys, "list", "--org", "raad-02", "--overdue", limit=10)) == overdue
    mine = [d for d in everything.deadlines if everything.org_of[d["trajectory_id"]] == "raad-04"]
    assert joined(every_page(capsys, "deadlines", "--org", "raad-04", limit=30)) == mine
    total = len(everything.trajectories)
    assert advies(capsys, "list").splitlines()[-1] == f"1–50 van {total} trajecten. Volgende: --offset 50"
    assert advies(capsys, "deadlines", "--offset", str(2**63 - 1)).startswith("Geen termijnen vanaf")
    code = in_process(["list", "--org", "nergens"])
    one_dutch_line(code, capsys.readouterr().err, 2, "Organisatie 'nergens' bestaat niet.")
