"""Twelve members click "Ja" in the same second: every answer is recorded (issue 7, point 11).

Each answer changes the same trajectory (its list of sign-ups), so all but one used to fail
with "someone else changed this trajectory". The answer through a personal link is now tried
again when another answer was first (bounded), and none is lost. Twelve threads, each with the
link from its member's own call mail, start at the same moment; on a SQLite file and on
PostgreSQL.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from urllib.parse import unquote

from sqlalchemy import Engine, func
from sqlmodel import Session, select

from app import org_file
from app.service import Service
from engine.clock import FrozenClock
from storage.tables import UsedToken
from tests.conftest import DEMO_ORG, make_settings
from tests.helpers import SECRETARIAT, outbox, plain, start

EXTRA = ("ines", "jan", "kim", "lars")
MEMBERS = ("anna", "bram", "cor", "dewi", "els", "farid", "gerda", "hamid", *EXTRA)


def twelve_members(engine: Engine, tmp_path: Path) -> None:
    """The demo organisation with four members more: twelve in all."""
    extra = "".join(f'\n[[organisation.person]]\nname = "{n.title()} Test"\nemail = "{n}@example.org"\n'
                    f'roles = ["member"]\n' for n in EXTRA)
    text = DEMO_ORG.read_text(encoding="utf-8")
    marker = "# A fictional Midden-Drenthe-like council"
    path = tmp_path / "twaalf.toml"
    path.write_text(text.replace(marker, extra + "\n" + marker), encoding="utf-8")
    org_file.load(engine, path)


def tokens_by_member(engine: Engine, tid: int) -> dict[str, str]:
    found = {}
    for row in outbox(engine, tid):
        if row.template == "asked_advice/call":
            match = re.search(r"/antwoord/(\S+)", plain(row))
            assert match is not None
            found[row.recipient] = unquote(match.group(1))
    return found


def test_twelve_members_answer_in_the_same_second(any_engine: Engine, tmp_path: Path,
                                                  clock: FrozenClock) -> None:
    twelve_members(any_engine, tmp_path)
    service = Service(any_engine, make_settings("unused", tmp_path), clock)
    tid = int(start(service)["id"])
    service.fire(tid, "call_participants", SECRETARIAT)
    links = tokens_by_member(any_engine, tid)
    assert len(links) == len(MEMBERS) == 12
    go = threading.Barrier(len(links))
    failures: list[BaseException] = []

    def answer(token: str) -> None:
        go.wait(timeout=30)
        try:
            service.answer(token, "sign_up")
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=answer, args=(token,)) for token in links.values()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    view = service.show(tid)
    assert sorted(view["data"]["signups"]) == sorted(f"{n}@example.org" for n in MEMBERS)
    assert [h["event"] for h in view["history"]].count("sign_up") == 12
    answered = [m for m in outbox(any_engine, tid)
                if m.template in ("call/signup_confirmed", "call/signup_reserve")]
    assert sorted(m.recipient for m in answered) == sorted(links)
    assert len([m for m in answered if m.template == "call/signup_confirmed"]) == 6  # group_max
    with Session(any_engine) as session:
        assert session.exec(select(func.count()).select_from(UsedToken)).one() == 12
