"""Render the mails of a transition into outbox rows, inside the event's transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from email.utils import parseaddr
from typing import Any
from urllib.parse import quote, urlsplit

from app import invitation
from engine import tokens
from engine.clock import AMSTERDAM
from engine.dsl import Mail
from notifications.message import Attachment, Party, build
from notifications.render import Renderer
from settings import Settings
from storage.tables import DeadlineRow, OutboxMessage, Person, Trajectory

LINK_FALLBACK = timedelta(days=14)


@dataclass
class MailJob:
    """What the mailer needs to know about the event that sends mail."""

    trajectory: Trajectory
    context: dict[str, Any]
    now: datetime
    deadlines: list[DeadlineRow]


class Mailer:
    def __init__(self, settings: Settings, renderer: Renderer) -> None:
        self.settings = settings
        self.renderer = renderer
        name, address = parseaddr(settings.mail_from)
        self.sender = Party(name or "Adviestraject", address)
        self.domain = address.rpartition("@")[2] or urlsplit(settings.base_url).hostname or "localhost"

    def rows(self, mail: Mail, people: list[Person], job: MailJob) -> list[OutboxMessage]:
        return [self._row(mail, person, job) for person in people]

    def _row(self, mail: Mail, person: Person, job: MailJob) -> OutboxMessage:
        context = {**job.context, "recipient": {"name": person.name, "email": person.email}}
        if mail.answer_link:
            context["answer_url"] = self._answer_url(job, person)
        content = self.renderer.render(mail.template, context)
        message_id = f"<{uuid.uuid4().hex}@{self.domain}>"
        raw = build(
            sender=self.sender,
            recipient=Party(person.name, person.email),
            content=content,
            message_id=message_id,
            sent_at=job.now,
            attachment=self._invitation(mail, job, message_id),
        )
        return OutboxMessage(
            trajectory_id=job.trajectory.id,
            message_id=message_id,
            template=mail.template,
            sender=self.sender.email,
            recipient=person.email,
            subject=content.subject,
            raw=raw,
            next_attempt_at=job.now,
            created_at=job.now,
        )

    def _answer_url(self, job: MailJob, person: Person) -> str:
        assert job.trajectory.id is not None
        assert person.id is not None
        secret = self.settings.signing_key()
        token = tokens.issue(secret, job.trajectory.id, person.id, self._link_expiry(job))
        return f"{self.settings.base_url.rstrip('/')}/antwoord/{quote(token)}"

    def _link_expiry(self, job: MailJob) -> datetime:
        """A call's link works until the end of the day its sign-up term ends."""
        expiring = [d.due for d in job.deadlines if d.on_expiry and d.status == "running"]
        if not expiring:
            return job.now + LINK_FALLBACK
        end = datetime.combine(min(expiring) + timedelta(days=1), time(0), AMSTERDAM)
        return end.astimezone(UTC)

    def _invitation(self, mail: Mail, job: MailJob, message_id: str) -> Attachment | None:
        if not mail.invitation:
            return None
        data = job.trajectory.data
        return invitation.ics(
            uid=message_id.strip("<>"),
            title=f"Eerste bijeenkomst: {job.trajectory.title}",
            day=data["meeting_on"],
            at=data.get("meeting_time"),
            place=data.get("meeting_place"),
            organizer=self.sender,
            stamp=job.now,
        )
