"""The annual report (`advies report year`), checked against figures counted by hand.

A year of trajectories is driven through the real Service on a moving FrozenClock, the worker's
sweep runs on the way, and the report is made on 30 June 2026 through the command line in all
three formats. Every working-day figure below was counted by hand over the real Dutch
feestdagen of the Algemene termijnenwet: in 2025/2026 Christmas and Boxing Day, 1 January,
2 January 2026 (equated by Royal Decree), Good Friday 3 April, Easter Monday 6 April, King's
Day 27 April, 5 May, Ascension 14 May, 15 May (Royal Decree) and Whit Monday 25 May.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, func, select

from app.annual_report import annual_report
from app.service import Service
from app.sweep import Sweep
from engine.clock import AMSTERDAM, FrozenClock
from flows import all_flows
from settings import Settings
from storage.tables import HistoryEntry, Trajectory
from tests.advies_cli import environment, in_process, one_dutch_line, run, set_environment
from tests.helpers import ADVISER, MEMBERS, SECRETARIAT, member

MD_SECRETARY = "secretaris@voorbeeldveld.example.org"
REPORT_DAY = "2026-06-30T12:00:00+02:00"


class Year:
    """The demo organisation's trajectories, one clock for all of them (advice and response
    term 6 weeks, recess 1 July - 31 August)."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.clock = FrozenClock(datetime(2025, 9, 1, 9, 30, tzinfo=AMSTERDAM))
        self.service = Service(engine, settings, self.clock)

    def on(self, day: date) -> None:
        self.clock.set(datetime(day.year, day.month, day.day, 9, 30, tzinfo=AMSTERDAM))
        Sweep(self.service).run()  # the worker's pass on that day

    def start(self, title: str) -> int:
        raw = {"policy_adviser": ADVISER, "received_on": self.clock.now().date().isoformat()}
        return int(self.service.start("asked_advice", "demo", title, SECRETARIAT, raw)["id"])

    def to_advising(self, tid: int) -> None:
        fire = self.service.fire
        fire(tid, "call_participants", SECRETARIAT)
        for name in MEMBERS[:5]:
            fire(tid, "sign_up", member(name))
        fire(tid, "close_signup", SECRETARIAT)
        fire(tid, "first_meeting_held", SECRETARIAT)
        fire(tid, "choose_contact", SECRETARIAT, {"contact_person": member("bram")})
        fire(tid, "consultation_done", member("bram"))

    def send(self, tid: int) -> None:
        self.service.fire(tid, "send_advice", member("bram"), {"document": "Ons advies."})

    def response(self, tid: int) -> None:
        today = self.clock.now().date().isoformat()
        self.service.fire(tid, "record_response", SECRETARIAT,
                          {"received_on": today, "document": "De reactie van het college."})


def a_year(engine: Engine, settings: Settings) -> dict[str, int]:
    """The trajectories, in the order the days pass. Returns their ids by a short name."""
    year, ids = Year(engine, settings), {}
    year.on(date(2025, 9, 1))
    ids["declined_2025"] = year.start("Afgewezen in 2025")
    year.service.fire(ids["declined_2025"], "decline", SECRETARIAT, {"reason": "Geen tijd."})
    year.on(date(2025, 11, 3))
    ids["from_2025"] = year.start("Mantelzorg")  # advice due Mon 15 Dec 2025
    year.to_advising(ids["from_2025"])
    year.on(date(2025, 12, 10))
    year.send(ids["from_2025"])  # response due Wed 21 Jan 2026
    year.on(date(2026, 1, 14))
    year.response(ids["from_2025"])
    year.on(date(2026, 2, 2))
    year.service.fire(ids["from_2025"], "close", SECRETARIAT)
    ids["published"] = year.start("Minimabeleid")  # advice due Mon 16 Mar
    year.to_advising(ids["published"])
    year.on(date(2026, 2, 16))
    ids["advice_late"] = year.start("Jeugdhulp")  # advice due Mon 30 Mar
    year.to_advising(ids["advice_late"])
    year.on(date(2026, 3, 10))
    year.send(ids["published"])  # response due Tue 21 Apr
    year.on(date(2026, 3, 12))
    year.service.fire(ids["published"], "publish", SECRETARIAT,
                      {"url": "https://example.org/advies/minimabeleid"})
    year.on(date(2026, 4, 2))
    year.send(ids["advice_late"])  # late; response due Thu 14 May (Ascension) -> Mon 18 May
    year.on(date(2026, 4, 13))
    ids["missed"] = year.start("Wmo-verordening")  # advice due Mon 25 May (Whit Monday) -> 26 May
    year.on(date(2026, 4, 28))
    year.response(ids["published"])  # the college is late
    year.on(date(2026, 5, 12))
    year.response(ids["advice_late"])
    year.on(date(2026, 5, 27))
    other = year.service.start("md_asked_advice", "demo-md", "Verordening van een ander", MD_SECRETARY,
                               {"policy_adviser": "beleid@voorbeeldveld.example.org",
                                "received_on": "2026-05-27", "document_type": "beleidsregel"})
    ids["other_organisation"] = int(other["id"])
    year.on(date(2026, 6, 15))
    ids["running"] = year.start("Armoedeaanpak")
    year.on(date(2026, 6, 30))
    return ids


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = {**environment(tmp_path, "advies.db"), "ADVIES_NOW": REPORT_DAY}
    set_environment(monkeypatch, env)
    return env


def report(capsys: pytest.CaptureFixture[str], fmt: str) -> str:
    capsys.readouterr()
    assert in_process(["report", "year", "--org", "demo", "--year", "2026", "--format", fmt]) == 0
    return capsys.readouterr().out


def terms(line: dict[str, Any], name: str) -> list[tuple[str, str, int | None]]:
    return [(t["due"], t["outcome"], t["working_days_late"]) for t in line["terms"] if t["name"] == name]


def test_the_json_report_holds_the_hand_counted_figures(
        sqlite_engine: Engine, settings: Settings, cli_env: dict[str, str],
        capsys: pytest.CaptureFixture[str]) -> None:
    ids = a_year(sqlite_engine, settings)
    found = json.loads(report(capsys, "json"))
    lines = {t["id"]: t for t in found["trajectories"]}
    expected = [ids[n] for n in ("from_2025", "published", "advice_late", "missed", "running")]
    assert sorted(lines) == expected  # not the one closed in 2025, not another organisation's
    assert found["made_on"] == "2026-06-30"

    from_2025 = lines[ids["from_2025"]]
    assert (from_2025["requested_on"], from_2025["advice_sent_on"]) == ("2025-11-03", "2025-12-10")
    assert (from_2025["response_received_on"], from_2025["closed_on"]) == ("2026-01-14", "2026-02-02")
    assert terms(from_2025, "advice_due") == [("2025-12-15", "met", None)]
    assert terms(from_2025, "response_due") == [("2026-01-21", "met", None)]
    # 11-12 Dec 2, 15-19 Dec 5, 22-24 Dec 3, 29-31 Dec 3, (1 and 2 Jan free) 5-9 Jan 5, 12-14 Jan 3
    assert (from_2025["response_working_days"], from_2025["response_calendar_days"]) == (21, 35)
    assert from_2025["published"] is False

    published = lines[ids["published"]]
    assert terms(published, "advice_due") == [("2026-03-16", "met", None)]
    # 22, 23, 24 April and (King's Day 27 April free) 28 April
    assert terms(published, "response_due") == [("2026-04-21", "met_late", 4)]
    # March 11-13 3, 16-20 5, 23-27 5, 30 Mar-2 Apr 4 (Good Friday), 7-10 Apr 4 (Easter Monday),
    # 13-17 5, 20-24 5, 28 April 1 (King's Day): 32
    assert (published["response_working_days"], published["response_calendar_days"]) == (32, 49)
    assert (published["published"], published["published_on"]) == (True, "2026-03-12")
    assert published["closed_on"] is None

    late = lines[ids["advice_late"]]
    assert terms(late, "advice_due") == [("2026-03-30", "met_late", 3)]  # 31 March, 1 and 2 April
    assert terms(late, "response_due") == [("2026-05-18", "met", None)]
    # 7-10 Apr 4, 13-17 5, 20-24 5, 28-30 3, 1 May 1, 4 May 1, (5 May free) 6-8 May 3, 11-12 May 2
    assert (late["response_working_days"], late["response_calendar_days"]) == (24, 40)

    missed = lines[ids["missed"]]
    # 27-29 May 3, then four full weeks of June 20, 29-30 June 2: missed by 25 working days so far
    assert terms(missed, "advice_due") == [("2026-05-26", "missed", 25)]
    assert missed["advice_sent_on"] is None

    running = lines[ids["running"]]
    assert [t["outcome"] for t in running["terms"]] == ["running"]

    [totals] = found["totals"]
    assert totals["flow"] == "asked_advice"
    assert totals["count"] == 5
    assert totals["advice_terms"] == {"met": 2, "met_late": 1, "missed": 1}
    assert totals["response_terms"] == {"met": 2, "met_late": 1, "missed": 0}
    assert totals["responses"] == 3
    # (21 + 32 + 24) / 3 = 25.67 and (35 + 49 + 40) / 3 = 41.33
    assert totals["response_working_days"] == {"average": 25.7, "longest": 32}
    assert totals["response_calendar_days"] == {"average": 41.3, "longest": 49}


def test_the_csv_has_one_row_per_trajectory_for_dutch_excel(
        sqlite_engine: Engine, settings: Settings, cli_env: dict[str, str],
        capsys: pytest.CaptureFixture[str]) -> None:
    ids = a_year(sqlite_engine, settings)
    text = report(capsys, "csv")
    assert text.startswith("\ufeffnummer;soort;titel;")
    rows = {row["nummer"]: row for row in csv.DictReader(io.StringIO(text[1:]), delimiter=";")}
    assert len(rows) == 5
    published = rows[str(ids["published"])]
    assert published["titel"] == "Minimabeleid"
    assert published["soort"] == "Gevraagd advies"
    assert (published["aanvraag"], published["advies verstuurd"]) == ("02-02-2026", "10-03-2026")
    assert published["reactie college"] == "28-04-2026"
    assert (published["reactietijd werkdagen"], published["reactietijd kalenderdagen"]) == ("32", "49")
    assert published["gepubliceerd"] == "ja"
    assert (published["reactietermijn einddatum"], published["reactietermijn"],
            published["reactietermijn werkdagen te laat"]) == ("21-04-2026", "te laat gehaald", "4")
    missed = rows[str(ids["missed"])]
    assert (missed["adviestermijn"], missed["adviestermijn werkdagen te laat"]) == ("niet gehaald", "25")
    assert missed["gepubliceerd"] == "nee"
    assert str(ids["other_organisation"]) not in rows


def test_the_html_report_is_a_page_to_paste_into_the_jaarverslag(
        sqlite_engine: Engine, settings: Settings, cli_env: dict[str, str], tmp_path: Path) -> None:
    a_year(sqlite_engine, settings)
    target = tmp_path / "jaarverslag.html"
    done = run(cli_env, "report", "year", "--org", "demo", "--year", "2026", "--output", str(target))
    assert done.returncode == 0, done.stderr
    assert "geschreven naar" in done.stdout
    html = target.read_text(encoding="utf-8")
    assert "<h1>Jaarverslag 2026: Adviesgroep Sociaal Domein Voorbeeldstad</h1>" in html
    assert "<script" not in html
    assert "http" not in html.replace("https://example.org", "")
    assert "Stand op 30 juni 2026" in html
    assert "2 gehaald, 1 te laat gehaald, 1 niet gehaald" in html  # the advice terms
    assert "2 gehaald, 1 te laat gehaald, 0 niet gehaald" in html  # the college's terms
    assert "25,7 werkdagen (41,3 kalenderdagen)" in html
    assert "32 werkdagen (49 kalenderdagen)" in html
    assert "te laat gehaald, 4 werkdagen" in html
    assert "niet gehaald, 25 werkdagen tot nu" in html
    assert "ja, op 12 maart 2026" in html
    assert "Verordening van een ander" not in html
    assert "Afgewezen in 2025" not in html

    again = run(cli_env, "report", "year", "--org", "demo", "--year", "2026", "--output", str(target))
    one_dutch_line(again.returncode, again.stderr, 2, "bestaat al")
    assert target.read_text(encoding="utf-8") == html
    replaced = run(cli_env, "report", "year", "--org", "demo", "--year", "2026", "--format", "json",
                   "--output", str(target), "--overwrite")
    assert replaced.returncode == 0, replaced.stderr
    assert json.loads(target.read_text(encoding="utf-8"))["year"] == 2026


def history_rows(engine: Engine) -> tuple[int, int]:
    with Session(engine) as session:
        return (session.exec(select(func.count()).select_from(HistoryEntry)).one(),
                session.exec(select(func.count()).select_from(Trajectory)).one())


@pytest.mark.parametrize(("args", "words"), [
    (["--org", "bestaat-niet", "--year", "2026"], "Organisatie 'bestaat-niet' bestaat niet"),
    (["--org", "demo", "--year", "26"], "'26' is geen jaartal"),
    (["--org", "demo", "--year", "twee"], "'twee' is geen jaartal"),
    (["--org", "demo", "--year", "1999"], "van 2000 tot en met 2027"),
    (["--org", "demo", "--year", "2028"], "van 2000 tot en met 2027"),
    (["--org", "demo", "--year", "2026", "--format", "pdf"], "Onbekend formaat 'pdf'"),
    (["--org", "demo", "--year", "2026", "--output", "/geen/map/verslag.html"], "De map '/geen/map'"),
])
def test_bad_input_is_refused_in_one_dutch_sentence(
        sqlite_engine: Engine, cli_env: dict[str, str], capsys: pytest.CaptureFixture[str],
        args: list[str], words: str) -> None:
    before = history_rows(sqlite_engine)
    capsys.readouterr()
    code = in_process(["report", "year", *args])
    captured = capsys.readouterr()
    one_dutch_line(code, captured.err, 2, words)
    assert captured.out == ""
    assert history_rows(sqlite_engine) == before
    assert not Path("/geen/map/verslag.html").exists()


def test_postgresql_gives_the_same_figures(pg_engine: Engine, settings: Settings) -> None:
    ids = a_year(pg_engine, settings)
    found = annual_report(pg_engine, all_flows(), "demo", 2026, date(2026, 6, 30)).as_json()
    lines = {t["id"]: t for t in found["trajectories"]}
    assert sorted(lines) == [ids[n] for n in ("from_2025", "published", "advice_late", "missed", "running")]
    assert terms(lines[ids["missed"]], "advice_due") == [("2026-05-26", "missed", 25)]
    [totals] = found["totals"]
    assert totals["advice_terms"] == {"met": 2, "met_late": 1, "missed": 1}
    assert totals["response_terms"] == {"met": 2, "met_late": 1, "missed": 0}
    assert totals["response_working_days"] == {"average": 25.7, "longest": 32}
