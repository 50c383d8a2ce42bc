"""No traceback, ever: every way the command line was seen to crash, driven as a user (or a
careless operator) would, ends in one Dutch sentence and the documented exit code.

Each kind of failure runs once as a real `advies` process on a real SQLite file; its variations
run through the same entry in this process (fast). A full disk is a file-size limit
(RLIMIT_FSIZE) in the child, a locked database another process that holds SQLite's lock.
"""

from __future__ import annotations

import json
import resource
import signal
import sqlite3
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import typer

from app.service import Service
from cli.main import app
from engine.clock import FrozenClock
from tests.advies_cli import (
    ADVIES,
    ENGLISH,
    SECRETARIAT,
    START,
    environment,
    in_process,
    run,
    set_environment,
)
from tests.advies_cli import one_dutch_line as said_in_dutch
from tests.helpers import outbox, to_matching

#: The characters that end a line somewhere (Python's str.splitlines, RFC 5322 readers, Unicode).
LINE_BREAKS = ["\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]


def one_dutch_line(result: subprocess.CompletedProcess[str], code: int, words: str) -> None:
    """A real process: exit `code`, no traceback, one Dutch line on stderr that says `words`."""
    assert "Traceback" not in result.stdout, result.stdout
    said_in_dutch(result.returncode, result.stderr, code, words)


def in_dutch(capsys: pytest.CaptureFixture[str], argv: list[str | bytes], code: int, words: str) -> None:
    """The same, in this process."""
    said_in_dutch(in_process(argv), capsys.readouterr().err, code, words)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A database with the demo organisations and trajectory 1 (asked advice, requested)."""
    env = environment(tmp_path_factory.mktemp("prepared"))
    assert run(env, "init", "--demo").returncode == 0
    assert run(env, *START).returncode == 0
    return env


# --- Unicode line breaks, bytes that are not UTF-8, ids too large --------------------------------


def test_a_unicode_line_break_in_a_title_is_refused(prepared: dict[str, str]) -> None:
    result = run(prepared, *START[:5], "Minimabeleid\x85Bcc: iedereen@example.org", *START[6:])
    one_dutch_line(result, 2, "regelovergang")


@pytest.mark.parametrize("char", LINE_BREAKS)
def test_every_unicode_line_break_is_refused_in_every_kind_of_input(
        capsys: pytest.CaptureFixture[str], prepared: dict[str, str], monkeypatch: pytest.MonkeyPatch,
        char: str) -> None:
    set_environment(monkeypatch, prepared)
    in_dutch(capsys, [*START[:5], f"Titel{char}Bcc: x@example.org", *START[6:]], 2, "regelovergang")
    in_dutch(capsys, ["fire", "1", "decline", "--actor", SECRETARIAT, "--set", f"reason=Nee{char}x"],
             2, "regelovergang")
    in_dutch(capsys, [*START[:8], "--set", f"policy_adviser=beleid{char}@example.org"], 2,
             "geen geldig e-mailadres")


def test_a_line_break_in_the_sender_is_refused_before_any_mail(prepared: dict[str, str]) -> None:
    env = {**prepared, "ADVIES_MAIL_FROM": "Adviesraad\x85Bcc: x@example.org <raad@example.org>"}
    one_dutch_line(run(env, *START), 2, "ADVIES_MAIL_FROM")


def test_a_name_with_a_unicode_line_break_in_the_organisation_file(prepared: dict[str, str],
                                                                   tmp_path: Path) -> None:
    org = tmp_path / "org.toml"
    org.write_text('[[organisation]]\nslug = "x"\nname = "Raad\u0085Bcc: y@example.org"\n',
                   encoding="utf-8")
    one_dutch_line(run(prepared, "org", "load", str(org)), 2, "regelovergang")


def test_bytes_that_are_not_utf8_in_an_argument(prepared: dict[str, str]) -> None:
    argv: list[str | bytes] = list(START)
    argv[5] = b"Minima\xffbeleid"
    one_dutch_line(run(prepared, *argv), 2, "Argument 6 bevat tekens die geen UTF-8")


def test_ids_beyond_what_a_database_holds(prepared: dict[str, str], capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    one_dutch_line(run(prepared, "show", "99999999999999999999"), 2,
                   "Traject 99999999999999999999 bestaat niet")
    set_environment(monkeypatch, prepared)
    in_dutch(capsys, ["fire", "99999999999999999999", "withdraw", "--actor", SECRETARIAT], 2,
             "Traject 99999999999999999999 bestaat niet")
    in_dutch(capsys, ["outbox", "retry", "99999999999999999999"], 2,
             "Mail 99999999999999999999 bestaat niet")
    in_dutch(capsys, ["show", "9223372036854775808"], 2, "bestaat niet")


# --- files: deeply nested TOML, a full disk ------------------------------------------------------


def test_deeply_nested_toml_in_the_organisation_file(prepared: dict[str, str], tmp_path: Path) -> None:
    org = tmp_path / "diep.toml"
    org.write_text("x = " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    one_dutch_line(run(prepared, "org", "load", str(org)), 2, "te diep genest")


def test_deeply_nested_toml_in_advies_toml(tmp_path: Path) -> None:
    env = environment(tmp_path)
    (tmp_path / "advies.toml").write_text("x = " + "{a = " * 3000 + "1" + "}" * 3000 + "\n")
    one_dutch_line(run(env, "list"), 2, "te diep genest")


def _files_may_not_grow(limit: int) -> Callable[[], None]:
    """In the child: every write past `limit` bytes fails with EFBIG, as on a full disk."""

    def limit_size() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return limit_size


def counts(env: dict[str, str]) -> tuple[int, ...]:
    """How many trajectories, history rows and mails the database holds, read directly."""
    with sqlite3.connect(env["ADVIES_DATABASE_URL"].removeprefix("sqlite:///")) as connection:
        return tuple(connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                     for table in ("trajectory", "history", "outbox"))


def test_a_full_disk_says_so_and_writes_nothing(prepared: dict[str, str]) -> None:
    before = counts(prepared)
    result = run(prepared, *START, "--set", "received_on=2026-03-20",
                 preexec_fn=_files_may_not_grow(2000))
    one_dutch_line(result, 1, "De schijf is vol of kan niet schrijven")
    assert counts(prepared) == before


def test_a_full_disk_while_loading_the_organisation_file(prepared: dict[str, str],
                                                        tmp_path: Path) -> None:
    demo = (Path(__file__).parents[2] / "cli" / "demo_org.toml").read_text(encoding="utf-8")
    new = tmp_path / "nieuw.toml"
    new.write_text(demo.replace('slug = "demo"', 'slug = "nieuw"'), encoding="utf-8")
    result = run(prepared, "org", "load", str(new), preexec_fn=_files_may_not_grow(2000))
    one_dutch_line(result, 1, "De schijf is vol")


# --- the database: locked, bogus, missing, unreachable, made twice at once ----------------------


@pytest.fixture(scope="module")
def lockable(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A database of its own: no connection of this test process ever touches it."""
    env = environment(tmp_path_factory.mktemp("lockable"))
    assert run(env, "init", "--demo").returncode == 0
    return env


@pytest.fixture
def locked(lockable: dict[str, str]) -> Iterator[dict[str, str]]:
    """Another process holds SQLite's exclusive lock; commands wait 1 second (`?timeout=1`)."""
    path = lockable["ADVIES_DATABASE_URL"].removeprefix("sqlite:///")
    holder = subprocess.Popen(
        [sys.executable, "-c", (
            "import sqlite3, sys\n"
            "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
            "c.execute('PRAGMA locking_mode=EXCLUSIVE'); c.execute('BEGIN EXCLUSIVE')\n"
            "c.execute('CREATE TABLE IF NOT EXISTS lock_probe (x)')\n"
            "print('locked', flush=True); sys.stdin.read()\n"), path],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdin is not None
    assert holder.stdout is not None
    try:
        assert holder.stdout.readline().strip() == "locked"
        yield {**lockable, "ADVIES_DATABASE_URL": lockable["ADVIES_DATABASE_URL"] + "?timeout=1"}
    finally:
        holder.stdin.close()  # it ends; its transaction, and the probe table, are rolled back
        holder.wait(timeout=10)
        holder.stdout.close()


@pytest.mark.parametrize("args", [("list",), ("org", "load", "DEMO"), START])
def test_a_locked_database_is_busy(locked: dict[str, str], args: tuple[str, ...]) -> None:
    demo = str(Path(__file__).parents[2] / "cli" / "demo_org.toml")
    result = run(locked, *(demo if a == "DEMO" else a for a in args))
    assert "Traceback" not in result.stderr
    assert "bezet" in result.stderr.split("\n")[0], result.stderr
    assert result.returncode == 4


@pytest.mark.parametrize(
    ("url", "code", "words"),
    [("nonsense", 2, "ADVIES_DATABASE_URL is geen database-adres"),
     ("mysql://u:p@127.0.0.1/x", 2, "begint met 'mysql://'"),
     ("sqlite:////nope/niet/hier/x.db", 2, "De map /nope/niet/hier voor de database bestaat niet"),
     ("postgresql+psycopg://u:p@127.0.0.1:1/x", 1, "De databaseserver is niet bereikbaar")],
)
def test_a_database_url_that_leads_nowhere(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch, url: str, code: int,
                                           words: str) -> None:
    set_environment(monkeypatch, {**environment(tmp_path), "ADVIES_DATABASE_URL": url})
    for argv in (["init"], ["list"], list(START)):
        in_dutch(capsys, list(argv), code, words)
    assert not Path("/nope").exists()


def test_a_database_url_that_leads_nowhere_as_a_process(tmp_path: Path) -> None:
    url = "postgresql+psycopg://gebruiker:Geheim42@127.0.0.1:1/x"
    result = run({**environment(tmp_path), "ADVIES_DATABASE_URL": url}, "init")
    one_dutch_line(result, 1, "De databaseserver is niet bereikbaar")
    assert "Geheim42" not in result.stderr  # the password is never repeated
    one_dutch_line(run({**environment(tmp_path), "ADVIES_DATABASE_URL": "onzin"}, "list"), 2,
                   "ADVIES_DATABASE_URL is geen database-adres")


def test_two_inits_at_once_on_a_new_database(tmp_path: Path) -> None:
    for attempt in range(3):
        env = environment(tmp_path, f"nieuw-{attempt}.db")
        both = [subprocess.Popen([ADVIES, "init"], env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True) for _ in range(2)]
        for process in both:
            out, err = process.communicate(timeout=60)
            assert "Traceback" not in out + err
            assert process.returncode == 0 or err.startswith("Fout: "), err
        assert any(process.returncode == 0 for process in both)
        with sqlite3.connect(tmp_path / f"nieuw-{attempt}.db") as connection:
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
            versions = connection.execute("SELECT version_num FROM alembic_version").fetchall()
        assert {"trajectory", "outbox", "organisation", "person"} <= tables
        assert len(versions) == 1


# --- flows and events ----------------------------------------------------------------------------


def test_flows_show_svg_draws_without_graphviz(prepared: dict[str, str]) -> None:
    result = run(prepared, "flows", "show", "asked_advice", "--format", "svg")
    assert result.returncode == 0, result.stderr
    root = ElementTree.fromstring(result.stdout)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = "".join(root.itertext())
    for name in ("requested", "calling", "matching", "closed", "call_participants", "send_advice"):
        assert name in texts


def test_plan_meeting_without_its_time_or_place(service: Service, clock: FrozenClock,
                                                 tmp_path: Path) -> None:
    tid = to_matching(service, clock)  # the group is formed: the first meeting can be planned
    env = {**environment(tmp_path, "advies.db"), "ADVIES_NOW": clock.now().isoformat()}
    result = run(env, "fire", str(tid), "plan_meeting", "--actor", SECRETARIAT,
                 "--set", "meeting_on=2026-04-14", "--json")
    assert "Traceback" not in result.stderr
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["state"] == "matching"
    invitations = [m for m in outbox(service.engine, tid) if m.template == "asked_advice/meeting_invitation"]
    assert invitations
    assert all(b"uitnodiging.ics" in m.raw for m in invitations)


# --- every command, with bad input -----------------------------------------------------------------

NASTY: list[str | bytes] = [b"\xff\xfe", "99999999999999999999", "-1", "a\x85b\u2028c", "",
                           "x" * 3000, "2026-13-45"]


def commands() -> list[tuple[tuple[str, ...], typer.core.TyperCommand]]:
    """Every command `advies --help` lists, subcommands included, with its path."""
    found = []

    def walk(path: tuple[str, ...], command: object) -> None:
        subcommands = getattr(command, "commands", None)
        if subcommands is not None:
            if getattr(command, "invoke_without_command", False) and path:
                found.append((path, command))
            for name, sub in subcommands.items():
                walk((*path, name), sub)
        else:
            found.append((path, command))

    walk((), typer.main.get_command(app))
    return found


def bad_calls() -> list[tuple[str, ...] | list[str | bytes]]:
    """For each command: an unknown option, no arguments when it needs some, and every argument
    and value-taking option filled with something nasty."""
    calls: list[tuple[str, ...] | list[str | bytes]] = []
    for path, command in commands():
        calls.append((*path, "--bestaat-niet"))
        params = [p for p in command.params if p.name != "help"]
        if any(p.required for p in params):
            calls.append(path)
        takes_value = [p for p in params if not getattr(p, "is_flag", False)]
        if not takes_value:
            continue
        for nasty in NASTY:
            argv: list[str | bytes] = list(path)
            for param in takes_value:
                argv += [nasty] if param.param_type_name == "argument" else [param.opts[0], nasty]
            calls.append(argv)
    return calls


def test_every_command_with_bad_input_answers_in_one_dutch_line(
        prepared: dict[str, str], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    names = {path for path, _ in commands()}
    assert {("init",), ("org", "load"), ("start",), ("fire",), ("show",), ("list",), ("deadlines",),
            ("flows",), ("flows", "show"), ("calendar", "due"), ("outbox",), ("outbox", "retry"),
            ("demo",), ("serve",), ("worker",)} <= names
    set_environment(monkeypatch, prepared)
    for argv in bad_calls():
        shown = f"advies {' '.join(repr(a) for a in argv)[:200]}"
        code = in_process(argv)
        said = capsys.readouterr()
        if code == 0:  # some odd values are fine (`list --flow ''` filters nothing)
            assert not said.err, f"{shown}\n{said.err}"
        elif "Usage:" not in said.err:  # a group without its subcommand (`advies org`): its help
            assert said.err.startswith("Fout: "), f"{shown}\n{said.err}"
            assert len(said.err.strip().splitlines()) == 1, f"{shown}\n{said.err}"
            assert not any(word in said.err for word in ENGLISH), f"{shown}\n{said.err}"


def test_the_real_command_line_answers_bad_input_without_traceback(prepared: dict[str, str]) -> None:
    """A sample of the same as real processes: each kind of usage error and a nasty value."""
    calls = [("show", "--bestaat-niet"), ("show", "abc"), ("start", "asked_advice"),
             ("calendar", "due", "a\x85b", "6w")]
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda argv: run(prepared, *argv), calls))
    for argv, result in zip(calls, results, strict=True):
        assert result.returncode == 2, (argv, result.stderr)
        assert result.stderr.startswith("Fout: "), (argv, result.stderr)
        assert not any(word in result.stdout + result.stderr for word in ENGLISH), (argv, result.stderr)
