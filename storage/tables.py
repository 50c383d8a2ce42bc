"""The tables. Every timestamp is stored in UTC; every legal deadline is a date."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Integer, LargeBinary, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

JsonType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; we only ever store UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Organisation(SQLModel, table=True):
    __tablename__ = "organisation"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(unique=True, index=True)
    name: str
    advice_term: str = "6w"
    response_term: str = "6w"
    signup_window: str = "10d"
    group_min: int = 5
    group_max: int = 10
    recess_start: str | None = None
    recess_end: str | None = None
    reminders: list[str] | None = Field(default=None, sa_type=JsonType)  # None: the default steps
    flows: list[str] | None = Field(default=None, sa_type=JsonType)  # None: every flow
    words: dict[str, str] = Field(default_factory=dict, sa_type=JsonType)  # council, member, group
    groups: list[dict[str, Any]] = Field(default_factory=list, sa_type=JsonType)  # name, members, chair
    terms: dict[str, str] = Field(default_factory=dict, sa_type=JsonType)  # more terms, e.g. report_term
    mail_retention_months: int = 24  # sent mail bodies are purged after this (AVG)


class Person(SQLModel, table=True):
    __tablename__ = "person"
    __table_args__ = (UniqueConstraint("organisation_id", "email"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    name: str
    email: str = Field(index=True)
    roles: list[str] = Field(default_factory=list, sa_type=JsonType)  # always reassigned, never mutated


_version = Column("version", Integer, nullable=False)


class Trajectory(SQLModel, table=True):
    __tablename__ = "trajectory"
    __mapper_args__ = {"version_id_col": _version}

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    flow: str = Field(index=True)
    flow_version: int
    state: str = Field(index=True)
    title: str
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JsonType)  # always reassigned
    version: int = Field(default=1, sa_column=_version)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class TrajectoryLink(SQLModel, table=True):
    """One trajectory names another: an unasked advice handed over as an asked advice."""

    __tablename__ = "trajectory_link"
    __table_args__ = (UniqueConstraint("from_id", "to_id"),)

    id: int | None = Field(default=None, primary_key=True)
    from_id: int = Field(foreign_key="trajectory.id", index=True)
    to_id: int = Field(foreign_key="trajectory.id", index=True)
    relation: str  # how `from` names `to`, e.g. "continued_as", "continues"


class HistoryEntry(SQLModel, table=True):
    """Append-only: who did what, when, from which state to which."""

    __tablename__ = "history"

    id: int | None = Field(default=None, primary_key=True)
    trajectory_id: int = Field(foreign_key="trajectory.id", index=True)
    at: datetime
    actor: str
    event: str
    from_state: str | None = None
    to_state: str
    note: str | None = Field(default=None, sa_type=Text)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JsonType)


#: Deadline statuses that still count: the term has not been met or cancelled.
ACTIVE_DEADLINE = ("running", "suspended", "overdue")


class DeadlineRow(SQLModel, table=True):
    __tablename__ = "deadline"
    __table_args__ = (
        Index("ix_deadline_status_due", "status", "due"),
        # a trajectory's deadlines, and its next running one from the index alone (advies list)
        Index("ix_deadline_trajectory_status_due", "trajectory_id", "status", "due"),
        # the sweep's question "whose next step is due by today" (app.sweep)
        Index("ix_deadline_status_next_step", "status", "next_step_on", "due"),
        # an organisation's deadlines of this week, and its overdue ones (app.overview)
        Index("ix_deadline_organisation_status_due", "organisation_id", "status", "due"),
    )

    id: int | None = Field(default=None, primary_key=True)
    trajectory_id: int = Field(foreign_key="trajectory.id")
    organisation_id: int = Field(foreign_key="organisation.id")  # the trajectory's, kept here
    name: str
    label: str
    due: date
    status: str = "running"  # running, suspended, overdue, met, cancelled, expired
    explanation: str = Field(sa_type=Text)
    steps_done: list[str] = Field(default_factory=list, sa_type=JsonType)  # always reassigned
    alert_roles: list[str] = Field(default_factory=list, sa_type=JsonType)
    on_expiry: str | None = None
    atw: bool = True
    started_on: date
    suspended_on: date | None = None
    closed_on: date | None = None
    #: The first day on which the sweep has a step of this deadline to plan (engine.reminders.
    #: next_step_on); None until the sweep has computed it (a new deadline, a moved end).
    next_step_on: date | None = None


class OutboxMessage(SQLModel, table=True):
    """One rendered mail to one recipient, waiting for (or done with) delivery."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_next", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    trajectory_id: int | None = Field(default=None, foreign_key="trajectory.id", index=True)
    message_id: str = Field(unique=True)
    template: str
    sender: str
    recipient: str
    subject: str
    raw: bytes = Field(sa_type=LargeBinary)
    status: str = "queued"  # queued, sending, sent, failed
    attempts: int = 0
    next_attempt_at: datetime
    claimed_until: datetime | None = None
    claimed_by: str | None = None  # the worker holding the claim; only it may settle the row
    last_error: str | None = Field(default=None, sa_type=Text)
    created_at: datetime
    sent_at: datetime | None = None
    purged_at: datetime | None = None  # the body was removed after the retention period


class UsedToken(SQLModel, table=True):
    """A personal link that has been used; a link works once."""

    __tablename__ = "used_token"

    jti: str = Field(primary_key=True)
    trajectory_id: int = Field(foreign_key="trajectory.id", index=True)
    used_at: datetime


class DeadlineStep(SQLModel, table=True):
    """One reminder or alert of one deadline, for one end date: claimed once, sent once.

    The sweep plans a row when the step is due and claims it with a single UPDATE; the unique
    key makes a second row for the same step impossible. A moved end (extend, resume) gets
    fresh steps; the steps of the old end are dropped.
    """

    __tablename__ = "deadline_step"
    __table_args__ = (
        UniqueConstraint("deadline_id", "step", "for_due"),
        Index("ix_deadline_step_status_due", "status", "due_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    deadline_id: int = Field(foreign_key="deadline.id", index=True)
    step: str  # before-5wd, on-day, overdue-1, overdue-2, ..., or a flow's reminder name
    for_due: date  # the end of the deadline this step belongs to
    due_on: date  # the day (Europe/Amsterdam) from which the step is sent
    status: str = "pending"  # pending, done, dropped
    done_at: datetime | None = None
    mails: int = 0


class DigestSent(SQLModel, table=True):
    """The liaison's weekly digest of one organisation: one row per ISO week, sent once."""

    __tablename__ = "digest_sent"
    __table_args__ = (UniqueConstraint("organisation_id", "week"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    week: str  # ISO week, e.g. "2026-W14"
    sent_at: datetime
    mails: int = 0


class WebSession(SQLModel, table=True):
    """A signed-in person in a browser. The cookie holds the signed `id`; signing out or an
    expired row ends it, whatever the browser still keeps."""

    __tablename__ = "web_session"

    id: str = Field(primary_key=True)  # random, 256 bits
    person_id: int = Field(foreign_key="person.id", index=True)
    csrf: str  # the token every form of this session carries
    created_at: datetime
    expires_at: datetime
    ended_at: datetime | None = None


class SignInUsed(SQLModel, table=True):
    """A sign-in link that has been used; a sign-in link works once."""

    __tablename__ = "sign_in_used"

    jti: str = Field(primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    used_at: datetime


class CalendarFeed(SQLModel, table=True):
    """A person's secret ICS address. Only a hash of the secret is stored; revoking ends it."""

    __tablename__ = "calendar_feed"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    secret_hash: str = Field(unique=True)
    created_at: datetime
    revoked_at: datetime | None = None


#: The statuses of a planning item: expected, started as a trajectory, or no longer expected.
PLANNING_STATUSES = ("planned", "started", "cancelled")


class PlanningItem(SQLModel, table=True):
    """An advice request the liaison expects in the coming half year (seed 004 ch. 13).

    `remind_on` is three weeks before `expected_on`; the worker's question "which planned items
    are due for their reminder and have not had it" is one range read of the index
    (status, reminded_at, remind_on), however many items the table holds.
    """

    __tablename__ = "planning_item"
    __table_args__ = (
        Index("ix_planning_item_reminder", "status", "reminded_at", "remind_on"),
        Index("ix_planning_item_organisation_expected", "organisation_id", "expected_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id")
    title: str
    expected_on: date
    policy_adviser: str  # an e-mail address of a person of the organisation
    flow: str | None = None  # the flow the trajectory is expected to start with
    status: str = "planned"  # planned, started, cancelled
    trajectory_id: int | None = Field(default=None, foreign_key="trajectory.id")
    remind_on: date
    reminded_at: datetime | None = None  # the reminder goes once
    note: str | None = Field(default=None, sa_type=Text)  # why it was cancelled
    version: int = 1  # every change checks and raises it: two changes at once, one wins
    created_at: datetime
    updated_at: datetime
