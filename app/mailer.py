"""Render the mails of a transition into outbox rows, inside the event's transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
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
FIRST_MEETING = "eerste-bijeenkomst"  # the meeting an invitation is for, part of its UID


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
        invitation_ = self._invitation(mail, job, people)  # one event, the same for everyone
        return [self._row(mail, person, job, invitation_) for person in people]

    def _row(self, mail: Mail, person: Person, job: MailJob,
             attachment: Attachment | None) -> OutboxMessage:
        context = {**job.context, "recipient": {"name": person.name, "email": person.email}}
        if mail.answer_link:
            context["answer_url"] = self._answer_url(job, person)
        return self._message(mail.template, person, context, job.now, job.trajectory.id,
                             attachment)

    def notice(self, template: str, people: list[Person], context: dict[str, Any],
               now: datetime) -> list[OutboxMessage]:
        """A mail of the organisation itself, about no one trajectory: one row per person."""
        return [self._message(template, person,
                              {**context, "recipient": {"name": person.name, "email": person.email}},
                              now, None, None)
                for person in people]

    def _message(self, template: str, person: Person, context: dict[str, Any], now: datetime,
                 trajectory_id: int | None, attachment: Attachment | None) -> OutboxMessage:
        content = self.renderer.render(template, context)
        message_id = f"<{uuid.uuid4().hex}@{self.domain}>"
        raw = build(
            sender=self.sender,
            recipient=Party(person.name, person.email),
            content=content,
            message_id=message_id,
            sent_at=now,
            attachment=attachment,
        )
        return OutboxMessage(
            trajectory_id=trajectory_id,
            message_id=message_id,
            template=template,
            sender=self.sender.email,
            recipient=person.email,
            subject=content.subject,
            raw=raw,
            next_attempt_at=now,
            created_at=now,
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

    def _invitation(self, mail: Mail, job: MailJob, people: list[Person]) -> Attachment | None:
        """The first meeting's invitation: one UID per trajectory's meeting, its SEQUENCE counted
        up by the flow each time the meeting is planned again (`meeting_sequence`)."""
        if not mail.invitation:
            return None
        assert job.trajectory.id is not None
        data = job.trajectory.data
        meeting = invitation.Meeting(
            uid=invitation.meeting_uid(job.trajectory.id, FIRST_MEETING, self.domain),
            sequence=int(data.get("meeting_sequence") or 0),
            title=f"Eerste bijeenkomst: {job.trajectory.title}",
            day=date.fromisoformat(data["meeting_on"]),
            at=invitation.parse_time(data.get("meeting_time")),
            place=data.get("meeting_place") or None,
        )
        return invitation.ics(meeting, organizer=self.sender, stamp=job.now,
                              attendees=[Party(p.name, p.email) for p in people])
