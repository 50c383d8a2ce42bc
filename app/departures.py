"""Someone left the organisation file: take them out of every running trajectory.

When `advies org load` reads a file without a person who was in it, that person loses every
role (app.org_file). Here, in the same transaction, they also leave every trajectory of the
organisation that still runs: its groups and call lists (sign-ups, reserves, the Platform's
lists), and they stop being its contact person. Where a group lost someone, its call promotes
the first reserve, as `replace_member` does (engine.calls), and that person is told. A group
left smaller than the organisation's `group_min` is named. The history of each trajectory
records what happened; the secretariat gets one mail saying what changed. The person who left
gets no mail.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from app import directory
from app.mailer import Mailer, MailJob
from app.writer import mail_context
from engine.calls import Call, Departure, depart
from engine.dsl import SYSTEM, Mail, Words, to
from flows import TEMPLATE_DIR, flow_versions
from notifications.render import Renderer
from settings import Settings
from storage.tables import DeadlineRow, HistoryEntry, Organisation, Person, Trajectory

EVENT = "person_removed"
NOTICE = "common/people_removed"
JOINED = Mail("call/joined_group", to(fields=("joined_group",)))


@dataclass
class Change:
    """What the departures did to one trajectory, as the secretariat reads it."""

    trajectory: dict[str, Any]
    people: list[dict[str, Any]]  # each: name, places (Dutch), was_contact
    promoted: list[str] = field(default_factory=list)
    short: list[str] = field(default_factory=list)


class Departures:
    """Takes the people who left one organisation out of its running trajectories."""

    def __init__(self, session: Session, org: Organisation, settings: Settings) -> None:
        assert org.id is not None
        self.session = session
        self.org = org
        self.mailer = Mailer(settings, Renderer(TEMPLATE_DIR))
        self.now: datetime = settings.clock.now()
        self.people = directory.people(session, org.id)
        self.words = directory.words_of(org)

    def handle(self, gone: list[Person]) -> list[Change]:
        """Take them out of every running trajectory; mail the secretariat once."""
        emails = [p.email for p in gone]
        changes = [c for row in self._running() if (c := self._leave(row, emails)) is not None]
        self._tell_secretariat(gone, changes)
        return changes

    def _running(self) -> list[Trajectory]:
        flows = flow_versions()
        query = select(Trajectory).where(Trajectory.organisation_id == self.org.id) \
            .order_by(col(Trajectory.id))
        if self.session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()  # wait for an event in hand, then change the data
        return [r for r in self.session.exec(query).all()
                if (r.flow, r.flow_version) in flows
                and r.state not in flows[(r.flow, r.flow_version)].flow.final_states]

    def _leave(self, row: Trajectory, emails: list[str]) -> Change | None:
        calls: tuple[Call, ...] = tuple(flow_versions()[(row.flow, row.flow_version)].flow.calls)
        found = depart(calls, row.data, emails, self.org.group_min)
        if not found.changed:
            return None
        row.data = found.data
        row.updated_at = self.now
        self.session.add(row)
        self.session.flush()  # the trajectory's version moves: an event read before now conflicts
        change = self._change(row, found)
        assert row.id is not None
        self.session.add(HistoryEntry(
            trajectory_id=row.id, at=self.now, actor=SYSTEM.email, event=EVENT,
            from_state=row.state, to_state=row.state,
            payload={"people": [leaver.email for leaver in found.left]},
            note=history_note(change)))
        for email in found.promoted:
            self._tell_promoted(row, email)
        return change

    def _change(self, row: Trajectory, found: Departure) -> Change:
        flow = flow_versions()[(row.flow, row.flow_version)].flow
        return Change(
            trajectory={"id": row.id, "title": row.title, "flow_title": flow.title,
                        "state_label": flow.state(row.state).label},
            people=[{"name": self._name(leaver.email),
                     "places": places(leaver.lists, self.words),
                     "was_contact": leaver.was_contact} for leaver in found.left],
            promoted=[self._name(e) for e in found.promoted],
            short=[f"de {self.words.group} heeft nu {self.words.count(len(found.data.get(g, [])))}, "
                   f"minder dan de {self.org.group_min} die nodig zijn" for g in found.short],
        )

    def _name(self, email: str) -> str:
        found = self.people.get(email)
        return found.name if found else email

    def _tell_promoted(self, row: Trajectory, email: str) -> None:
        """The reserve who takes the place hears it, as with `replace_member`."""
        deadlines = list(self.session.exec(select(DeadlineRow).where(
            DeadlineRow.trajectory_id == row.id).order_by(col(DeadlineRow.id))).all())
        context = mail_context(row, SYSTEM, self.people, deadlines, None, {}, self.org)
        context.update(base_url=self.mailer.settings.base_url,
                       data={**row.data, "joined_group": email})
        recipients = [p for p in [self.people.get(email)] if p is not None and p.roles]
        self.session.add_all(self.mailer.rows(JOINED, recipients,
                                              MailJob(row, context, self.now, deadlines)))

    def _tell_secretariat(self, gone: list[Person], changes: list[Change]) -> None:
        secretariat = [p for p in self.people.values() if "secretariat" in p.roles]
        context = {
            "org": {"name": self.org.name, "slug": self.org.slug},
            "words": {"group": self.words.group, "members": self.words.members,
                      "the_secretariat": self.words.the_secretariat},
            "removed": [p.name for p in gone],
            "changes": changes,
            "base_url": self.mailer.settings.base_url,
        }
        self.session.add_all(self.mailer.notice(NOTICE, secretariat, context, self.now))


def places(lists: tuple[str, ...], words: Words) -> list[str]:
    """The data lists someone was taken out of, as the secretariat calls them: the group first."""
    named = sorted((_place(key, words) for key in lists), key=lambda found: found[0])
    return list(dict.fromkeys(name for _, name in named))


def _place(key: str, words: Words) -> tuple[int, str]:
    if key.endswith("group"):
        return 0, f"de {words.group}"
    if key.endswith("reserves"):
        return 1, "de reservelijst"
    if key.endswith("signups"):
        return 2, "de aanmeldingen"
    return 3, f"de lijst '{key}'"


def history_note(change: Change) -> str:
    """What the trajectory's history says about it."""
    names = [p["name"] for p in change.people]
    note = (f"Niet meer in het bestand van de organisatie: {_and(names)}; uit de groepen en "
            "lijsten van dit traject gehaald.")
    if change.promoted:
        note += f" {_and(change.promoted)} {'neemt' if len(change.promoted) == 1 else 'nemen'} " \
                "een vrijgekomen plaats in."
    if any(p["was_contact"] for p in change.people):
        note += " Er moet een nieuw centraal aanspreekpunt komen."
    return note


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} en {items[-1]}"


def remove_from_trajectories(session: Session, org: Organisation, gone: list[Person],
                             settings: Settings | None) -> list[Change]:
    """The people who left `org` out of its running trajectories (in the caller's transaction);
    `settings` for the mail (None: read from the environment, as the command line does)."""
    if not gone:
        return []
    return Departures(session, org, settings or Settings()).handle(gone)
