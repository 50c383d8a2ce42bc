"""The sweep's work done with bare parts: `python -m benchmarks.children.bare_sweep`.

A reference for benchmarks.bench_sweep: for every sign-up term that ended (a trajectory in
`calling`), the same outcome as the product's `close_signup` sweep, with the least machinery
that still does that work. In batches of BATCH, one transaction each, on the product's engine
(storage.db.make_engine: WAL + synchronous=FULL on SQLite):

- one SELECT of the batch's due deadlines with their trajectories;
- per item: the mail to the secretariat rendered with the product's jinja2 templates
  (notifications.render.Renderer) and built by the product's `notifications.message.build`;
  the decision is a constant (calling -> understaffed, the group formed from the sign-ups);
- one executemany each of: the trajectories' new state (version checked), their history
  rows, the deadlines' end, the outbox rows; then the commit.

No claim statuses, no leases, no savepoints, no error isolation, no engine or flow machine.
The organisations and their secretariats are read once per sweep.

The protocol is benchmarks.children.protocol's, as for the product's child: per line `URL GO`
it makes an engine and a Renderer (as the product's child makes a Worker), connects, says
`ready`, waits for GO, sweeps, and prints its start, end and report.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table, bindparam, insert, select, update

from benchmarks.children.protocol import serve, when_told
from engine.clock import local_today
from engine.dsl import SYSTEM, Words
from engine.terms import format_date
from flows import TEMPLATE_DIR
from notifications.message import Party, build
from notifications.render import Renderer
from settings import Settings
from storage.db import make_engine
from storage.tables import DeadlineRow, HistoryEntry, Organisation, OutboxMessage, Person, Trajectory

BATCH = 100
EVENT, SOURCE, DEST = "close_signup", "calling", "understaffed"
TEMPLATE = "asked_advice/understaffed"
T: Table = Trajectory.__table__  # type: ignore[attr-defined]
D: Table = DeadlineRow.__table__  # type: ignore[attr-defined]
H: Table = HistoryEntry.__table__  # type: ignore[attr-defined]
OB: Table = OutboxMessage.__table__  # type: ignore[attr-defined]
ORG: Table = Organisation.__table__  # type: ignore[attr-defined]
P: Table = Person.__table__  # type: ignore[attr-defined]

DUE = (select(D.c.id, D.c.label, D.c.due, T.c.id.label("tid"), T.c.title, T.c.data, T.c.version,
              T.c.organisation_id)
       .join(T, T.c.id == D.c.trajectory_id)
       .where(D.c.status == "running", D.c.on_expiry == EVENT, D.c.due < bindparam("today"),
              T.c.state == SOURCE)
       .order_by(D.c.due, D.c.id).limit(BATCH))
MOVE = (update(T).where(T.c.id == bindparam("b_id"), T.c.version == bindparam("b_version"))
        .values(state=DEST, data=bindparam("data"), updated_at=bindparam("updated_at"),
                version=bindparam("b_version") + 1))
END = update(D).where(D.c.id == bindparam("b_id")).values(status="expired", closed_on=bindparam("today"))
HISTORY, OUTBOX = insert(H), insert(OB)


@dataclass(frozen=True)
class Org:
    """What a mail and the group need of an organisation."""

    context: dict[str, Any]
    group_max: int
    secretariat: tuple[Party, ...]


class BareSweep:
    """One pass: every due sign-up term closed, batch by batch."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.now = settings.clock.now()
        self.today = local_today(settings.clock)
        self.renderer = Renderer(TEMPLATE_DIR)
        name, address = parseaddr(settings.mail_from)
        self.sender = Party(name or "Adviestraject", address)
        self.domain = address.rpartition("@")[2] or "localhost"
        self.orgs: dict[int, Org] = {}

    def run(self) -> int:
        done = 0
        while True:
            with self.engine.begin() as conn:
                rows = conn.execute(DUE, {"today": self.today}).all()
                if not rows:
                    return done
                self._close(conn, rows)
            done += len(rows)

    def _close(self, conn: Connection, rows: Sequence[Any]) -> None:
        self._read_orgs(conn, {row.organisation_id for row in rows} - self.orgs.keys())
        moves, history, ends, outbox = [], [], [], []
        for row in rows:
            org = self.orgs[row.organisation_id]
            signups = list(row.data.get("signups", []))
            data = {**row.data, "group": signups[:org.group_max], "reserves": signups[org.group_max:]}
            moves.append({"b_id": row.tid, "b_version": row.version, "data": data, "updated_at": self.now})
            history.append({"trajectory_id": row.tid, "at": self.now, "actor": SYSTEM.email, "event": EVENT,
                            "from_state": SOURCE, "to_state": DEST, "payload": {},
                            "note": f"De {row.label} liep af op {format_date(row.due)}."})
            ends.append({"b_id": row.id, "today": self.today})
            outbox += [self._mail(row, data, org, person) for person in org.secretariat]
        if conn.execute(MOVE, moves).rowcount != len(moves):
            raise RuntimeError("a trajectory changed since it was read")
        conn.execute(HISTORY, history)
        conn.execute(END, ends)
        if outbox:
            conn.execute(OUTBOX, outbox)

    def _mail(self, row: Any, data: dict[str, Any], org: Org, person: Party) -> dict[str, Any]:
        context = {**org.context, "trajectory": {"id": row.tid, "title": row.title}, "data": data,
                   "recipient": {"name": person.name, "email": person.email}}
        rendered = self.renderer.render(TEMPLATE, context)
        message_id = f"<{secrets.token_hex(16)}@{self.domain}>"
        raw = build(sender=self.sender, recipient=person, content=rendered, message_id=message_id,
                    sent_at=self.now)
        return {"trajectory_id": row.tid, "message_id": message_id, "template": TEMPLATE,
                "sender": self.sender.email, "recipient": person.email, "subject": rendered.subject,
                "raw": raw, "status": "queued", "attempts": 0, "next_attempt_at": self.now,
                "claimed_until": None, "claimed_by": None, "last_error": None, "created_at": self.now,
                "sent_at": None, "purged_at": None}

    def _read_orgs(self, conn: Connection, ids: set[int]) -> None:
        if not ids:
            return
        secretariats: dict[int, list[Party]] = {org_id: [] for org_id in ids}
        for person in conn.execute(select(P.c.organisation_id, P.c.name, P.c.email, P.c.roles)
                                   .where(P.c.organisation_id.in_(ids)).order_by(P.c.id)):
            if "secretariat" in person.roles:
                secretariats[person.organisation_id].append(Party(person.name, person.email))
        for org in conn.execute(select(ORG.c.id, ORG.c.name, ORG.c.slug, ORG.c.group_max, ORG.c.words)
                                .where(ORG.c.id.in_(ids))):
            self.orgs[org.id] = Org(_org_context(org), org.group_max, tuple(secretariats[org.id]))


def _org_context(org: Any) -> dict[str, Any]:
    words = Words(**(org.words or {}))
    return {"org": {"name": org.name, "slug": org.slug},
            "words": {**asdict(words), "Council": words.council[:1].upper() + words.council[1:],
                      "the_secretariat": words.the_secretariat}}


def sweep(url: str, go: Path) -> dict[str, object]:
    engine = make_engine(url)
    try:
        with engine.connect():
            pass
        bare = BareSweep(engine, Settings(database_url=url))
        started, ended, expired = when_told(go, bare.run)
    finally:
        engine.dispose()
    return {"started": started, "ended": ended, "report": {"expired": expired}}


if __name__ == "__main__":
    serve(sweep)
