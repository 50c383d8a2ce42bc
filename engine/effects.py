"""Effects: what a transition asks the world to do, as plain data.

The runtime turns them into rows (outbox messages, deadlines) in the same transaction as the
new state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from engine.dsl import Deadline, Mail, StartFlow


@dataclass(frozen=True)
class SendMail:
    mail: Mail


@dataclass(frozen=True)
class StartDeadline:
    spec: Deadline
    due: date
    explanation: str


@dataclass(frozen=True)
class CloseDeadline:
    name: str
    status: str  # "met" or "cancelled"


@dataclass(frozen=True)
class ChangeDeadline:
    name: str
    due: date
    explanation: str
    status: str
    suspended_on: date | None = None


@dataclass(frozen=True)
class StartLinked:
    """Start a trajectory of another flow, linked to this one, in the same transaction."""

    spec: StartFlow
    payload: Mapping[str, Any]


Effect = SendMail | StartDeadline | CloseDeadline | ChangeDeadline | StartLinked


@dataclass(frozen=True)
class Outcome:
    """The result of one event: where the trajectory went, its new data and the effects."""

    event: str
    source: str | None
    dest: str
    data: Mapping[str, Any]
    effects: tuple[Effect, ...]
