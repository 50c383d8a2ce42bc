"""Render the mails of a transition into outbox rows, inside the event's transaction."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from email.utils import parseaddr
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from app import invitation
from engine import tokens
from engine.clock import AMSTERDAM
from engine.dsl import Mail
from notifications.message import Attachment, Letterhead, Party
from notifications.render import Encoded, Personal, Renderer
from settings import Settings
from storage.db import fresh
from storage.tables import DeadlineRow, OutboxMessage, Person, Trajectory

LINK_FALLBACK = timedelta(days=14)
#: What differs per person in a mail, as the templates name it.
RECIPIENT: dict[str, Any] = {"recipient": {"name": Personal("recipient.name"),
                                           "email": Personal("recipient.email")}}
PERSONAL: dict[str, Any] = {**RECIPIENT, "answer_url": Personal("answer_url")}
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
        self._last_plain: Letterhead | None = None

    def rows(self, mail: Mail, people: list[Person], job: MailJob) -> list[OutboxMessage]:
        """One row per person (`values`), as new instances to add to a session."""
        return [fresh(OutboxMessage, **values) for values in self.values(mail, people, job)]

    def values(self, mail: Mail, people: list[Person], job: MailJob) -> list[dict[str, Any]]:
        """One outbox row per person, its column values (all but its key): what is the same for
        everyone (the text, the invitation, the letterhead, the link's key and expiry) worked
        out once, per person only their own name, link and headers."""
        invitation = self._invitation(mail, job, people)
        letterhead = (Letterhead(self.sender, job.now, invitation) if invitation
                      else self._plain_letterhead(job.now))
        link = self._answer_links(job) if mail.answer_link else None
        content = self._contents(mail.template, job.context, link is not None, len(people))
        return [self._message(mail.template, person, content(person, link(person) if link else None),
                              letterhead, job.trajectory.id) for person in people]

    def _plain_letterhead(self, now: datetime) -> Letterhead:
        """The letterhead of mails without an attachment sent at `now`: the same for all of a
        sweep's batch (their boundary is random, and appears in none of their texts)."""
        last = self._last_plain  # one read: the web's threads share this mailer
        if last is None or last.sent_at != now:
            last = self._last_plain = Letterhead(self.sender, now)
        return last

    def notice(self, template: str, people: list[Person], context: dict[str, Any],
               now: datetime) -> list[OutboxMessage]:
        """A mail of the organisation itself, about no one trajectory: one row per person."""
        letterhead = Letterhead(self.sender, now)
        content = self._contents(template, context, False, len(people))
        return [fresh(OutboxMessage, **self._message(template, person, content(person, None),
                                                     letterhead, None))
                for person in people]

    def _contents(self, template: str, context: dict[str, Any], linked: bool,
                  readers: int) -> Callable[[Person, str | None], Encoded]:
        """Each person's text, encoded as it is written: the template rendered once with markers
        for what is personal, or, when the template does more with a personal value than print
        it, in full per person. A mail to one person is rendered for them at once: markers
        would only cost (the sweep's mail to the secretariat)."""
        shared = (self.renderer.render_shared(template, context, PERSONAL if linked else RECIPIENT)
                  if readers > 1 else None)

        def content(person: Person, link: str | None) -> Encoded:
            personal = {"recipient.name": person.name, "recipient.email": person.email}
            if link is not None:
                personal["answer_url"] = link
            if shared is not None:
                return shared.fill_encoded(personal)
            return self.renderer.render(template, {**context, **_nested(personal)}).encoded()

        return content

    def _message(self, template: str, person: Person, content: Encoded,
                 letterhead: Letterhead, trajectory_id: int | None) -> dict[str, Any]:
        """One outbox row's values; no instance is built (writing a call's fifty rows with
        Core, an instance each cost as much as its mail)."""
        message_id = f"<{secrets.token_hex(16)}@{self.domain}>"  # 128 random bits, as hex
        raw = letterhead.build(Party(person.name, person.email), content, message_id)
        now = letterhead.sent_at
        return {**_outbox_defaults(), "trajectory_id": trajectory_id, "message_id": message_id,
                "template": template, "sender": self.sender.email, "recipient": person.email,
                "subject": content.subject, "raw": raw, "next_attempt_at": now, "created_at": now}

    def _answer_links(self, job: MailJob) -> Callable[[Person], str]:
        """Each person's own link to answer the call (signed: it names the trajectory and the
        person, and when it expires)."""
        trajectory_id = job.trajectory.id
        assert trajectory_id is not None
        secret = self.settings.signing_key()
        expires_at = self._link_expiry(job)
        prefix = f"{self.settings.base_url.rstrip('/')}/antwoord/"

        def link(person: Person) -> str:
            assert person.id is not None
            return prefix + tokens.issue(secret, trajectory_id, person.id, expires_at)  # URL-safe

        return link

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


@cache
def _outbox_defaults() -> dict[str, Any]:
    """The outbox columns a new row leaves at their default (status, attempts, ...)."""
    return {name: info.get_default(call_default_factory=True)
            for name, info in OutboxMessage.model_fields.items()
            if name != "id" and not info.is_required()}


def _nested(personal: dict[str, str]) -> dict[str, Any]:
    """`recipient.name` and the like as the templates read them."""
    found: dict[str, Any] = {}
    for key, value in personal.items():
        head, _, tail = key.partition(".")
        if tail:
            found.setdefault(head, {})[tail] = value
        else:
            found[head] = value
    return found
