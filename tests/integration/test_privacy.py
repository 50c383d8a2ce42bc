"""Privacy (AVG): `advies person forget` and the retention of sent mail bodies.

A trajectory is walked with the real service on a real SQLite file; the command line is then
run as the secretariat runs it (`advies org load`, `advies worker --once`, `advies person
forget`), and afterwards every value in every table is read, mail bodies decoded as a mail
reader decodes them, to prove the address and the name are gone.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from app import org_file, privacy
from app.service import Service
from cli.main import app
from engine.clock import FrozenClock
from settings import Settings
from storage.tables import HistoryEntry, OutboxMessage, Person, Trajectory
from tests.conftest import DEMO_ORG, TEST_SECRET
from tests.helpers import SECRETARIAT, member, outbox, start, to_matching
from tests.integration.test_delivery_smtp import Recorder, smtp_server
from worker.main import Worker

ADVIES = str(Path(sys.executable).parent / "advies")
BRAM, BRAM_NAME = member("bram"), "Bram Jansen"


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def cli(sqlite_url: str, tmp_path: Path, clock: FrozenClock, *args: str,
        smtp_port: int | None = None, real: bool = False) -> Ran:
    """`advies ARGS` with the clock at ADVIES_NOW: a real process (`real`), or in this process
    through typer's runner (the same command, without the start-up time of a process)."""
    env = {"ADVIES_DATABASE_URL": sqlite_url, "ADVIES_MAIL_DIR": str(tmp_path / "mail"),
           "ADVIES_NOW": clock.now().isoformat(), "ADVIES_SECRET_KEY": TEST_SECRET,
           "ADVIES_MAIL_FROM": "Adviesgroep Test <adviesgroep@example.org>",
           "ADVIES_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}" if smtp_port else None}
    if real:
        values = {k: v for k, v in {**os.environ, **env}.items() if v is not None}
        done = subprocess.run([ADVIES, *args], env=values, capture_output=True, text=True,
                              timeout=60, cwd=tmp_path)
        return Ran(done.returncode, done.stdout, done.stderr)
    result = CliRunner().invoke(app, list(args), env=env)
    return Ran(result.exit_code, result.stdout, result.stderr)


def leaves(sqlite_url: str, tmp_path: Path, clock: FrozenClock, address: str) -> None:
    """They leave the organisation file (the secretariat is told by mail), and the mail goes."""
    loaded = cli(sqlite_url, tmp_path, clock, "org", "load", str(without(tmp_path, address)))
    assert loaded.returncode == 0, loaded.stderr
    cli(sqlite_url, tmp_path, clock, "worker", "--once")


def without(tmp_path: Path, address: str) -> Path:
    """The demo organisation file with one person left out (they leave the council)."""
    blocks = DEMO_ORG.read_text(encoding="utf-8").split("[[organisation.person]]")
    kept = [b for b in blocks if f'email = "{address}"' not in b]
    assert len(kept) == len(blocks) - 1
    path = tmp_path / "org.toml"
    path.write_text("[[organisation.person]]".join(kept), encoding="utf-8")
    return path


def closed_with_bram(service: Service, clock: FrozenClock) -> int:
    """A trajectory from request to closed in which Bram signs up, is contact person, sends
    the advice and is named in a note, an invitation and the advice."""
    tid = to_matching(service, clock)
    service.fire(tid, "plan_meeting", SECRETARIAT,
                 {"meeting_on": "2026-04-14", "meeting_time": "19:30", "meeting_place": "Stadhuis"})
    service.fire(tid, "first_meeting_held", SECRETARIAT, note=f"Goed gesprek, {BRAM_NAME} zit voor.")
    service.fire(tid, "choose_contact", SECRETARIAT, {"contact_person": BRAM})
    service.fire(tid, "consultation_done", BRAM)
    service.fire(tid, "send_advice", BRAM, {"document": f"Ons advies.\nVragen? Mail {BRAM}."})
    clock.advance(timedelta(days=7))
    service.fire(tid, "record_response", SECRETARIAT,
                 {"received_on": clock.now().date().isoformat(), "document": "Overgenomen."})
    service.fire(tid, "close", SECRETARIAT)
    return tid


def shape(engine: Engine) -> list[tuple[int, int, str, str | None, str]]:
    with Session(engine) as session:
        rows = session.exec(select(HistoryEntry).order_by(HistoryEntry.id)).all()
        return [(r.id or 0, r.trajectory_id, r.event, r.from_state, r.to_state) for r in rows]


def readable(value: Any) -> str:
    """A value as a person reading the database sees it; a stored mail decoded part by part."""
    if not isinstance(value, bytes):
        return str(value)
    if not value:
        return ""
    message = email.message_from_bytes(value, policy=email.policy.default)
    texts = [str(message.get(h, "")) for h in ("To", "Subject")]
    for part in message.walk():
        if part.get_content_maintype() == "text" and not part.is_multipart():
            texts.append(str(part.get_content()).replace("\r\n ", ""))
    return "\n".join(texts)


def everything(sqlite_url: str) -> str:
    """Every value of every table, readable."""
    connection = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"))
    try:
        tables = [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return "\n".join(readable(v) for t in tables for row in connection.execute(f'SELECT * FROM "{t}"')
                         for v in row)
    finally:
        connection.close()


def test_forget_replaces_the_person_everywhere_and_keeps_the_history_shape(
        service: Service, clock: FrozenClock, sqlite_engine: Engine, sqlite_url: str,
        tmp_path: Path) -> None:
    tid = closed_with_bram(service, clock)
    delivered = cli(sqlite_url, tmp_path, clock, "worker", "--once")
    assert delivered.returncode == 0, delivered.stderr
    leaves(sqlite_url, tmp_path, clock, BRAM)
    before_shape, before_mails = shape(sqlite_engine), len(outbox(sqlite_engine))
    text = everything(sqlite_url)
    assert BRAM in text
    assert BRAM_NAME in text

    result = cli(sqlite_url, tmp_path, clock, "person", "forget", BRAM, "--org", "demo", "--json", real=True)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    pseudonym = found["pseudonym"]
    assert pseudonym["email"].startswith("vergeten-")
    assert pseudonym["email"].endswith("@vergeten.invalid")
    assert pseudonym["name"].startswith("Vergeten persoon ")
    assert found["already_forgotten"] is False

    text = everything(sqlite_url)
    assert BRAM not in text
    assert BRAM_NAME not in text
    assert shape(sqlite_engine) == before_shape  # same rows, events, states and order
    assert len(outbox(sqlite_engine)) == before_mails
    with Session(sqlite_engine) as session:
        trajectory = session.get(Trajectory, tid)
        assert trajectory is not None
        assert trajectory.data["contact_person"] == pseudonym["email"]
        assert trajectory.data["group"][1] == pseudonym["email"]  # in Bram's place
        actors = [h.actor for h in session.exec(select(HistoryEntry).where(
            HistoryEntry.trajectory_id == tid).order_by(HistoryEntry.id))]
        assert actors.count(pseudonym["email"]) == 3  # sign_up, consultation_done, send_advice
        person = session.exec(select(Person).where(Person.email == pseudonym["email"])).one()
        assert (person.name, person.roles) == (pseudonym["name"], [])
        theirs = session.exec(select(OutboxMessage).where(
            OutboxMessage.recipient == pseudonym["email"])).all()
        assert theirs
        assert all(m.raw == b"" and m.purged_at is not None for m in theirs)
        assert all(m.status == "sent" for m in theirs)  # the metadata stays

    shown = cli(sqlite_url, tmp_path, clock, "show", str(tid), "--json")
    assert shown.returncode == 0
    assert BRAM not in shown.stdout

    again = cli(sqlite_url, tmp_path, clock, "person", "forget", BRAM, "--org", "demo", "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["pseudonym"] == pseudonym  # stable
    assert json.loads(again.stdout)["already_forgotten"] is True
    plain = cli(sqlite_url, tmp_path, clock, "person", "forget", BRAM, "--org", "demo")
    assert "al vergeten" in plain.stdout
    assert shape(sqlite_engine) == before_shape


def test_forget_is_refused_while_the_person_is_in_a_running_group(
        service: Service, clock: FrozenClock, sqlite_engine: Engine, sqlite_url: str,
        tmp_path: Path) -> None:
    tid = to_matching(service, clock)
    before = everything(sqlite_url)

    result = cli(sqlite_url, tmp_path, clock, "person", "forget", BRAM, "--org", "demo", real=True)
    assert result.returncode == 3
    assert f"doet nog mee aan een lopend traject ({tid})" in result.stderr
    assert "Traceback" not in result.stderr
    assert everything(sqlite_url) == before  # nothing written

    service.fire(tid, "withdraw", SECRETARIAT, {"reason": "Het college trok de vraag in."})
    cli(sqlite_url, tmp_path, clock, "worker", "--once")
    leaves(sqlite_url, tmp_path, clock, BRAM)
    done = cli(sqlite_url, tmp_path, clock, "person", "forget", BRAM, "--org", "demo")
    assert done.returncode == 0, done.stderr
    assert "is vergeten en heet nu Vergeten persoon" in done.stdout


def test_forget_is_refused_while_the_person_still_holds_a_role(
        service: Service, clock: FrozenClock, sqlite_url: str, tmp_path: Path) -> None:
    result = cli(sqlite_url, tmp_path, clock, "person", "forget", BRAM, "--org", "demo")
    assert result.returncode == 3
    assert "staat nog met een rol in het bestand" in result.stderr
    unknown = cli(sqlite_url, tmp_path, clock, "person", "forget", "niemand@example.org", "--org", "demo")
    assert unknown.returncode == 2
    assert "staat niemand met het adres" in unknown.stderr
    bad = cli(sqlite_url, tmp_path, clock, "person", "forget", "geen adres", "--org", "demo")
    assert bad.returncode == 2
    assert "geen geldig e-mailadres" in bad.stderr


def test_forget_waits_until_mail_naming_them_to_others_has_gone(
        service: Service, clock: FrozenClock, sqlite_url: str, tmp_path: Path) -> None:
    tid = to_matching(service, clock)  # the group mail names Bram
    service.fire(tid, "plan_meeting", SECRETARIAT, {"meeting_on": "2026-04-14"})  # so does this
    service.fire(tid, "withdraw", SECRETARIAT, {"reason": "Het college trok de vraag in."})
    assert cli(sqlite_url, tmp_path, clock, "org", "load", str(without(tmp_path, BRAM))).returncode == 0
    before = everything(sqlite_url)

    waiting = cli(sqlite_url, tmp_path, clock, "person", "forget", BRAM, "--org", "demo", real=True)
    assert waiting.returncode == 3
    assert "wacht nog mail aan anderen" in waiting.stderr
    assert everything(sqlite_url) == before

    assert cli(sqlite_url, tmp_path, clock, "worker", "--once").returncode == 0
    done = cli(sqlite_url, tmp_path, clock, "person", "forget", BRAM, "--org", "demo", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["cancelled"] == 0
    assert BRAM not in everything(sqlite_url)


def test_mail_to_them_still_waiting_is_not_sent(
        service: Service, clock: FrozenClock, sqlite_engine: Engine, sqlite_url: str,
        tmp_path: Path) -> None:
    tid = int(start(service)["id"])
    service.fire(tid, "call_participants", SECRETARIAT)  # the call goes to Bram too
    service.fire(tid, "sign_up", BRAM)  # and his confirmation
    service.fire(tid, "withdraw", SECRETARIAT, {"reason": "Het college trok de vraag in."})
    to_bram = [m.id for m in outbox(sqlite_engine) if m.recipient == BRAM]
    assert len(to_bram) == 2
    server = Recorder()
    server.refuse = {BRAM: "450 4.2.1 Postvak even niet bereikbaar"}  # his mail has to wait
    with smtp_server(server) as port:
        loaded = cli(sqlite_url, tmp_path, clock, "org", "load", str(without(tmp_path, BRAM)))
        assert loaded.returncode == 0, loaded.stderr
        cli(sqlite_url, tmp_path, clock, "worker", "--once", smtp_port=port)
        waiting = {m.id: m.status for m in outbox(sqlite_engine) if m.recipient == BRAM}
        assert waiting == dict.fromkeys(to_bram, "queued")

        forgotten = cli(sqlite_url, tmp_path, clock, "person", "forget", BRAM, "--org", "demo", "--json")
        assert forgotten.returncode == 0, forgotten.stderr
        assert json.loads(forgotten.stdout)["cancelled"] == 2
        pseudonym = json.loads(forgotten.stdout)["pseudonym"]["email"]
        rows = {m.id: m for m in outbox(sqlite_engine)}
        for outbox_id in to_bram:
            row = rows[outbox_id]
            assert (row.recipient, row.status, row.raw) == (pseudonym, "failed", b"")
            assert "vergeten" in (row.last_error or "")

        retry = cli(sqlite_url, tmp_path, clock, "outbox", "retry", str(to_bram[0]))
        assert retry.returncode == 3
        assert "gewist" in retry.stderr
        server.refuse = {}
        clock.advance(timedelta(hours=7))  # past every retry pause
        cli(sqlite_url, tmp_path, clock, "worker", "--once", smtp_port=port)
    assert server.mails  # the others' mail went out
    assert server.to(BRAM) == []
    assert server.to(pseudonym) == []
    assert BRAM not in everything(sqlite_url)


# --- retention ---------------------------------------------------------------------------------


def set_retention(tmp_path: Path, months: int) -> Path:
    text = DEMO_ORG.read_text(encoding="utf-8").replace(
        'slug = "demo"\n', f'slug = "demo"\nmail_retention_months = {months}\n', 1)
    path = tmp_path / "retention.toml"
    path.write_text(text, encoding="utf-8")
    return path


def bodies(engine: Engine, ids: list[int]) -> dict[str, int]:
    """How many of these mails still have their body, and how many were purged. (Mail the
    sweep makes later, after the clock moved, is not counted: it is new.)"""
    rows = [m for m in outbox(engine) if m.id in ids]
    return {"kept": sum(1 for m in rows if m.raw), "purged": sum(1 for m in rows if not m.raw)}


@pytest.mark.parametrize(("months", "load"), [(24, False), (6, True)])
def test_sent_mail_bodies_are_purged_after_the_retention(
        settings: Settings, sqlite_engine: Engine, sqlite_url: str, service: Service,
        clock: FrozenClock, tmp_path: Path, months: int, load: bool) -> None:
    if load:  # the organisation sets its own retention in its file
        loaded = cli(sqlite_url, tmp_path, clock, "org", "load", str(set_retention(tmp_path, months)))
        assert loaded.returncode == 0, loaded.stderr
    to_matching(service, clock)
    worker = Worker(settings, engine=sqlite_engine, clock=clock)
    worker.once()  # delivers everything
    sent = outbox(sqlite_engine)
    ids = [m.id for m in sent if m.id is not None]
    assert sent
    assert all(m.status == "sent" for m in sent)

    start = clock.now()
    clock.set(start + timedelta(days=30 * months - 20))  # not yet
    worker.once()
    assert bodies(sqlite_engine, ids) == {"kept": len(sent), "purged": 0}

    clock.set(start + timedelta(days=31 * months + 1))
    worker.once()
    assert bodies(sqlite_engine, ids) == {"kept": 0, "purged": len(sent)}
    after = {m.id: m for m in outbox(sqlite_engine)}
    for before in sent:
        row = after[before.id]
        assert (row.status, row.recipient, row.subject, row.message_id, row.sent_at) == (
            before.status, before.recipient, before.subject, before.message_id, before.sent_at)
        assert row.purged_at is not None


def test_waiting_mail_is_never_purged(settings: Settings, sqlite_engine: Engine,
                                      service: Service, clock: FrozenClock) -> None:
    to_matching(service, clock)
    ids = [m.id for m in outbox(sqlite_engine) if m.id is not None]
    clock.set(clock.now() + timedelta(days=800))
    worker = Worker(settings, engine=sqlite_engine, clock=clock)
    assert worker.retention_job() == 0  # queued mail keeps its body, however old
    worker.once()  # now it is sent, today: its body stays for the retention from now
    assert bodies(sqlite_engine, ids) == {"kept": len(ids), "purged": 0}


def test_the_worker_pass_on_the_command_line_purges(
        service: Service, clock: FrozenClock, sqlite_engine: Engine, sqlite_url: str,
        tmp_path: Path) -> None:
    to_matching(service, clock)
    assert cli(sqlite_url, tmp_path, clock, "worker", "--once").returncode == 0
    ids = [m.id for m in outbox(sqlite_engine) if m.id is not None]
    clock.set(clock.now() + timedelta(days=2 * 366 + 1))
    result = cli(sqlite_url, tmp_path, clock, "worker", "--once", real=True)
    assert result.returncode == 0, result.stderr
    assert bodies(sqlite_engine, ids) == {"kept": 0, "purged": len(ids)}
    assert "mailtekst(en) gewist" in result.stderr


def test_forget_and_purge_on_sqlite_and_postgresql(any_engine: Engine, settings: Settings,
                                                    clock: FrozenClock, tmp_path: Path) -> None:
    service = Service(any_engine, settings, clock)
    tid = to_matching(service, clock)
    service.fire(tid, "withdraw", SECRETARIAT, {"reason": "Het college trok de vraag in."})
    worker = Worker(settings, engine=any_engine, clock=clock)
    worker.once()
    org_file.load(any_engine, without(tmp_path, BRAM), settings.model_copy(
        update={"now": clock.now().isoformat()}))
    worker.once()  # the secretariat's notice that Bram left
    before = shape(any_engine)

    found = privacy.forget(any_engine, TEST_SECRET, "demo", BRAM, clock.now())
    assert shape(any_engine) == before
    with Session(any_engine) as session:
        trajectory = session.get(Trajectory, tid)
        assert trajectory is not None
        assert BRAM not in json.dumps(trajectory.data)
        assert found.pseudonym.email in trajectory.data["group"]
        history = session.exec(select(HistoryEntry).where(HistoryEntry.trajectory_id == tid)).all()
        assert not any(BRAM in json.dumps([h.actor, h.payload, h.note]) for h in history)

    ids = [m.id for m in outbox(any_engine) if m.id is not None]
    clock.set(clock.now() + timedelta(days=25 * 31))
    privacy.purge_expired_mail(any_engine, clock.now())
    assert bodies(any_engine, ids) == {"kept": 0, "purged": len(ids)}


def test_forget_ends_their_sessions_and_calendar_address(
        service: Service, clock: FrozenClock, sqlite_url: str, tmp_path: Path,
        sqlite_engine: Engine) -> None:
    from app import feeds
    from app.sign_in import SignIn
    from engine.errors import NotFound
    from storage.tables import CalendarFeed, SignInUsed, WebSession

    sign_in = SignIn(service)
    session_id = sign_in.use(sign_in.link_for(BRAM, "demo").rsplit("/", 1)[1])
    with Session(sqlite_engine) as session:
        bram = session.exec(select(Person).where(Person.email == BRAM)).one()
    assert bram.id is not None
    secret = feeds.make(service, bram.id)
    leaves(sqlite_url, tmp_path, clock, BRAM)
    assert sign_in.current(session_id) is None  # no role left: no way in

    result = cli(sqlite_url, tmp_path, clock, "person", "forget", BRAM, "--org", "demo")
    assert result.returncode == 0, result.stderr
    with Session(sqlite_engine) as session:
        for table in (WebSession, SignInUsed, CalendarFeed):
            assert session.exec(select(table).where(table.person_id == bram.id)).all() == []
    with pytest.raises(NotFound):
        feeds.calendar(service, secret)


def test_each_organisation_keeps_its_mail_for_its_own_retention(
        settings: Settings, sqlite_engine: Engine, service: Service, clock: FrozenClock,
        tmp_path: Path) -> None:
    """Two organisations with different retentions: after the shorter one, only the mail of the
    organisation that chose it loses its bodies; the other keeps every body until its own."""
    org_file.load(sqlite_engine, set_retention(tmp_path, 6))
    other = tmp_path / "other.toml"
    other.write_text(DEMO_ORG.read_text(encoding="utf-8").replace(
        'slug = "demo"', 'slug = "tweede"', 1).replace(
        'name = "Adviesgroep Sociaal Domein Voorbeeldstad"', 'name = "Tweede Adviesraad"', 1),
        encoding="utf-8")
    org_file.load(sqlite_engine, other)  # the default retention: 24 months
    raw = {"policy_adviser": "beleid@example.org", "received_on": "2026-03-24"}
    ours, theirs = (int(service.start("asked_advice", slug, "Regiovisie", SECRETARIAT, raw)["id"])
                    for slug in ("demo", "tweede"))
    for tid in (ours, theirs):
        service.fire(tid, "call_participants", SECRETARIAT)
    worker = Worker(settings, engine=sqlite_engine, clock=clock)
    worker.once()  # delivers everything
    mine, others = ([m.id for m in outbox(sqlite_engine, tid) if m.id is not None]
                    for tid in (ours, theirs))
    assert mine
    assert others

    started = clock.now()
    clock.set(started + timedelta(days=31 * 6 + 1))
    worker.once()
    assert bodies(sqlite_engine, mine) == {"kept": 0, "purged": len(mine)}
    assert bodies(sqlite_engine, others) == {"kept": len(others), "purged": 0}

    clock.set(started + timedelta(days=31 * 24 + 1))
    worker.once()
    assert bodies(sqlite_engine, others) == {"kept": 0, "purged": len(others)}
