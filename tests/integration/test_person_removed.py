"""Someone left out of the organisation file leaves the running trajectories (issue 7, point 5).

A person removed from the file kept their place in groups and sign-ups, and kept getting mail.
Now reloading the file takes them out of every running trajectory's group, call lists and
contact person (the history stays), promotes a reserve into a freed place, names a group left
too small, and tells the secretariat in one mail; the person who left gets nothing.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine
from sqlmodel import Session, select

from app import directory, org_file
from app.service import Service
from engine.calls import Call, depart
from engine.clock import FrozenClock
from engine.dsl import SYSTEM, to
from engine.errors import NotFound
from settings import Settings
from storage.tables import OutboxMessage, Person
from tests.conftest import DEMO_ORG, make_settings
from tests.helpers import SECRETARIAT, member, outbox, plain, start, to_matching

ROOT = Path(__file__).resolve().parents[2]
ADVIES = str(Path(sys.executable).parent / "advies")


def file_without(tmp_path: Path, *emails: str) -> Path:
    """The demo organisation file with these people left out."""
    text = DEMO_ORG.read_text(encoding="utf-8")
    for email in emails:
        block = re.compile(r'\[\[organisation\.person\]\]\nname = "[^"]*"\nemail = "'
                           + re.escape(email) + r'"\nroles = \[[^\]]*\]\n\n?')
        text, found = block.subn("", text)
        assert found == 1, email
    path = tmp_path / "zonder.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def settings_for(tmp_path: Path) -> Settings:
    return make_settings("unused", tmp_path)


def test_leaving_empties_the_places_promotes_a_reserve_and_tells_the_secretariat(
        any_engine: Engine, tmp_path: Path, clock: FrozenClock, settings_for: Settings) -> None:
    service = Service(any_engine, settings_for, clock)
    consulting = to_matching(service, clock, signups=7)  # group: anna..farid; reserve: gerda
    service.fire(consulting, "first_meeting_held", SECRETARIAT)
    service.fire(consulting, "choose_contact", SECRETARIAT, {"contact_person": member("bram")})
    calling = int(start(service)["id"])
    service.fire(calling, "call_participants", SECRETARIAT)
    service.fire(calling, "sign_up", member("bram"))
    service.fire(calling, "sign_up", member("anna"))
    ended = to_matching(service, clock)
    service.fire(ended, "withdraw", SECRETARIAT, {"reason": "ingetrokken"})
    before = len(outbox(any_engine))

    org_file.load(any_engine, file_without(tmp_path, member("bram"), member("cor"), member("dewi")),
                  settings_for)

    view = service.show(consulting)
    assert view["data"]["group"] == [member(n) for n in ("anna", "els", "farid", "gerda")]
    assert view["data"]["reserves"] == []
    assert "contact_person" not in view["data"]
    assert view["data"]["signups"] == [member(n) for n in ("anna", "els", "farid", "gerda")]
    removed = [h for h in view["history"] if h["event"] == "person_removed"]
    assert [(h["actor"], h["payload"]["people"]) for h in removed] == [
        ("systeem", [member("bram"), member("cor"), member("dewi")])]
    assert "Bram Jansen, Cor Mulder en Dewi Hendriks" in removed[0]["note"]
    assert "Gerda Bos neemt een vrijgekomen plaats in." in removed[0]["note"]
    assert [h["event"] for h in view["history"]].count("choose_contact") == 1  # history kept
    assert service.show(calling)["data"]["signups"] == [member("anna")]
    assert member("bram") in service.show(ended)["data"]["group"]  # a finished trajectory stays

    new = outbox(any_engine)[before:]
    assert sorted((m.template, m.recipient) for m in new) == [
        ("call/joined_group", member("gerda")), ("common/people_removed", SECRETARIAT)]
    notice = plain(next(m for m in new if m.template == "common/people_removed"))
    for line in ("- Bram Jansen", "- Cor Mulder", "- Dewi Hendriks",
                 "Regiovisie beschermd wonen (traject 1,",
                 "- Bram Jansen is uit de projectgroep en de aanmeldingen gehaald.",
                 "- Gerda Bos stond op de reservelijst en zit nu in de projectgroep.",
                 "- Bram Jansen was het centraal aanspreekpunt. Kies een nieuw aanspreekpunt.",
                 "- Let op: de projectgroep heeft nu 4 deelnemers, minder dan de 5 die nodig zijn.",
                 "(traject 2,"):
        assert line in notice, line
    assert "(traject 3," not in notice

    service.fire(consulting, "suspend", SECRETARIAT, {"reason": "wachten"})
    assert not [m for m in outbox(any_engine) if m.recipient in (member("bram"), member("cor"))
                and m.template == "common/suspended"]


def test_the_link_of_someone_who_left_no_longer_answers(service: Service, sqlite_engine: Engine,
                                                        tmp_path: Path, settings: Settings) -> None:
    tid = int(start(service)["id"])
    service.fire(tid, "call_participants", SECRETARIAT)
    row = next(m for m in outbox(sqlite_engine, tid)
               if m.template == "asked_advice/call" and m.recipient == member("hamid"))
    token = re.search(r"/antwoord/(\S+)", plain(row)).group(1)  # type: ignore[union-attr]
    org_file.load(sqlite_engine, file_without(tmp_path, member("hamid")), settings)
    with pytest.raises(NotFound, match="niet \\(meer\\) in het bestand"):
        service.answer(token, "sign_up")
    assert "signups" not in service.show(tid)["data"]


def test_nobody_in_a_trajectory_still_tells_the_secretariat_once(
        service: Service, sqlite_engine: Engine, tmp_path: Path, settings: Settings) -> None:
    org_file.load(sqlite_engine, file_without(tmp_path, member("hamid")), settings)
    sent = [(m.template, m.recipient) for m in outbox(sqlite_engine)]
    assert sent == [("common/people_removed", SECRETARIAT)]
    assert "Ze zaten in geen lopend traject." in plain(outbox(sqlite_engine)[0])
    org_file.load(sqlite_engine, file_without(tmp_path, member("hamid")), settings)
    assert len(outbox(sqlite_engine)) == 1  # loading the same file again changes nothing


def test_mail_never_goes_to_someone_without_a_role() -> None:
    people = {e: Person(organisation_id=1, name=e, email=e, roles=r)
              for e, r in (("a@x.org", ["member"]), ("b@x.org", []))}
    found = directory.recipients(to(lists=("group",)), people, {"group": ["a@x.org", "b@x.org"]},
                                 SYSTEM)
    assert [p.email for p in found] == ["a@x.org"]


def test_the_platform_lists_are_emptied_with_the_calls_own_logic() -> None:
    platform = Call(role="inclusion_platform", invitation="x", prefix="platform_")
    data = {"platform_signups": ["p", "q", "r"], "platform_group": ["p", "q"],
            "platform_reserves": ["r"], "group": ["p", "s"], "contact_person": "s"}
    found = depart((platform,), data, ["p"], group_min=2)
    assert found.data == {"platform_signups": ["q", "r"], "platform_group": ["q", "r"],
                          "platform_reserves": [], "group": ["s"], "contact_person": "s"}
    assert found.promoted == ("r",)
    assert found.short == ()
    assert set(found.left[0].lists) == {"platform_signups", "platform_group", "group"}
    both = depart((platform,), data, ["p", "s", "nobody"], group_min=2)
    assert [(leaver.email, leaver.was_contact) for leaver in both.left] == [("p", False), ("s", True)]
    assert "contact_person" not in both.data
    assert both.short == ()
    assert depart((platform,), data, ["q", "r"], group_min=2).short == ("platform_group",)
    assert not depart((platform,), data, ["nobody"], group_min=2).changed


def test_the_command_line_load_does_it_too(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADVIES_")}
    env.update(ADVIES_DATABASE_URL=f"sqlite:///{tmp_path / 'a.db'}", ADVIES_MAIL_DIR=str(tmp_path / "mail"),
               ADVIES_NOW="2026-03-24T09:30:00+01:00", ADVIES_SECRET_KEY="removed-" + "x" * 32,
               PYTHONPATH=str(ROOT))

    def advies(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([ADVIES, *args], env=env, capture_output=True, text=True, timeout=120,
                              cwd=tmp_path)

    assert advies("init", "--demo").returncode == 0
    assert advies("start", "asked_advice", "--org", "demo", "--title", "Minimabeleid", "--actor",
                  SECRETARIAT, "--set", "policy_adviser=beleid@example.org").returncode == 0
    assert advies("fire", "1", "call_participants", "--actor", SECRETARIAT).returncode == 0
    assert advies("fire", "1", "sign_up", "--actor", member("bram")).returncode == 0
    loaded = advies("org", "load", str(file_without(tmp_path, member("bram"))))
    assert loaded.returncode == 0, loaded.stderr
    view = json.loads(advies("show", "1", "--json").stdout)
    assert view["data"]["signups"] == []
    assert view["history"][-1]["event"] == "person_removed"
    engine = create_engine(env["ADVIES_DATABASE_URL"])
    with Session(engine) as session:
        notices = session.exec(select(OutboxMessage).where(
            OutboxMessage.template == "common/people_removed")).all()
    engine.dispose()
    assert [m.recipient for m in notices] == [SECRETARIAT]
