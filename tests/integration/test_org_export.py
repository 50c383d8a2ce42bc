"""`advies org export`: the organisation as it is in the database, as an organisation file that
`advies org load` reads back to exactly the same organisation; written whole or not at all."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from app import org_edit, org_file
from app.service import Service
from engine.errors import InvalidInput, NotFound
from storage import migrate
from storage.db import make_engine
from storage.tables import HistoryEntry, Organisation, OutboxMessage, Person
from tests.conftest import DEMO_ORG
from tests.helpers import SECRETARIAT, member, start

ADVIES = str(Path(sys.executable).parent / "advies")
MD_SECRETARY = "secretaris@voorbeeldveld.example.org"
#: A name with everything a TOML string must escape, and letters from outside ASCII.
ODD_NAME = 'Zoë "Zo" d\'Hondt \\ 李 🙂'


def snapshot(engine: Engine) -> Any:
    """Everything loading an organisation file could touch."""
    with Session(engine) as session:
        orgs = [o.model_dump() for o in session.exec(select(Organisation).order_by(col(Organisation.id)))]
        people = [p.model_dump() for p in session.exec(select(Person).order_by(col(Person.id)))]
        mails = len(session.exec(select(OutboxMessage)).all())
        history = len(session.exec(select(HistoryEntry)).all())
    return orgs, people, mails, history


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Engine]:
    """An empty database, as on another machine."""
    engine = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


def changed_through_the_web(service: Service) -> None:
    """Every kind of change the organisation page makes, and someone who left (no role)."""
    org_edit.set_name(service, "demo", "Adviesgroep \"Sociaal\" Domein \\ Voorbeeldstad")
    org_edit.add_person(service, "demo", ODD_NAME, "zoe@example.org", ["member", "chair"])
    org_edit.add_group(service, "demo", "Wonen & zorg", ["zoe@example.org", member("bram")],
                       "zoe@example.org")
    org_edit.set_words(service, "demo", {"council": "adviesgroep", "member": "lid", "group": "werkgroep",
                                         "secretariat": "kernteam"})
    org_edit.set_flows(service, "demo", ["asked_advice", "md_signal"])
    org_edit.set_recess_and_reminders(service, "demo", {
        "recess": "wel", "recess_start_day": "20", "recess_start_month": "12", "recess_end_day": "5",
        "recess_end_month": "1", "reminders": "-10wd, -3d, 0, +2wd"})
    org_edit.set_terms(service, "demo", {"advice_term": "8w", "response_term": "10wd", "signup_window": "2w",
                                         "appointment_term": "", "report_term": "5w",
                                         "alderman_meeting_term": "", "group_min": "3", "group_max": "7",
                                         "mail_retention_months": "36"})
    cor = next(p.id for p in org_edit.view(service, "demo").people if p.email == member("cor"))
    org_edit.remove_person(service, "demo", cor, SECRETARIAT)


def load_text(engine: Engine, text: str, folder: Path) -> None:
    path = folder / "organisatie.toml"
    path.write_text(text, encoding="utf-8")
    org_file.load(engine, path)


# --- the round trip --------------------------------------------------------------------------


def test_an_export_loads_back_to_the_same_organisation(service: Service, sqlite_engine: Engine,
                                                       fresh: Engine, tmp_path: Path) -> None:
    changed_through_the_web(service)
    text = org_edit.file_text(sqlite_engine, "demo")
    assert text.startswith("# Het organisatiebestand van 'demo'")

    load_text(fresh, text, tmp_path)
    assert org_edit.file_text(fresh, "demo") == text  # the same file again, to the letter
    with Session(sqlite_engine) as here, Session(fresh) as there:
        ours = org_edit.export(here, here.exec(select(Organisation).where(Organisation.slug == "demo")).one())
        theirs = org_edit.export(there, there.exec(select(Organisation)).one())
    assert org_file.check(theirs) == org_file.check(ours)
    assert theirs["name"] == "Adviesgroep \"Sociaal\" Domein \\ Voorbeeldstad"
    assert {"name": ODD_NAME, "email": "zoe@example.org", "roles": ["chair", "member"]} in theirs["person"]
    assert member("cor") not in {p["email"] for p in theirs["person"]}  # who left is not in the file
    assert theirs["recess"] == ["12-20", "01-05"]
    assert theirs["reminders"] == ["-10wd", "-3d", "0", "+2wd"]
    assert theirs["flows"] == ["asked_advice", "md_signal"]
    assert theirs["words"] == {"council": "adviesgroep", "member": "lid", "members": "leden",
                               "group": "werkgroep", "secretariat": "kernteam"}
    assert theirs["group"] == [{"name": "Wonen & zorg", "members": ["zoe@example.org", member("bram")],
                                "chair": "zoe@example.org"}]
    assert (theirs["advice_term"], theirs["response_term"], theirs["report_term"], theirs["group_max"],
            theirs["mail_retention_months"]) == ("8w", "10wd", "5w", 7, 36)
    assert "appointment_term" not in theirs  # left to its default, as in the file


def test_loading_the_export_into_the_same_database_changes_nothing(service: Service, sqlite_engine: Engine,
                                                                   tmp_path: Path) -> None:
    tid = int(start(service)["id"])
    service.fire(tid, "call_participants", SECRETARIAT)
    service.fire(tid, "sign_up", member("bram"))
    changed_through_the_web(service)
    for slug in ("demo", "demo-md"):
        before = snapshot(sqlite_engine)
        load_text(sqlite_engine, org_edit.file_text(sqlite_engine, slug), tmp_path)
        assert snapshot(sqlite_engine) == before, slug
    assert service.show(tid)["data"]["signups"] == [member("bram")]


def test_the_demo_organisations_round_trip(sqlite_engine: Engine, fresh: Engine, tmp_path: Path) -> None:
    texts = {slug: org_edit.file_text(sqlite_engine, slug) for slug in ("demo", "demo-md")}
    for text in texts.values():
        load_text(fresh, text, tmp_path)
    assert {slug: org_edit.file_text(fresh, slug) for slug in texts} == texts
    parsed = {o["slug"]: o for o in org_file.parse(DEMO_ORG.read_text(encoding="utf-8"))}
    for slug, text in texts.items():
        [again] = org_file.parse(text)
        assert again == parsed[slug]  # the export says what the demo file says


def test_no_reminders_at_all_and_no_recess_round_trip(service: Service, sqlite_engine: Engine, fresh: Engine,
                                                      tmp_path: Path) -> None:
    org_edit.set_recess_and_reminders(service, "demo", {"recess": "geen", "reminders": "geen"})
    text = org_edit.file_text(sqlite_engine, "demo")
    assert "reminders = []" in text
    assert "recess" not in text
    load_text(fresh, text, tmp_path)
    with Session(fresh) as session:
        org = session.exec(select(Organisation)).one()
    assert (org.reminders, org.recess_start, org.recess_end) == ([], None, None)


def test_an_unknown_organisation_is_not_exported(sqlite_engine: Engine) -> None:
    with pytest.raises(NotFound, match="Organisatie 'nope' bestaat niet"):
        org_edit.file_text(sqlite_engine, "nope")


# --- the writer ------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    'aan"halings"tekens', "back\\slash", "\\\\ twee", "regel\nnieuw", "tab\there", "\r\n", "\x00\x1f\x7f",
    "é ü ñ ß 李 🙂", "\u2028\u2029\u0085", "'enkel'", '"""', "[[organisation]]", "# geen commentaar",
    "key = \"value\"", "",
])
def test_every_string_is_written_so_that_it_reads_back(text: str) -> None:
    raw = {"slug": "x", "name": text, "words": {"council": text}, "flows": [text],
           "person": [{"name": text, "email": "a@example.org", "roles": [text]}],
           "group": [{"name": text, "members": [text], "chair": text}]}
    [read] = tomllib.loads(org_file.dumps(raw))["organisation"]
    assert read == raw


def test_the_file_is_in_the_readme_order_and_leaves_out_what_is_empty() -> None:
    raw: dict[str, Any] = {"group": [], "person": [], "words": {}, "flows": ["asked_advice"], "name": "N",
                           "slug": "n", "recess": None, "reminders": [], "group_min": 2, "advice_term": "6w"}
    text = org_file.dumps(raw)
    body = text[text.index("[[organisation]]"):]
    assert body.splitlines()[:6] == ["[[organisation]]", 'slug = "n"', 'name = "N"', 'advice_term = "6w"',
                                     "group_min = 2", "reminders = []"]
    assert "person" not in body
    assert "words" not in body
    assert "recess" not in body


# --- writing the file whole or not at all ----------------------------------------------------


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_a_file_is_written_and_an_existing_one_kept(tmp_path: Path) -> None:
    path = tmp_path / "org.toml"
    org_file.save(path, "eerste\n")
    assert path.read_text(encoding="utf-8") == "eerste\n"
    with pytest.raises(InvalidInput, match=r"bestaat al\. Kies een andere naam, of geef --overwrite"):
        org_file.save(path, "tweede\n")
    assert path.read_text(encoding="utf-8") == "eerste\n"
    org_file.save(path, "dérde 🙂\n", overwrite=True)
    assert path.read_bytes() == "dérde 🙂\n".encode()
    assert leftovers(tmp_path) == []


def test_a_file_that_appears_meanwhile_is_not_overwritten(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "org.toml"
    real_link = os.link

    def someone_else_first(source: Any, target: Any) -> None:
        Path(target).write_text("van een ander\n", encoding="utf-8")
        real_link(source, target)

    monkeypatch.setattr(os, "link", someone_else_first)
    with pytest.raises(InvalidInput, match="bestaat al"):
        org_file.save(path, "van ons\n")
    assert path.read_text(encoding="utf-8") == "van een ander\n"
    assert leftovers(tmp_path) == []


def test_a_full_disk_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "org.toml"
    path.write_text("zoals het was\n", encoding="utf-8")

    def full(_fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    for overwrite in (False, True):
        target = path if overwrite else tmp_path / "nieuw.toml"
        with pytest.raises(InvalidInput, match=r"de schijf is vol\. Er is niets geschreven\."):
            org_file.save(target, "nieuw\n", overwrite=overwrite)
    assert path.read_text(encoding="utf-8") == "zoals het was\n"
    assert not (tmp_path / "nieuw.toml").exists()
    assert leftovers(tmp_path) == []


def test_a_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="is een map"):
        org_file.save(tmp_path, "x\n", overwrite=True)
    with pytest.raises(InvalidInput, match=r"De map '.*geen-map' bestaat niet"):
        org_file.save(tmp_path / "geen-map" / "org.toml", "x\n")


# --- the command line ------------------------------------------------------------------------


def cli_env(tmp_path: Path, name: str) -> dict[str, str]:
    values = {**os.environ, "ADVIES_DATABASE_URL": f"sqlite:///{tmp_path / name}",
              "ADVIES_MAIL_DIR": str(tmp_path / "mail"), "ADVIES_NOW": "2026-03-24T09:30:00+01:00",
              "ADVIES_SECRET_KEY": "cli-test-geheim-" + "x" * 32, "LC_ALL": "C", "PYTHONIOENCODING": "ascii"}
    values.pop("ADVIES_SMTP_URL", None)
    return values


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([ADVIES, *args], env=env, capture_output=True, timeout=60,
                          cwd=Path(env["ADVIES_MAIL_DIR"]).parent)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A database with the demo organisations, made once for the commands below, and a file
    that is there already."""
    folder = tmp_path_factory.mktemp("export")
    env = cli_env(folder, "hier.db")
    assert run(env, "init", "--demo").returncode == 0
    (folder / "er-al.toml").write_text("van mij\n", encoding="utf-8")
    return env


def folder_of(env: dict[str, str]) -> Path:
    return Path(env["ADVIES_MAIL_DIR"]).parent


def test_the_command_exports_and_the_export_loads_elsewhere(demo: dict[str, str]) -> None:
    folder = folder_of(demo)
    shown = run(demo, "org", "export", "demo-md")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.decode("utf-8").startswith("# Het organisatiebestand van 'demo-md'")

    written = run(demo, "org", "export", "demo-md", "--output", "md.toml")
    assert written.returncode == 0, written.stderr
    assert "geschreven naar md.toml" in written.stdout.decode("utf-8")
    assert (folder / "md.toml").read_bytes() == shown.stdout  # the same text, whatever the locale

    there = cli_env(folder, "daar.db")
    assert run(there, "init").returncode == 0
    loaded = run(there, "org", "load", "md.toml")
    assert loaded.returncode == 0, loaded.stderr
    assert run(there, "org", "export", "demo-md").stdout == shown.stdout


@pytest.mark.parametrize(("args", "message"), [
    (("org", "export", "nope"), "Organisatie 'nope' bestaat niet"),
    (("org", "export", "demo", "--output", "er-al.toml"), "'er-al.toml' bestaat al. Kies een andere naam, of "
                                                          "geef --overwrite"),
    (("org", "export", "demo", "--output", "geen/map.toml"), "De map 'geen' bestaat niet"),
    (("org", "export", "demo", "--output", "."), "is een map"),
    (("org", "export"), "slug"),
])
def test_the_command_refuses_in_one_dutch_sentence(demo: dict[str, str], args: tuple[str, ...],
                                                   message: str) -> None:
    refused = run(demo, *args)
    assert refused.returncode == 2
    said = refused.stderr.decode("utf-8")
    assert message in said
    assert said.startswith("Fout:")
    assert "Traceback" not in said
    assert refused.stdout == b""
    assert (folder_of(demo) / "er-al.toml").read_text(encoding="utf-8") == "van mij\n"
    assert leftovers(folder_of(demo)) == []


def test_the_command_overwrites_when_asked(demo: dict[str, str]) -> None:
    folder = folder_of(demo)
    (folder / "org.toml").write_text("oud\n", encoding="utf-8")
    assert run(demo, "org", "export", "demo", "-o", "org.toml", "--overwrite").returncode == 0
    [org] = org_file.parse((folder / "org.toml").read_text(encoding="utf-8"))
    assert org["slug"] == "demo"
    assert leftovers(folder) == []
