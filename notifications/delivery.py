"""Deliver the outbox: claim due mail, send it, and record how it went.

A mail that cannot be delivered (a 5xx, or still no luck after MAX_ATTEMPTS) is marked failed,
and in the same transaction the secretariat of the trajectory's organisation gets a notice:
which mail to whom, why, and what to do. Notices about notices are never made (no loops).
If the settings are wrong (login, TLS, our sender refused), the queue pauses: the claimed mail
goes back unharmed, and the worker tries again after PAUSE.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.parser import BytesHeaderParser
from email.policy import default as default_policy

from sqlalchemy import Engine
from sqlmodel import Session, select

from engine.clock import AMSTERDAM, Clock
from notifications import outbox
from notifications.message import Party, build
from notifications.outbox import Claimed
from notifications.render import Renderer
from notifications.senders import (
    DeliveryFailure,
    FileSender,
    PermanentFailure,
    Sender,
    SetupFailure,
    SmtpSender,
)
from notifications.smtp_url import parse_smtp_url
from settings import Settings
from storage.db import transaction
from storage.tables import Organisation, OutboxMessage, Person, Trajectory

log = logging.getLogger(__name__)

NOTICE = "delivery_failed"
SECRETARIAT = "secretariat"
PAUSE = timedelta(minutes=5)
BATCH = 20
MAX_ROUNDS = 1000

Now = Callable[[], datetime]


@dataclass
class DeliveryReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    notices: int = 0
    paused: str | None = None

    def add(self, other: DeliveryReport) -> None:
        self.claimed += other.claimed
        self.sent += other.sent
        self.retried += other.retried
        self.failed += other.failed
        self.notices += other.notices
        self.paused = other.paused or self.paused


async def deliver_due(engine: Engine, sender: Sender, now_fn: Now, *, batch: int = BATCH,
                      lease: timedelta = outbox.LEASE) -> DeliveryReport:
    """One round: claim up to `batch` due mails and send them, `sender.concurrency` at a time."""
    claimed = await asyncio.to_thread(_claim, engine, now_fn(), batch, lease)
    report = DeliveryReport(claimed=len(claimed))
    gate = asyncio.Semaphore(max(1, sender.concurrency))
    async with asyncio.TaskGroup() as group:
        for row in claimed:
            group.create_task(_deliver_one(engine, sender, now_fn, row, gate, report))
    return report


async def deliver_all_due(engine: Engine, sender: Sender, now_fn: Now, *, batch: int = BATCH,
                          lease: timedelta = outbox.LEASE) -> DeliveryReport:
    """Rounds of `deliver_due` until nothing is due any more (or the queue pauses)."""
    total = DeliveryReport()
    for _ in range(MAX_ROUNDS):
        report = await deliver_due(engine, sender, now_fn, batch=batch, lease=lease)
        total.add(report)
        if not report.claimed or report.paused:
            break
    return total


def _claim(engine: Engine, now: datetime, batch: int, lease: timedelta) -> list[Claimed]:
    with transaction(engine) as session:
        return outbox.claim(session, now, limit=batch, lease=lease)


async def _deliver_one(engine: Engine, sender: Sender, now_fn: Now, row: Claimed,
                       gate: asyncio.Semaphore, report: DeliveryReport) -> None:
    async with gate:
        if report.paused:
            await asyncio.to_thread(_release, engine, row, now_fn(), report.paused)
            return
        try:
            await sender.send(row.sender, row.recipient, row.raw)
        except DeliveryFailure as failure:
            await _record_failure(engine, row, failure, now_fn(), report)
            return
        await asyncio.to_thread(_sent, engine, row, now_fn())
        report.sent += 1


async def _record_failure(engine: Engine, row: Claimed, failure: DeliveryFailure, now: datetime,
                          report: DeliveryReport) -> None:
    log.warning("outbox %s (%s): %s after attempt %s", row.id, row.message_id, failure.log_text,
                row.attempts)
    if isinstance(failure, SetupFailure):
        if not report.paused:
            log.error("mail delivery paused: %s", failure.log_text)
        report.paused = failure.reason
        await asyncio.to_thread(_release, engine, row, now, str(failure))
        return
    status, notices = await asyncio.to_thread(_failed_or_retry, engine, row, failure, now)
    report.notices += notices
    if status == outbox.FAILED:
        report.failed += 1
    else:
        report.retried += 1


def _sent(engine: Engine, row: Claimed, now: datetime) -> None:
    with transaction(engine) as session:
        outbox.mark_sent(session, row.id, now)
    log.info("outbox %s (%s) sent", row.id, row.message_id)


def _release(engine: Engine, row: Claimed, now: datetime, error: str) -> None:
    with transaction(engine) as session:
        outbox.release(session, row.id, now, PAUSE, error)


def _failed_or_retry(engine: Engine, row: Claimed, failure: DeliveryFailure,
                     now: datetime) -> tuple[str, int]:
    """Mark the row; if it has failed for good, tell the secretariat in the same transaction."""
    with transaction(engine) as session:
        if isinstance(failure, PermanentFailure):
            outbox.mark_failed(session, row.id, now, str(failure))
            return outbox.FAILED, notify_secretariat(session, row, failure, now)
        if outbox.mark_retry(session, row, now, str(failure)) == outbox.QUEUED:
            return outbox.QUEUED, 0
        gave_up = PermanentFailure(f"Het lukte {row.attempts} keer niet. De laatste keer: {failure.reason}",
                                   failure.reply, failure.code)
        return outbox.FAILED, notify_secretariat(session, row, gave_up, now)


# --- the notice to the secretariat ------------------------------------------------------------


def notify_secretariat(session: Session, row: Claimed, failure: DeliveryFailure, now: datetime) -> int:
    """Queue one notice per secretariat member; returns how many. Never for a notice itself."""
    if row.template == NOTICE:
        return 0
    trajectory = session.get(Trajectory, row.trajectory_id) if row.trajectory_id is not None else None
    if trajectory is None:
        log.error("outbox %s failed and belongs to no trajectory; nobody to tell", row.id)
        return 0
    org = session.get(Organisation, trajectory.organisation_id)
    staff = _secretariat(session, trajectory.organisation_id, row.recipient)
    for person in staff:
        session.add(_notice(row, failure, trajectory, org, person, now))
    if not staff:
        log.error("outbox %s failed and the organisation has no secretariat to tell", row.id)
    return len(staff)


def _secretariat(session: Session, org_id: int, skip: str) -> list[Person]:
    people = session.exec(select(Person).where(Person.organisation_id == org_id)).all()
    return [p for p in people if SECRETARIAT in (p.roles or []) and p.email != skip]


def _notice(row: Claimed, failure: DeliveryFailure, trajectory: Trajectory,
            org: Organisation | None, person: Person, now: datetime) -> OutboxMessage:
    context = {
        "recipient": {"name": person.name, "email": person.email},
        "org": {"name": org.name if org else ""},
        "trajectory": {"id": trajectory.id, "title": trajectory.title},
        "failed": {"id": row.id, "recipient": row.recipient, "subject": row.subject,
                   "created_on": row.created_at.astimezone(AMSTERDAM).date(),
                   "reason": failure.reason, "reply": failure.reply, "attempts": row.attempts},
    }
    content = _renderer().render(NOTICE, context)
    sender = _from_party(row)
    message_id = f"<{uuid.uuid4().hex}@{row.message_id.strip('<>').rpartition('@')[2] or 'localhost'}>"
    raw = build(sender=sender, recipient=Party(person.name, person.email), content=content,
                message_id=message_id, sent_at=now)
    return OutboxMessage(trajectory_id=trajectory.id, message_id=message_id, template=NOTICE,
                         sender=row.sender, recipient=person.email, subject=content.subject, raw=raw,
                         next_attempt_at=now, created_at=now)


@functools.cache
def _renderer() -> Renderer:
    return Renderer()


def _from_party(row: Claimed) -> Party:
    """The notice comes from whoever the failed mail came from."""
    header = BytesHeaderParser(policy=default_policy).parsebytes(row.raw).get("From")
    addresses: tuple[Address, ...] = getattr(header, "addresses", ())
    if addresses and addresses[0].addr_spec == row.sender:
        return Party(addresses[0].display_name or "Adviestraject", row.sender)
    return Party("Adviestraject", row.sender)


# --- wiring -------------------------------------------------------------------------------------


def sender_from_settings(settings: Settings, *, pool_size: int = 4) -> Sender:
    """SMTP when ADVIES_SMTP_URL is set; otherwise .eml files in ADVIES_MAIL_DIR."""
    if settings.smtp_url is not None and settings.smtp_url.get_secret_value().strip():
        return SmtpSender(parse_smtp_url(settings.smtp_url.get_secret_value()), pool_size=pool_size)
    return FileSender(settings.mail_dir)


def deliver_once(engine: Engine, settings: Settings, clock: Clock | None = None) -> DeliveryReport:
    """One pass for the command line and the worker: deliver all that is due, then hang up."""
    now_fn = (clock or settings.clock).now

    async def run() -> DeliveryReport:
        sender = sender_from_settings(settings)
        try:
            return await deliver_all_due(engine, sender, now_fn)
        finally:
            await sender.close()

    return asyncio.run(run())
