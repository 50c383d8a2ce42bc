"""`advies report dossier ID`: one self-contained HTML file with everything of a trajectory.

A trajectory runs from request to close through the real Service on a moving clock (a call
with reserves, a suspension, an extension, the advice, the response), the worker delivers part
of its mail to the mail folder and purges the oldest after the organisation's retention, and
the rest stays queued. The dossier the command writes is checked against the database.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from markupsafe import escape
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from app import org_file
from app.dossier import LINK_LEFT_OUT
from app.service import Service
from engine.clock import AMSTERDAM, FrozenClock
from settings import Settings
from storage.tables import DeadlineRow, HistoryEntry, OutboxMessage, as_utc
from tests.advies_cli import environment, in_process, one_dutch_line, run, set_environment
from tests.helpers import ADVISER, MEMBERS, SECRETARIAT, member, outbox, start
from tests.integration.test_privacy import set_retention
from worker.main import Worker

ADVICE = "Ons advies: meer plekken dichtbij huis.\nTweede regel van het advies."
RESPONSE = "Het college neemt het advies over."


@pytest.fixture
def closed_trajectory(service: Service, clock: FrozenClock, settings: Settings,
                      sqlite_engine: Engine, tmp_path: Path) -> int:
    """A trajectory from request to close; the first mails are delivered and, a month later,
    purged (retention of one month); the mails of the last steps stay queued."""
    org_file.load(sqlite_engine, set_retention(tmp_path, 1))
    worker = Worker(settings, engine=sqlite_engine, clock=clock)
    tid = int(start(service)["id"])
    service.fire(tid, "call_participants", SECRETARIAT)
    for name in MEMBERS:  # eight sign up, six fit: two reserves
        service.fire(tid, "sign_up", member(name))
    worker.once()  # delivered to the mail folder
    clock.advance(timedelta(days=3))
    service.fire(tid, "close_signup", SECRETARIAT)
    service.fire(tid, "first_meeting_held", SECRETARIAT, note="Goed gesprek met de beleidsadviseur.")
    service.fire(tid, "choose_contact", SECRETARIAT, {"contact_person": member("bram")})
    service.fire(tid, "suspend", SECRETARIAT, {"reason": "Wachten op cijfers van de gemeente."})
    clock.advance(timedelta(days=7))
    service.fire(tid, "resume", SECRETARIAT)
    service.fire(tid, "extend", SECRETARIAT, {"deadline": "advice_due", "extra": "2w",
                                              "reason": "De cijfers kwamen laat."})
    service.fire(tid, "consultation_done", member("bram"))
    service.fire(tid, "send_advice", member("bram"), {"document": ADVICE})
    clock.advance(timedelta(days=40))
    worker.once()  # the first mails are older than a month now: purged; the rest delivered
    service.fire(tid, "record_response", SECRETARIAT, {"received_on": clock.now().astimezone(
        AMSTERDAM).date().isoformat(), "document": RESPONSE})
    service.fire(tid, "close", SECRETARIAT)
    return tid


def shown(text: str) -> str:
    """Text as the dossier shows it: escaped."""
    return str(escape(text))


def dossier_cli(tmp_path: Path, clock: FrozenClock, *args: str) -> tuple[int, str, str]:
    env = {**environment(tmp_path, "advies.db"), "ADVIES_NOW": clock.now().isoformat()}
    done = run(env, "report", "dossier", *args)
    return done.returncode, done.stdout, done.stderr


def rows(engine: Engine, tid: int, table: type) -> list:  # type: ignore[type-arg]
    with Session(engine) as session:
        return list(session.exec(select(table).where(table.trajectory_id == tid)  # type: ignore[attr-defined]
                                 .order_by(col(table.id))))  # type: ignore[attr-defined]


def test_the_dossier_holds_every_history_entry_deadline_and_mail(
        closed_trajectory: int, sqlite_engine: Engine, clock: FrozenClock, tmp_path: Path) -> None:
    tid = closed_trajectory
    target = tmp_path / "archief" / "dossier.html"
    target.parent.mkdir()
    code, out, err = dossier_cli(tmp_path, clock, str(tid), "--output", str(target))
    assert code == 0, err
    assert f"Dossier van traject {tid} geschreven naar {target}." in out
    page = target.read_text(encoding="utf-8")

    history = rows(sqlite_engine, tid, HistoryEntry)
    listed = re.findall(r'<tr class="history"><td>(\d+)</td><td>([^<]*)</td><td>([^<]*)</td>'
                       r'<td>([^<]*)</td>', page)
    assert len(listed) == len(history) > 15
    for index, ((number, at, who, _event), entry) in enumerate(zip(listed, history, strict=True)):
        assert int(number) == index + 1
        assert at == as_utc(entry.at).astimezone(AMSTERDAM).strftime("%d-%m-%Y %H:%M")
        assert entry.actor in who
    assert "Goed gesprek met de beleidsadviseur." in page
    assert shown(ADVICE.splitlines()[0]) in page
    assert shown(RESPONSE) in page
    assert "Wachten op cijfers van de gemeente." in page
    assert "De cijfers kwamen laat." in page

    deadlines = rows(sqlite_engine, tid, DeadlineRow)
    assert page.count('<tr class="term">') == len(deadlines) >= 4
    for d in deadlines:
        for line in d.explanation.splitlines():
            assert shown(line) in page
    assert any("Verlengd" in d.explanation for d in deadlines)

    mails = rows(sqlite_engine, tid, OutboxMessage)
    statuses = {m.status for m in mails}
    purged = [m for m in mails if m.purged_at is not None]
    assert statuses == {"sent", "queued"}
    assert purged
    assert page.count('<div class="mail"') == len(mails)
    assert page.count("De tekst van deze e-mail is gewist op") == len(purged)
    for m in mails:
        assert shown(m.subject) in page
    kept = next(m for m in mails if m.purged_at is None and m.template == "asked_advice/response_received")
    assert "Het college neemt het advies over." in page
    assert kept.status == "queued"
    assert page.count("in de wachtrij") == sum(1 for m in mails if m.status == "queued")

    reserves = re.search(r"<p>Reserves:</p>\s*<ul>\s*<li>([^<]*)</li>\s*<li>([^<]*)</li>\s*</ul>", page)
    assert reserves is not None  # eight signed up, six fit: the last two are reserves
    assert [member(n) in r for n, r in zip(MEMBERS[6:], reserves.groups(), strict=True)] == [True, True]
    assert "Centraal aanspreekpunt: Bram" in page
    assert "Fatima El Amrani (beleid@example.org)" in page  # the request's policy adviser
    assert "projectgroep" in page  # the organisation's own word


def test_the_dossier_is_self_contained(closed_trajectory: int, clock: FrozenClock,
                                       tmp_path: Path) -> None:
    code, page, err = dossier_cli(tmp_path, clock, str(closed_trajectory))  # to stdout
    assert code == 0, err
    assert page.startswith("<!DOCTYPE html>")
    assert page.rstrip().endswith("</html>")
    assert "<style>" in page
    for outside in ("<script", "src=", "href=", "<link", "@import", "url(", "<iframe", "<img"):
        assert outside not in page.lower(), outside


def test_a_title_with_markup_comes_out_as_text(service: Service, clock: FrozenClock,
                                               tmp_path: Path) -> None:
    title = '<script>alert("x")</script> & <b>vet</b>'
    tid = int(service.start("asked_advice", "demo", title, SECRETARIAT,
                            {"policy_adviser": ADVISER, "received_on": "2026-03-24"})["id"])
    service.fire(tid, "decline", SECRETARIAT, {"reason": "<img src=x onerror=alert(1)>"},
                 note="<i>notitie</i>")
    code, page, err = dossier_cli(tmp_path, clock, str(tid))
    assert code == 0, err
    assert "<script" not in page
    assert "<img" not in page
    assert "<b>" not in page
    assert "<i>" not in page
    assert shown(title) in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&lt;i&gt;notitie&lt;/i&gt;" in page


@pytest.mark.parametrize(("args", "words"), [
    (("999",), "Traject 999 bestaat niet."),
    (("0",), "Traject 0 bestaat niet."),
    (("abc",), "ID"),
    (("1", "--output", "/geen/map/dossier.html"), "bestaat niet"),
    (("1", "--output", "."), "is een map"),
])
def test_bad_input_is_refused_and_nothing_is_written(
        args: tuple[str, ...], words: str, service: Service, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    start(service)
    set_environment(monkeypatch, environment(tmp_path, "advies.db"))
    before = sorted(p.name for p in tmp_path.iterdir())
    code = in_process(["report", "dossier", *args])
    one_dutch_line(code, capsys.readouterr().err, 2, words)
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_an_existing_file_is_kept_without_overwrite(service: Service, clock: FrozenClock,
                                                    tmp_path: Path) -> None:
    tid = int(start(service)["id"])
    target = tmp_path / "dossier.html"
    target.write_text("oud", encoding="utf-8")
    code, _, err = dossier_cli(tmp_path, clock, str(tid), "--output", str(target))
    one_dutch_line(code, err, 2, "bestaat al")
    assert target.read_text(encoding="utf-8") == "oud"
    code, _, err = dossier_cli(tmp_path, clock, str(tid), "--output", str(target), "--overwrite")
    assert code == 0, err
    assert "Regiovisie beschermd wonen" in target.read_text(encoding="utf-8")


def test_personal_answer_links_stay_out_of_the_archive(service: Service, clock: FrozenClock,
                                                      tmp_path: Path) -> None:
    tid = int(start(service)["id"])
    service.fire(tid, "call_participants", SECRETARIAT)  # a personal link to every member
    code, page, err = dossier_cli(tmp_path, clock, str(tid))
    assert code == 0, err
    assert "/antwoord/" not in page
    assert page.count(LINK_LEFT_OUT) >= len(MEMBERS)


def test_the_mail_folder_holds_what_the_dossier_calls_sent(
        closed_trajectory: int, sqlite_engine: Engine, settings: Settings) -> None:
    sent = [m for m in outbox(sqlite_engine, closed_trajectory) if m.status == "sent"]
    written = "".join(f.read_text(encoding="utf-8", errors="replace")
                      for f in Path(settings.mail_dir).rglob("*") if f.is_file())
    assert sent
    for m in sent:
        assert m.message_id in written
