"""The liaison's digest: every Monday at 08:00 (Europe/Amsterdam), one mail per liaison.

It lists every deadline of the organisation that ends in the coming two weeks and every
overdue one, grouped by trajectory, each with its explanation. A `digest_sent` row per
organisation and ISO week is inserted in the transaction that writes the mails
(`INSERT ... ON CONFLICT DO NOTHING RETURNING`), so two workers or a restart never send two.
From Monday 08:00 until Sunday night the week's digest is due: a worker that was down at 08:00
sends it on its next pass that week.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from app import directory
from app.service import Service
from engine.clock import AMSTERDAM, local_today
from notifications.message import Party, build
from storage.db import transaction
from storage.tables import DeadlineRow, DigestSent, Organisation, OutboxMessage, Person, Trajectory

log = logging.getLogger("advies.digest")

TEMPLATE = "liaison_digest"
SEND_AT = time(8, 0)
HORIZON = timedelta(days=14)
LISTED = ("running", "overdue")

digest_table: Table = DigestSent.__table__  # type: ignore[attr-defined]


def week_key(day: date) -> str:
    """The ISO week of `day`, e.g. "2026-W14"."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def due_week(now: datetime) -> str | None:
    """The week whose digest is due at `now`: from Monday 08:00 local time on; else None."""
    local = now.astimezone(AMSTERDAM)
    monday = local.date() - timedelta(days=local.weekday())
    if local < datetime.combine(monday, SEND_AT, AMSTERDAM):
        return None
    return week_key(monday)


@dataclass
class DigestReport:
    week: str | None = None
    organisations: int = 0
    mails: int = 0
    failed: int = 0


def send_due(service: Service) -> DigestReport:
    """Send this week's digest to every organisation that has not had it yet."""
    now = service.clock.now()
    report = DigestReport(week=due_week(now))
    if report.week is None:
        return report
    for org_id in _not_sent(service, report.week):
        try:
            with transaction(service.engine) as session:
                mails = Digest(service, session, now).send(org_id, report.week)
        except Exception as error:  # one organisation never stops the others
            report.failed += 1
            log.error("Overzicht voor organisatie %s niet gemaakt (%s).", org_id, type(error).__name__)
            log.debug("Oorzaak", exc_info=error)
            continue
        if mails:
            report.organisations += 1
            report.mails += mails
    return report


def _not_sent(service: Service, week: str) -> list[int]:
    """The organisations without this week's digest, in one query: the worker asks every
    minute, and after Monday morning the answer is (nearly) always none."""
    sent = select(DigestSent.id).where(DigestSent.organisation_id == Organisation.id,
                                       DigestSent.week == week).exists()
    with Session(service.engine) as session:
        found = session.exec(select(Organisation.id).where(~sent).order_by(col(Organisation.id))).all()
    return [i for i in found if i is not None]


class Digest:
    """One organisation's digest, inside the caller's transaction."""

    def __init__(self, service: Service, session: Session, now: datetime) -> None:
        self.service = service
        self.session = session
        self.now = now
        self.today = local_today(service.clock)

    def send(self, org_id: int, week: str) -> int:
        """The number of mails written; 0 when already sent this week or no liaison."""
        if self._sent(org_id, week):
            return 0
        liaisons = [p for p in directory.people(self.session, org_id).values() if "liaison" in p.roles]
        if not liaisons or not self._claim(org_id, week):
            return 0
        org = self.session.get(Organisation, org_id)
        assert org is not None
        context = self.context(org, week)
        rows = [self._message(person, context) for person in liaisons]
        self.session.add_all(rows)
        self.session.execute(digest_table.update().where(
            digest_table.c.organisation_id == org_id, digest_table.c.week == week)
            .values(mails=len(rows)))
        return len(rows)

    def _sent(self, org_id: int, week: str) -> bool:
        """A cheap look first: the worker asks every minute."""
        found = self.session.exec(select(DigestSent.id).where(
            DigestSent.organisation_id == org_id, DigestSent.week == week)).first()
        return found is not None

    def _claim(self, org_id: int, week: str) -> bool:
        """The real guard: one row per organisation and week, whoever inserts it first."""
        dialect = self.session.get_bind().dialect.name
        maker = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = (maker(digest_table)
                     .values(organisation_id=org_id, week=week, sent_at=self.now, mails=0)
                     .on_conflict_do_nothing(index_elements=["organisation_id", "week"])
                     .returning(digest_table.c.id))
        return self.session.execute(statement).first() is not None

    def context(self, org: Organisation, week: str) -> dict[str, Any]:
        groups = self._groups(org)
        items = [item for group in groups for item in group["items"]]
        return {
            "org": {"name": org.name, "slug": org.slug},
            "week": week,
            "week_number": int(week.rpartition("W")[2]),
            "today": self.today,
            "until": self.today + HORIZON - timedelta(days=1),
            "groups": groups,
            "overdue_count": sum(1 for i in items if i["overdue"]),
            "coming_count": sum(1 for i in items if not i["overdue"]),
            "base_url": self.service.settings.base_url,
        }

    def _groups(self, org: Organisation) -> list[dict[str, Any]]:
        rows = self.session.exec(
            select(DeadlineRow, Trajectory)
            .join(Trajectory, col(Trajectory.id) == DeadlineRow.trajectory_id)
            .where(DeadlineRow.organisation_id == org.id, col(DeadlineRow.status).in_(LISTED),
                   DeadlineRow.due < self.today + HORIZON)
            .order_by(col(DeadlineRow.due), col(DeadlineRow.id))).all()
        groups: dict[int, dict[str, Any]] = {}
        for deadline, trajectory in rows:
            assert trajectory.id is not None
            group = groups.setdefault(trajectory.id, {"trajectory": self._trajectory(trajectory),
                                                      "items": []})
            group["items"].append(self._item(deadline))
        return list(groups.values())

    def _trajectory(self, row: Trajectory) -> dict[str, Any]:
        compiled = self.service.flows.get(row.flow)
        flow_title, state_label = row.flow, row.state
        if compiled is not None:
            flow_title = compiled.flow.title
            state_label = next((s.label for s in compiled.flow.states if s.name == row.state), row.state)
        return {"id": row.id, "title": row.title, "flow_title": flow_title, "state_label": state_label}

    def _item(self, deadline: DeadlineRow) -> dict[str, Any]:
        return {
            "label": deadline.label,
            "due": deadline.due,
            "overdue": deadline.due < self.today,
            "days_over": max(0, (self.today - deadline.due).days),
            "explanation_lines": deadline.explanation.splitlines(),
        }

    def _message(self, person: Person, context: dict[str, Any]) -> OutboxMessage:
        mailer = self.service.mailer
        content = mailer.renderer.render(
            TEMPLATE, {**context, "recipient": {"name": person.name, "email": person.email}})
        message_id = f"<{uuid.uuid4().hex}@{mailer.domain}>"
        raw = build(sender=mailer.sender, recipient=Party(person.name, person.email),
                    content=content, message_id=message_id, sent_at=self.now)
        return OutboxMessage(
            trajectory_id=None, message_id=message_id, template=TEMPLATE,
            sender=mailer.sender.email, recipient=person.email, subject=content.subject, raw=raw,
            next_attempt_at=self.now, created_at=self.now,
        )
