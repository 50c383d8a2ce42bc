"""The command line as a user runs it: real processes, a real SQLite file, exit codes, Dutch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

ADVIES = str(Path(sys.executable).parent / "advies")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    values = {**os.environ, "ADVIES_DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}",
              "ADVIES_MAIL_DIR": str(tmp_path / "mail"), "ADVIES_NOW": "2026-03-24T09:30:00+01:00",
              "ADVIES_SECRET_KEY": "cli-test-geheim-" + "x" * 32}
    values.pop("ADVIES_SMTP_URL", None)
    return values


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ADVIES, *args], env=env, capture_output=True, text=True, timeout=60,
                          cwd=Path(env["ADVIES_MAIL_DIR"]).parent)


def test_the_readme_walk(env: dict[str, str], tmp_path: Path) -> None:
    assert run(env, "init", "--demo").returncode == 0
    started = run(env, "start", "asked_advice", "--org", "demo", "--title", "Minimabeleid 2027",
                  "--actor", "secretariaat@example.org", "--set", "policy_adviser=beleid@example.org",
                  "--json")
    assert started.returncode == 0, started.stderr
    view = json.loads(started.stdout)
    assert {"id", "flow", "state", "allowed_events", "deadlines", "history"} <= set(view)
    assert view["deadlines"][0] == {**view["deadlines"][0], "name": "advice_due", "due": "2026-05-06"}
    fired = run(env, "fire", str(view["id"]), "call_participants", "--actor", "secretariaat@example.org")
    assert fired.returncode == 0
    assert "Oproep aan de deelnemers" in fired.stdout
    listed = json.loads(run(env, "list", "--state", "calling", "--json").stdout)
    assert [t["id"] for t in listed] == [view["id"]]
    deadlines = json.loads(run(env, "deadlines", "--json").stdout)
    assert {d["name"] for d in deadlines} == {"advice_due", "signup_closes"}
    assert run(env, "show", str(view["id"])).returncode == 0


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("fire", "1", "close", "--actor", "anna@example.org"), 3, "kan niet in de stap"),
        (("fire", "1", "decline", "--actor", "bram@example.org", "--set", "reason=x"), 3,
         "mag 'afwijzen' (decline) niet doen"),
        (("fire", "1", "decline", "--actor", "secretariaat@example.org"), 2, "reden"),
        (("fire", "1", "decline", "--actor", "secretariaat@example.org", "--set", "reden"), 2,
         "sleutel=waarde"),
        (("fire", "9", "decline", "--actor", "secretariaat@example.org"), 2, "bestaat niet"),
        (("fire", "1", "dance", "--actor", "secretariaat@example.org"), 2, "Onbekende gebeurtenis"),
        (("start", "nope", "--org", "demo", "--title", "T", "--actor", "secretariaat@example.org"), 2,
         "Onbekende stroom"),
        (("start", "asked_advice", "--org", "demo", "--title", "T", "--actor", "x@@example.org",
          "--set", "policy_adviser=beleid@example.org"), 2, "niet"),
        (("calendar", "due", "2026-03-24", "6x"), 2, "Onbekende termijn"),
        (("flows", "show", "asked_advice", "--format", "pdf"), 2, "Onbekend formaat"),
    ],
)
def test_bad_input_exits_with_a_dutch_message(prepared: dict[str, str], args, code: int,
                                              message: str) -> None:
    before = snapshot(prepared)
    result = run(prepared, *args)
    assert result.returncode == code, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert snapshot(prepared) == before


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One database with trajectory 1 in `requested`, shared by the bad-input cases."""
    folder = tmp_path_factory.mktemp("cli")
    values = {**os.environ, "ADVIES_DATABASE_URL": f"sqlite:///{folder / 'a.db'}",
              "ADVIES_MAIL_DIR": str(folder / "mail"), "ADVIES_NOW": "2026-03-24T09:30:00+01:00"}
    run(values, "init", "--demo")
    run(values, "start", "asked_advice", "--org", "demo", "--title", "T", "--actor",
        "secretariaat@example.org", "--set", "policy_adviser=beleid@example.org")
    return values


def snapshot(env: dict[str, str]) -> tuple[object, ...]:
    engine = create_engine(env["ADVIES_DATABASE_URL"])
    with engine.connect() as conn:
        found = tuple(conn.execute(text(f"select count(*) from {table}")).scalar()
                      for table in ("trajectory", "history", "deadline", "outbox"))
        found += tuple(conn.execute(text("select state, version from trajectory")).all())
    engine.dispose()
    return found


def test_org_load_names_the_line(env: dict[str, str], tmp_path: Path) -> None:
    run(env, "init")
    bad = tmp_path / "org.toml"
    bad.write_text('[[organisation]]\nslug = "x"\nname = "X"\nkleur = "rood"\n')
    result = run(env, "org", "load", str(bad))
    assert result.returncode == 2
    assert "regel 4: onbekende sleutel 'kleur'" in result.stderr


def test_calendar_due(env: dict[str, str]) -> None:
    plain = run(env, "calendar", "due", "2026-03-24", "6w")
    assert plain.stdout.strip() == "2026-05-06"
    explained = json.loads(run(env, "calendar", "due", "2026-03-24", "6w", "--json").stdout)
    assert "Bevrijdingsdag" in explained["explanation"]
    assert run(env, "calendar", "due", "2026-03-24", "6w", "--no-atw").stdout.strip() == "2026-05-05"
    recess = run(env, "calendar", "due", "2026-06-15", "6w", "--recess", "07-01:08-31")
    assert recess.stdout.strip() == "2026-09-28"


def test_without_init_the_user_is_told(env: dict[str, str]) -> None:
    result = run(env, "list")
    assert result.returncode == 1
    assert "advies init" in result.stderr


def test_flows_render(env: dict[str, str]) -> None:
    assert "asked_advice" in run(env, "flows").stdout
    assert run(env, "flows", "show", "asked_advice", "--format", "mermaid").stdout.startswith(
        "stateDiagram-v2")


def test_an_administrator_adds_a_decree_day(env: dict[str, str], tmp_path: Path) -> None:
    extra = tmp_path / "kb.toml"
    extra.write_text('[[day]]\ndate = 2026-05-06\nsource = "Besluit (test)"\n')
    result = run({**env, "ADVIES_HOLIDAYS_FILE": str(extra)}, "calendar", "due", "2026-03-24", "6w")
    assert result.stdout.strip() == "2026-05-07"
    missing = run({**env, "ADVIES_HOLIDAYS_FILE": str(tmp_path / "nope.toml")},
                  "calendar", "due", "2026-03-24", "6w")
    assert missing.returncode == 2
    assert "ADVIES_HOLIDAYS_FILE" in missing.stderr


def test_the_demo_walks_to_closed_and_leaves_a_call_open(env: dict[str, str]) -> None:
    env = {k: v for k, v in env.items() if k != "ADVIES_NOW"}
    assert run(env, "init", "--demo").returncode == 0
    demo = run(env, "demo")
    assert demo.returncode == 0, demo.stderr
    assert "Afgesloten (closed)" in demo.stdout
    assert "6 weken na ontvangst op 24-03-2026 = 05-05-2026 (Bevrijdingsdag)" in demo.stdout
    assert "http://127.0.0.1:8000/antwoord/" in demo.stdout
    calling = json.loads(run(env, "list", "--state", "calling", "--json").stdout)
    assert len(calling) == 1


def test_serve_on_a_taken_port_says_so(env: dict[str, str]) -> None:
    import socket

    run(env, "init")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run(env, "serve", "--port", str(port))
    assert result.returncode == 1
    assert "al in gebruik" in result.stderr
