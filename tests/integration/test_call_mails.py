"""A call to every member: one letterhead for the whole call, each member their own mail.

Names with accents, emoji, quotes and commas, in the To header and in the greeting (escaped in
HTML, as written in the text); each member their own link and Message-ID; on SQLite and
PostgreSQL.
"""

from __future__ import annotations

import email
import email.policy
import re
from email.message import EmailMessage

from markupsafe import escape
from sqlalchemy import Engine, update

from app.service import Service
from engine.clock import FrozenClock
from settings import Settings
from storage.tables import Person
from tests.helpers import SECRETARIAT, member, outbox, start

NAMES = {"anna": "Anna Ærøskøbing-Çelik", "bram": 'Bram "de Baas", jr.', "cor": "Cor 😀 <b>"}
LINK = re.compile(r"https?://\S+/antwoord/[^\s\"<]+")


def rename(engine: Engine) -> None:
    with engine.begin() as conn:
        for short, name in NAMES.items():
            conn.execute(update(Person).where(Person.email == member(short)).values(name=name))


def test_each_member_gets_their_own_mail(any_engine: Engine, settings: Settings,
                                         clock: FrozenClock) -> None:
    rename(any_engine)
    service = Service(any_engine, settings, clock)
    tid = int(start(service)["id"])
    service.fire(tid, "call_participants", SECRETARIAT)
    calls = [m for m in outbox(any_engine, tid) if m.template == "asked_advice/call"]
    links, people = set(), set()
    for row in calls:
        message = email.message_from_bytes(row.raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        assert all(not part.defects for part in message.walk())
        assert message["Message-ID"] == row.message_id
        assert message["Subject"] == row.subject == "Doe je mee? Advies over Regiovisie beschermd wonen"
        (to,) = message["To"].addresses
        assert to.addr_spec == row.recipient
        text, html = (message.get_body((kind,)) for kind in ("plain", "html"))
        assert text is not None
        assert html is not None
        plain, marked_up = text.get_content(), html.get_content()
        assert f"Beste {to.display_name},\r\n" in plain
        assert f"<p>Beste {escape(to.display_name)},</p>" in marked_up
        (link,) = LINK.findall(plain)
        assert LINK.findall(marked_up) == [link]
        links.add(link)
        people.add(service.verify_link(link.rsplit("/", 1)[1]).person_id)
    names = {m.recipient: m for m in calls}
    assert {short for short in NAMES if member(short) in names} == set(NAMES)
    assert len(links) == len(people) == len(calls)
    assert len({m.message_id for m in calls}) == len(calls)
    for short, name in NAMES.items():
        raw = names[member(short)].raw
        to = email.message_from_bytes(raw, policy=email.policy.default)["To"]
        assert to.addresses[0].display_name == name
