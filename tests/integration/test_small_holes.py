"""The smaller holes of issue 7 (point 12), each driven as a user, an operator or an attacker
would: real `advies` processes on a real SQLite file, and the web page through its test client."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from app.service import Service
from tests.advies_cli import (
    ENGLISH,
    SECRETARIAT,
    START,
    environment,
    in_process,
    one_dutch_line,
    run,
    set_environment,
)
from tests.conftest import DEMO_ORG
from tests.helpers import member
from tests.integration.test_web_answer import call, link
from web.app import create_app

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

MD_START = ("start", "md_signal", "--org", "demo-md", "--title", "Wachtlijst",
            "--actor", "harm@voorbeeldveld.example.org", "--set", "theme_group=Participeren",
            "--set", "domain=Wmo", "--set", "individual_case=nee")


def dutch_failure(result: subprocess.CompletedProcess[str], code: int, words: str) -> None:
    """A real process: exit `code` and one Dutch line on stderr that says `words`."""
    assert not any(word in result.stdout for word in ENGLISH), result.stdout
    one_dutch_line(result.returncode, result.stderr, code, words)


def in_dutch(capsys: pytest.CaptureFixture[str], argv: list[str], code: int, words: str) -> None:
    """The same, through the same entry in this process."""
    one_dutch_line(in_process(argv), capsys.readouterr().err, code, words)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    env = environment(tmp_path_factory.mktemp("gaten"))
    assert run(env, "init", "--demo").returncode == 0
    assert run(env, *START).returncode == 0
    return env


def trajectories(env: dict[str, str]) -> tuple[int, int, int]:
    """How many trajectories, history rows and mails the database holds, read directly."""
    with sqlite3.connect(env["ADVIES_DATABASE_URL"].removeprefix("sqlite:///")) as connection:
        return tuple(connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                     for table in ("trajectory", "history", "outbox"))  # type: ignore[return-value]


# --- the command line ------------------------------------------------------------------------


def test_the_system_actor_is_refused_on_the_command_line(prepared: dict[str, str]) -> None:
    before = trajectories(prepared)
    dutch_failure(run(prepared, "fire", "1", "withdraw", "--actor", "systeem", "--set", "reason=x"),
                  3, "alleen in de worker")
    dutch_failure(run(prepared, *START[:7], " Systeem ", *START[8:]), 3, "alleen in de worker")
    assert trajectories(prepared) == before


def test_a_note_is_checked(prepared: dict[str, str], capsys: pytest.CaptureFixture[str],
                           monkeypatch: pytest.MonkeyPatch) -> None:
    before = trajectories(prepared)
    dutch_failure(run(prepared, *START, "--note", "Gebeld\x07"), 2, "De notitie bevat een stuurteken")
    set_environment(monkeypatch, prepared)
    in_dutch(capsys, [*START, "--note", "Gebeld\x9b31m rood"], 2, "stuurteken")
    in_dutch(capsys, [*START, "--note", "x" * 2001], 2, "tussen 1 en 2000 tekens")
    in_dutch(capsys, ["fire", "1", "call_participants", "--actor", SECRETARIAT, "--note", "\x1b[2J"],
             2, "stuurteken")
    assert trajectories(prepared) == before


def test_a_note_may_have_lines_and_windows_line_breaks(prepared: dict[str, str]) -> None:
    result = run(prepared, *START, "--note", "Gebeld met de gemeente.\r\nMail volgt.\r\n", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["history"][-1]["note"] == "Gebeld met de gemeente.\nMail volgt."


def test_a_set_key_given_twice_is_refused(prepared: dict[str, str]) -> None:
    before = trajectories(prepared)
    dutch_failure(run(prepared, *START, "--set", "policy_adviser=verbinding@example.org"), 2,
                  "twee keer")
    assert trajectories(prepared) == before


def test_crlf_in_a_document_is_a_line_break(prepared: dict[str, str]) -> None:
    result = run(prepared, *MD_START, "--set", "summary=Inwoners wachten.\r\nAl maanden.\rTe lang.",
                 "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["data"]["summary"] == "Inwoners wachten.\nAl maanden.\nTe lang."


def test_commands_other_than_init_never_create_the_database(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    env = environment(tmp_path)
    result = run(env, "show", "1")
    dutch_failure(result, 1, "De database bestaat nog niet")
    assert "Voer eerst 'advies init' uit" in result.stderr
    set_environment(monkeypatch, env)
    for command in (["list"], ["deadlines"], ["outbox"], ["outbox", "retry", "1"],
                    ["fire", "1", "withdraw", "--actor", SECRETARIAT], list(START),
                    ["org", "load", str(DEMO_ORG)]):
        in_dutch(capsys, command, 1, "De database bestaat nog niet")
    assert not any(tmp_path.glob("a.db*"))


def test_commands_that_need_no_database_work_without_one(tmp_path: Path) -> None:
    env = environment(tmp_path)
    assert run(env, "flows").returncode == 0
    assert run(env, "calendar", "due", "2026-03-24", "6w").stdout.strip() == "2026-05-06"
    assert not any(tmp_path.glob("a.db*"))


@pytest.mark.parametrize(
    ("args", "words"),
    [(("start", "asked_advice", "--title", "T", "--actor", SECRETARIAT), "De optie --org ontbreekt"),
     (("show", "1", "--kleur"), "Onbekende optie --kleur"),
     (("show", "1", "--jsn"), "Bedoel je --json?"),
     (("show", "een"), "De waarde voor ID klopt niet. Geef een geheel getal."),
     (("show",), "Het argument ID ontbreekt"),
     (("start", "asked_advice", "--org"), "De optie --org heeft een waarde nodig"),
     (("toon", "1"), "Onbekende opdracht 'toon'"),
     (("show", "1", "2"), "Te veel argumenten: 2")],
)
def test_usage_errors_are_dutch(prepared: dict[str, str], capsys: pytest.CaptureFixture[str],
                                monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...],
                                words: str) -> None:
    set_environment(monkeypatch, prepared)
    code = in_process(list(args))
    err = capsys.readouterr().err
    one_dutch_line(code, err, 2, words)
    assert "--help" in err


def test_a_usage_error_is_dutch_in_a_real_process(prepared: dict[str, str]) -> None:
    result = run(prepared, *START[:2], *START[4:])
    dutch_failure(result, 2, "De optie --org ontbreekt. Zie 'advies start --help'.")


def test_toml_errors_in_the_organisation_file_are_dutch(prepared: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "org.toml"
    bad.write_text('[[organisation]]\nslug = "x"\nname = \n', encoding="utf-8")
    dutch_failure(run(prepared, "org", "load", str(bad)), 2, "geen geldige TOML (regel 3, kolom 8)")


def test_an_organisation_file_with_a_byte_order_mark_is_read(prepared: dict[str, str],
                                                             tmp_path: Path) -> None:
    text = DEMO_ORG.read_text(encoding="utf-8").replace('slug = "demo"', 'slug = "bom"')
    with_bom = tmp_path / "windows.toml"
    with_bom.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    result = run(prepared, "org", "load", str(with_bom), "--json")
    assert result.returncode == 0, result.stderr
    assert "bom" in {org["slug"] for org in json.loads(result.stdout)}


@pytest.mark.parametrize(
    ("toml", "words"),
    [('mail_dir = "mail"\ndatabse_url = "x"\n', "advies.toml, regel 2: onbekende sleutel 'databse_url'"),
     ("[smtp]\nhost = 'x'\n", "onbekende sleutel 'smtp'"),
     ('mail_dir = "mail"\nmail_from = \n', "advies.toml, regel 2, kolom 13: dit is geen geldige TOML")],
)
def test_advies_toml_is_read_strictly(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch, toml: str, words: str) -> None:
    (tmp_path / "advies.toml").write_text(toml, encoding="utf-8")
    set_environment(monkeypatch, environment(tmp_path))
    in_dutch(capsys, ["list"], 2, words)


def test_advies_toml_is_read_strictly_in_a_real_process(tmp_path: Path) -> None:
    (tmp_path / "advies.toml").write_text('databse_url = "sqlite:///x.db"\n', encoding="utf-8")
    dutch_failure(run(environment(tmp_path), "init"), 2,
                  "advies.toml, regel 1: onbekende sleutel 'databse_url'")


def test_advies_toml_with_known_keys_is_used(tmp_path: Path) -> None:
    env = environment(tmp_path)
    env.pop("ADVIES_DATABASE_URL")
    (tmp_path / "advies.toml").write_text('\ufeffdatabase_url = "sqlite:///uit-toml.db"\n',
                                          encoding="utf-8")
    assert run(env, "init").returncode == 0
    assert (tmp_path / "uit-toml.db").exists()


# --- the web page behind a personal link --------------------------------------------------------


@pytest.fixture
def client(service: Service) -> Iterator[TestClient]:
    with TestClient(create_app(service), follow_redirects=False) as found:
        yield found


def test_head_on_a_link_is_answered_like_get_without_a_body(client: TestClient, service: Service,
                                                            sqlite_engine: Engine) -> None:
    path = link(sqlite_engine, call(service), member("cor"))
    got, head = client.get(path), client.head(path)
    assert (head.status_code, got.status_code) == (200, 200)
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    assert head.headers["content-security-policy"].startswith("default-src 'none'")
    broken = client.head(path[:-4] + "AAAA")
    assert broken.status_code == client.get(path[:-4] + "AAAA").status_code == 400
    assert broken.content == b""
    assert client.head("/gezond").status_code == 200
    assert client.head("/inloggen").status_code == 200
    assert client.head("/inloggen").content == b""


def test_the_trailing_slash_redirect_ignores_the_host_header(client: TestClient, service: Service,
                                                             sqlite_engine: Engine) -> None:
    path = link(sqlite_engine, call(service), member("cor"))
    for method in ("GET", "POST"):
        moved = client.request(method, path + "/", headers={"Host": "evil.example"})
        assert moved.status_code == 307
        assert moved.headers["location"] == path
    assert client.get(path + "/?x=1", headers={"Host": "evil.example"}).headers["location"] == path + "?x=1"
    for sneaky in ("//evil.example/", "/antwoord//evil.example/", "/\\evil.example/", "/nope/"):
        refused = client.get(f"http://testserver{sneaky}", headers={"Host": "evil.example"})
        assert refused.status_code == 404
        assert "location" not in refused.headers
        assert "Niet gevonden" in refused.text


@pytest.mark.parametrize("body", [{}, {"json": {"antwoord": "sign_up"}}, {"data": {"iets": "anders"}},
                                  {"files": {"antwoord": ("ja.txt", b"sign_up")}}])
def test_an_answer_without_its_form_field_gets_a_dutch_page(client: TestClient, service: Service,
                                                            sqlite_engine: Engine,
                                                            body: dict[str, object]) -> None:
    tid = call(service)
    before = service.show(tid)
    page = client.post(link(sqlite_engine, tid, member("cor")), **body)  # type: ignore[arg-type]
    assert page.status_code == 400
    assert page.headers["content-type"].startswith("text/html")
    assert "Ja, ik doe mee" in page.text
    assert "detail" not in page.text
    assert service.show(tid) == before


def test_unknown_pages_and_methods_are_dutch(client: TestClient) -> None:
    missing = client.get("/bestaat-niet")
    assert missing.status_code == 404
    assert "Niet gevonden" in missing.text
    wrong = client.delete("/antwoord/abc")
    assert wrong.status_code == 405
    assert "Dit kan hier niet" in wrong.text
    assert "GET" in wrong.headers["allow"]
