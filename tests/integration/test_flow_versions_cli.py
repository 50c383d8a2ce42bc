"""`advies flows migrate` and `advies flows versions` on the command line. The shipped code holds
version 1 of every flow only, so here the command refuses bad input, finds nothing to move, and
moves a trajectory back from a version the code no longer holds; moving to a newer version with
and without a mapping is tested through the app with a registry that holds a version 2
(tests/integration/test_flow_versions.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.advies_cli import START, environment, in_process, one_dutch_line, run, set_environment


def made(folder: Path) -> dict[str, str]:
    """A database with the demo organisations and trajectory 1 (asked advice, requested)."""
    env = environment(folder)
    assert run(env, "init", "--demo").returncode == 0
    assert run(env, *START).returncode == 0
    return env


@pytest.fixture
def prepared(tmp_path: Path) -> dict[str, str]:
    return made(tmp_path)


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The same, for the tests that must change nothing."""
    return made(tmp_path_factory.mktemp("shared"))


def trajectories(env: dict[str, str]) -> list[tuple[object, ...]]:
    engine = create_engine(env["ADVIES_DATABASE_URL"])
    with engine.connect() as conn:
        found = [tuple(r) for r in conn.execute(text(
            "SELECT id, flow_version, state, version FROM trajectory ORDER BY id"))]
        found += [tuple(r) for r in conn.execute(text("SELECT id, event FROM history ORDER BY id"))]
    engine.dispose()
    return found


@pytest.mark.parametrize(("argv", "code", "words"), [
    (["flows", "migrate", "onbekend", "--to", "1"], 2, "Onbekende stroom 'onbekend'"),
    (["flows", "migrate", "asked_advice", "--to", "2"], 2, "heeft geen versie 2; er is versie 1."),
    (["flows", "migrate", "asked_advice", "--to", "0"], 2, "een geheel getal vanaf 1"),
    (["flows", "migrate", "asked_advice", "--to", "twee"], 2, "De waarde voor --to klopt niet"),
    (["flows", "migrate", "asked_advice"], 2, "De optie --to ontbreekt"),
    (["flows", "migrate", "asked_advice", "--to", "1", "--map", "consulting"], 2,
     "schrijf --map oude_stap=nieuwe_stap"),
    (["flows", "migrate", "asked_advice", "--to", "1", "--map", "=advising"], 2,
     "schrijf --map oude_stap=nieuwe_stap"),
    (["flows", "migrate", "asked_advice", "--to", "1", "--map", "oud=advising", "--map", "oud=closed"],
     2, "staat er twee keer"),
    (["flows", "migrate", "asked_advice", "--to", "1", "--map", "oud=bestaat_niet"], 2,
     "versie 1 heeft geen stap 'bestaat_niet'"),
    (["flows", "migrate", "asked_advice", "--to", "1", "--map", "oud=closed"], 2, "is een eindstap"),
    (["flows", "migrate", "asked_advice", "--to", "1", "--map", "consulting=advising"], 2,
     "bestaat ook in versie 1"),
])
def test_bad_input_is_one_dutch_sentence_and_moves_nothing(
        shared: dict[str, str], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], argv: list[str], code: int, words: str) -> None:
    set_environment(monkeypatch, shared)
    before = trajectories(shared)
    capsys.readouterr()
    one_dutch_line(in_process(argv), capsys.readouterr().err, code, words)
    assert trajectories(shared) == before


def test_as_a_process_an_unknown_version_is_refused(shared: dict[str, str]) -> None:
    before = trajectories(shared)
    done = run(shared, "flows", "migrate", "asked_advice", "--to", "2", "--json")
    one_dutch_line(done.returncode, done.stderr, 2, "heeft geen versie 2")
    assert json.loads(done.stdout) == {"error": "De stroom 'asked_advice' heeft geen versie 2; er is "
                                                "versie 1.", "exit_code": 2}
    assert trajectories(shared) == before


def test_nothing_to_move_when_every_trajectory_runs_on_the_version(shared: dict[str, str]) -> None:
    before = trajectories(shared)
    done = run(shared, "flows", "migrate", "asked_advice", "--to", "1")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ("Geen lopend traject van Gevraagd advies (asked_advice) hoeft naar "
                                   "versie 1; er is niets verplaatst.")
    assert trajectories(shared) == before


def test_a_trajectory_on_a_version_gone_says_so_and_migrate_brings_it_back(
        prepared: dict[str, str]) -> None:
    engine = create_engine(prepared["ADVIES_DATABASE_URL"])
    with engine.begin() as conn:
        conn.execute(text("UPDATE trajectory SET flow_version = 3 WHERE id = 1"))
    engine.dispose()

    shown = run(prepared, "show", "1")
    one_dutch_line(shown.returncode, shown.stderr, 1,
                   "Traject 1 loopt op versie 3 van de stroom 'asked_advice', maar Adviestraject "
                   "kent van die stroom alleen versie 1; laat de beheerder het verplaatsen met "
                   "'advies flows migrate asked_advice --to 1'.")
    fired = run(prepared, "fire", "1", "call_participants", "--actor", "secretariaat@example.org")
    one_dutch_line(fired.returncode, fired.stderr, 1, "alleen versie 1")

    before = trajectories(prepared)
    tried = run(prepared, "flows", "migrate", "asked_advice", "--to", "1", "--dry-run", "--json")
    assert tried.returncode == 0, tried.stderr
    assert json.loads(tried.stdout)["moves"] == [{"id": 1, "title": "Minimabeleid", "from_version": 3,
                                                  "from_state": "requested", "to_state": "requested"}]
    assert trajectories(prepared) == before

    moved = run(prepared, "flows", "migrate", "asked_advice", "--to", "1")
    assert moved.returncode == 0, moved.stderr
    assert moved.stdout.splitlines() == [
        "1 traject(en) van Gevraagd advies (asked_advice) staan nu op versie 1.",
        "  1 'Minimabeleid': versie 3 → 1, stap requested blijft"]
    view = json.loads(run(prepared, "show", "1", "--json").stdout)
    assert view["history"][-1]["event"] == "migrate_flow"
    assert view["history"][-1]["note"] == ("Stroom Gevraagd advies van versie 3 naar 1; stap "
                                           "Aanvraag ontvangen blijft.")
    assert run(prepared, "fire", "1", "call_participants", "--actor",
               "secretariaat@example.org").returncode == 0


def test_versions_lists_running_and_finished_trajectories_per_version(
        prepared: dict[str, str]) -> None:
    assert run(prepared, *START).returncode == 0
    assert run(prepared, "fire", "2", "withdraw", "--actor", "secretariaat@example.org",
               "--set", "reason=dubbel").returncode == 0

    shown = run(prepared, "flows", "versions")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[:2] == ["asked_advice: Gevraagd advies",
                                             "  versie 1 (huidige): 1 lopend, 1 afgesloten"]
    as_json = json.loads(run(prepared, "flows", "versions", "--json").stdout)
    assert as_json[0] == {"name": "asked_advice", "title": "Gevraagd advies", "versions": [
        {"version": 1, "current": True, "running": 1, "finished": 1}]}
