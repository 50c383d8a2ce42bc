"""Who took part (seed 000: a member takes part in at least one project group a year): per
member of an organisation, in a period, the calls answered, the groups joined and the
trajectories worked on, and who took part in none.

- Calls answered: the member's own `sign_up` and `withdraw_signup` history entries in the
  period (engine.calls: the one call mechanism of every flow), per trajectory.
- Groups joined: the group lists of the trajectories that ran in the period (`group`, and a
  call's `<prefix>group` such as the Platform Inclusie's `platform_group`), and the
  organisation's standing theme groups (Organisation.groups).
- Trajectories worked on: those that ran in the period with the member in one of their groups.
- Who: everyone a call goes to, the members and the Platform Inclusie (CALLED_ROLES).
- Took part: worked on at least one trajectory, or sits in a standing group.
Read with SQL Core: the organisation, its members, its trajectories and the answers, four
statements in all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Table, select

from app.period import Period, Span, history_table, local_day, organisation_row, spans
from engine.calls import ANSWER_EVENTS
from engine.clock import AMSTERDAM
from engine.dsl import Words
from engine.machine import CompiledFlow
from storage.tables import Person, Trajectory

person_table: Table = Person.__table__  # type: ignore[attr-defined]
trajectory_table: Table = Trajectory.__table__  # type: ignore[attr-defined]

#: Who is asked to take part: the members, and the Platform Inclusie (its own call).
CALLED_ROLES = ("member", "inclusion_platform")
ANSWER_LABELS = {"sign_up": "aangemeld", "withdraw_signup": "afgemeld"}
#: The data list of a call's platform group names itself; every other group list is the group.
PLATFORM_GROUP = "platform_group"


@dataclass(frozen=True)
class Answer:
    trajectory_id: int
    title: str
    answer: str  # sign_up or withdraw_signup
    answer_label: str
    on: date


@dataclass(frozen=True)
class Worked:
    trajectory_id: int
    title: str
    flow_label: str
    groups: list[str]  # the group lists the member was in, by the organisation's words


@dataclass(frozen=True)
class MemberLine:
    name: str
    email: str
    answers: list[Answer]
    standing_groups: list[str]
    worked_on: list[Worked]

    @property
    def took_part(self) -> bool:
        return bool(self.worked_on or self.standing_groups)


@dataclass(frozen=True)
class Participation:
    organisation: str
    slug: str
    words: Words
    period: Period
    members: list[MemberLine]

    @property
    def none(self) -> list[MemberLine]:
        return [m for m in self.members if not m.took_part]

    def as_json(self) -> dict[str, Any]:
        return {
            "organisation": self.organisation, "slug": self.slug,
            "from": self.period.first.isoformat(), "to": self.period.last.isoformat(),
            "members": [_member_json(m) for m in self.members],
            "took_part_in_none": [m.email for m in self.none],
        }


def participation(engine: Engine, flows: dict[str, CompiledFlow], slug: str,
                  period: Period) -> Participation:
    with engine.connect() as conn:
        org = organisation_row(conn, slug)
        members = _members(conn, org.id)
        ran = spans(conn, org.id, period, flows)
        answers = _answers(conn, org.id, period)
    words = Words(**(org.words or {}))
    standing = list(org.groups or [])
    lines = [MemberLine(p.name, p.email, answers.get(p.email, []),
                        [g["name"] for g in standing if p.email in g.get("members", [])],
                        _worked_on(p.email, ran, flows, words))
             for p in members]
    return Participation(org.name, org.slug, words, period, lines)


def _members(conn: Connection, org_id: int) -> list[Any]:
    p = person_table
    rows = conn.execute(select(p.c.name, p.c.email, p.c.roles)
                        .where(p.c.organisation_id == org_id).order_by(p.c.name, p.c.email)).all()
    return [row for row in rows if set(row.roles or []) & set(CALLED_ROLES)]


def _answers(conn: Connection, org_id: int, period: Period) -> dict[str, list[Answer]]:
    """Every member's answers to a call in the period, by e-mail address, in time order."""
    h, t = history_table, trajectory_table
    first = datetime.combine(period.first, time.min, AMSTERDAM).astimezone(UTC)
    after = datetime.combine(period.last + timedelta(days=1), time.min, AMSTERDAM).astimezone(UTC)
    rows = conn.execute(select(h.c.actor, h.c.event, h.c.at, h.c.trajectory_id, t.c.title)
                        .join(t, t.c.id == h.c.trajectory_id)
                        .where(t.c.organisation_id == org_id, h.c.event.in_(ANSWER_EVENTS),
                               h.c.at >= first, h.c.at < after)
                        .order_by(h.c.at, h.c.id)).all()
    found: dict[str, list[Answer]] = {}
    for row in rows:
        found.setdefault(row.actor, []).append(
            Answer(row.trajectory_id, row.title, row.event, ANSWER_LABELS[row.event],
                   local_day(row.at)))
    return found


def _worked_on(email: str, ran: Iterable[Span], flows: dict[str, CompiledFlow],
               words: Words) -> list[Worked]:
    found = []
    for span in ran:
        groups = [_group_label(key, words) for key, value in sorted(span.data.items())
                  if key.endswith("group") and isinstance(value, list) and email in value]
        if groups:
            compiled = flows.get(span.flow)
            found.append(Worked(span.id, span.title, compiled.flow.title if compiled else span.flow,
                                groups))
    return found


def _group_label(key: str, words: Words) -> str:
    return "Platform Inclusie" if key == PLATFORM_GROUP else words.group


def _member_json(member: MemberLine) -> dict[str, Any]:
    return {
        "name": member.name, "email": member.email, "took_part": member.took_part,
        "answers": [{"trajectory_id": a.trajectory_id, "title": a.title, "answer": a.answer,
                     "on": a.on.isoformat()} for a in member.answers],
        "standing_groups": member.standing_groups,
        "worked_on": [{"trajectory_id": w.trajectory_id, "title": w.title, "flow": w.flow_label,
                       "groups": w.groups} for w in member.worked_on],
    }
