"""The smaller holes of issue 7 (point 12), each driven as a user, an operator or an attacker
would: real `advies` processes on a real SQLite file, and the web page through its test client."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from app.service import Service
from tests.conftest import DEMO_ORG
from tests.helpers import SECRETARIAT, member
from tests.integration.test_web_answer import call, link
from web.app import create_app

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

ADVIES = str(Path(sys.executable).parent / "advies")
START = ("start", "asked_advice", "--org", "demo", "--title", "Minimabeleid", "--actor", SECRETARIAT,
         "--set", "policy_adviser=beleid@example.org")
MD_START = ("start", "md_signal", "--org", "demo-md", "--title", "Wachtlijst",
            "--actor", "harm@voorbeeldveld.example.org", "--set", "theme_group=Participeren",
            "--set", "domain=Wmo", "--set", "individual_case=nee")
ENGLISH = ("Error", "Invalid value", "Missing", "No such", "Expected", "Traceback", "Input should")


def environment(folder: Path) -> dict[str, str]:
    values = {**os.environ, "ADVIES_DATABASE_URL": f"sqlite:///{folder / 'a.db'}",
              "ADVIES_MAIL_DIR": str(folder / "mail"), "ADVIES_NOW": "2026-03-24T09:30:00+01:00",
              "ADVIES_SECRET_KEY": "kleine-gaten-geheim-" + "x" * 32}
    values.pop("ADVIES_SMTP_URL", None)
    return values


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ADVIES, *args], env=env, capture_output=True, text=True, timeout=60,
                          cwd=Path(env["ADVIES_MAIL_DIR"]).parent)


def dutch_failure(result: subprocess.CompletedProcess[str], code: int, words: str) -> None:
    assert result.returncode == code, result.stderr
    assert result.stderr.startswith("Fout: "), result.stderr
    assert words in result.stderr, result.stderr
    assert not any(word in result.stdout + result.stderr for word in ENGLISH), result.stderr


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


@pytest.mark.parametrize(("note", "words"), [("Gebeld\x07", "stuurteken"),
                                             ("Gebeld\x9b31m rood", "stuurteken"),
                                             ("x" * 2001, "tussen 1 en 2000 tekens")])
def test_a_note_is_checked(prepared: dict[str, str], note: str, words: str) -> None:
    before = trajectories(prepared)
    dutch_failure(run(prepared, *START, "--note", note), 2, words)
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


@pytest.mark.parametrize("command", [("show", "1"), ("list",), ("deadlines",), ("outbox",),
                                     ("outbox", "retry", "1"), ("fire", "1", "withdraw", "--actor",
                                                                SECRETARIAT), START])
def test_commands_other_than_init_never_create_the_database(tmp_path: Path,
                                                            command: tuple[str, ...]) -> None:
    result = run(environment(tmp_path), *command)
    dutch_failure(result, 1, "De database bestaat nog niet")
    assert "Voer eerst 'advies init' uit" in result.stderr
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
def test_usage_errors_are_dutch(prepared: dict[str, str], args: tuple[str, ...], words: str) -> None:
    result = run(prepared, *args)
    dutch_failure(result, 2, words)
    assert "--help" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


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
def test_advies_toml_is_read_strictly(tmp_path: Path, toml: str, words: str) -> None:
    env = environment(tmp_path)
    (tmp_path / "advies.toml").write_text(toml, encoding="utf-8")
    dutch_failure(run(env, "list"), 2, words)


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
    assert client.head("/").status_code == client.head("/gezond").status_code == 200


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
