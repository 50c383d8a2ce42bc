"""Who took part (`advies report members`, seed 000: a member takes part in at least one project
group a year): the calls answered, the groups joined and the trajectories worked on, driven
through the real Service on a moving FrozenClock and read back through the command line."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from app.service import Service
from engine.clock import AMSTERDAM, FrozenClock
from settings import Settings
from tests.advies_cli import environment, in_process, one_dutch_line, set_environment
from tests.helpers import ADVISER, SECRETARIAT, member

MD_SECRETARY = "secretaris@voorbeeldveld.example.org"


def md(name: str) -> str:
    return f"{name}@voorbeeldveld.example.org"


class Days:
    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.clock = FrozenClock(datetime(2025, 10, 1, 9, 30, tzinfo=AMSTERDAM))
        self.service = Service(engine, settings, self.clock)

    def on(self, day: date) -> None:
        self.clock.set(datetime(day.year, day.month, day.day, 10, 0, tzinfo=AMSTERDAM))

    def call(self, title: str, signups: list[str], withdrawn: tuple[str, ...] = ()) -> int:
        raw = {"policy_adviser": ADVISER, "received_on": self.clock.now().date().isoformat()}
        tid = int(self.service.start("asked_advice", "demo", title, SECRETARIAT, raw)["id"])
        self.service.fire(tid, "call_participants", SECRETARIAT)
        for name in signups:
            self.service.fire(tid, "sign_up", member(name))
        for name in withdrawn:
            self.service.fire(tid, "withdraw_signup", member(name))
        self.service.fire(tid, "close_signup", SECRETARIAT)
        return tid


def history(engine: Engine, settings: Settings) -> dict[str, int]:
    days, ids = Days(engine, settings), {}
    days.on(date(2025, 10, 1))
    ids["autumn"] = days.call("Schuldhulp", ["anna", "bram", "cor", "dewi", "farid"])
    days.on(date(2025, 12, 1))
    days.service.fire(ids["autumn"], "withdraw", SECRETARIAT, {"reason": "Ingetrokken."})
    days.on(date(2026, 2, 2))
    ids["spring"] = days.call("Minimabeleid", ["anna", "bram", "cor", "dewi", "els", "gerda"],
                              withdrawn=("gerda",))
    days.on(date(2026, 3, 2))
    ids["md"] = int(days.service.start(
        "md_asked_advice", "demo-md", "Beleidsregel vervoer", MD_SECRETARY,
        {"policy_adviser": md("beleid"), "received_on": "2026-03-02",
         "document_type": "beleidsregel"})["id"])
    days.service.fire(ids["md"], "assign", MD_SECRETARY, {"group": "Participeren"})
    days.service.fire(ids["md"], "sign_up", md("roos"))
    days.service.fire(ids["md"], "close_signup", MD_SECRETARY)
    return ids


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = {**environment(tmp_path, "advies.db"), "ADVIES_NOW": "2026-06-30T12:00:00+02:00"}
    set_environment(monkeypatch, env)
    return env


def members(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    capsys.readouterr()
    assert in_process(["report", "members", *args, "--json"]) == 0
    return dict(json.loads(capsys.readouterr().out))


def test_a_year_shows_answers_groups_and_who_took_part_in_none(
        sqlite_engine: Engine, settings: Settings, cli: dict[str, str],
        capsys: pytest.CaptureFixture[str]) -> None:
    ids = history(sqlite_engine, settings)
    found = members(capsys, "--org", "demo", "--year", "2026")
    assert (found["from"], found["to"]) == ("2026-01-01", "2026-12-31")
    by_mail = {m["email"]: m for m in found["members"]}
    assert len(by_mail) == 8  # the demo's eight members; not the secretariat, not demo-md's
    anna = by_mail[member("anna")]
    assert anna["answers"] == [{"trajectory_id": ids["spring"], "title": "Minimabeleid",
                                "answer": "sign_up", "on": "2026-02-02"}]  # not 2025's answer
    assert anna["worked_on"] == [{"trajectory_id": ids["spring"], "title": "Minimabeleid",
                                  "flow": "Gevraagd advies", "groups": ["projectgroep"]}]
    gerda = by_mail[member("gerda")]
    assert [a["answer"] for a in gerda["answers"]] == ["sign_up", "withdraw_signup"]
    assert gerda["worked_on"] == []
    assert gerda["took_part"] is False
    # Farid worked only on the autumn trajectory, withdrawn on 1 December 2025
    assert by_mail[member("farid")]["answers"] == []
    assert by_mail[member("farid")]["worked_on"] == []
    assert found["took_part_in_none"] == [member("farid"), member("gerda"), member("hamid")]


def test_a_period_of_the_year_before(sqlite_engine: Engine, settings: Settings, cli: dict[str, str],
                                     capsys: pytest.CaptureFixture[str]) -> None:
    ids = history(sqlite_engine, settings)
    found = members(capsys, "--org", "demo", "--from", "2025-10-01", "--to", "2025-12-31")
    farid = next(m for m in found["members"] if m["email"] == member("farid"))
    assert [w["trajectory_id"] for w in farid["worked_on"]] == [ids["autumn"]]
    assert farid["answers"][0]["on"] == "2025-10-01"
    assert found["took_part_in_none"] == [member("els"), member("gerda"), member("hamid")]


def test_standing_theme_groups_and_the_platform_count(
        sqlite_engine: Engine, settings: Settings, cli: dict[str, str],
        capsys: pytest.CaptureFixture[str]) -> None:
    ids = history(sqlite_engine, settings)
    found = members(capsys, "--org", "demo-md", "--year", "2026")
    by_mail = {m["email"]: m for m in found["members"]}
    assert by_mail[md("harm")]["standing_groups"] == ["Participeren"]
    assert by_mail[md("harm")]["worked_on"][0]["groups"] == ["themagroep"]
    assert by_mail[md("wilma")]["standing_groups"] == ["Zorg en welzijn"]
    assert by_mail[md("wilma")]["worked_on"] == []
    assert by_mail[md("wilma")]["took_part"] is True
    assert by_mail[md("roos")]["worked_on"] == [{"trajectory_id": ids["md"], "title": "Beleidsregel vervoer",
                                                  "flow": "Gevraagd advies",
                                                  "groups": ["Platform Inclusie"]}]
    assert found["took_part_in_none"] == [md("tom")]


def test_the_text_output_names_who_took_part_in_none(
        sqlite_engine: Engine, settings: Settings, cli: dict[str, str],
        capsys: pytest.CaptureFixture[str]) -> None:
    history(sqlite_engine, settings)
    capsys.readouterr()
    assert in_process(["report", "members", "--org", "demo", "--year", "2026"]) == 0
    text = capsys.readouterr().out
    assert "- Anna de Vries (anna@example.org): 1 antwoord op oproepen; Minimabeleid" in text
    assert "Niet meegedaan: Farid Yilmaz, Gerda Bos, Hamid Rahimi." in text


@pytest.mark.parametrize(("args", "words"), [
    (["--org", "nergens"], "Organisatie 'nergens' bestaat niet"),
    (["--org", "demo", "--year", "20x6"], "'20x6' is geen jaartal"),
    (["--org", "demo", "--year", "1999"], "van 2000 tot en met 2027"),
    (["--org", "demo", "--from", "2026-06-01", "--to", "2026-01-01"], "ligt na de einddatum"),
    (["--org", "demo", "--from", "2026-06-01"], "zowel --from als --to"),
    (["--org", "demo", "--year", "2026", "--from", "2026-01-01", "--to", "2026-02-01"], "niet allebei"),
    (["--org", "demo", "--from", "gisteren", "--to", "2026-02-01"], "'gisteren' is geen datum"),
])
def test_bad_input_is_refused_in_one_dutch_sentence(
        sqlite_engine: Engine, cli: dict[str, str], capsys: pytest.CaptureFixture[str],
        args: list[str], words: str) -> None:
    capsys.readouterr()
    code = in_process(["report", "members", *args])
    captured = capsys.readouterr()
    one_dutch_line(code, captured.err, 2, words)
    assert captured.out == ""
