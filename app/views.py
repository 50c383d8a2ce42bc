"""Trajectories as plain dicts: what `--json` prints and the web pages show."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from engine import labels
from engine.clock import AMSTERDAM
from engine.machine import WHILE_SUSPENDED, CompiledFlow
from storage.tables import ACTIVE_DEADLINE, DeadlineRow, HistoryEntry, Trajectory, TrajectoryLink, as_utc


def deadline(row: DeadlineRow, today: date) -> dict[str, Any]:
    return {
        "name": row.name,
        "label": row.label,
        "due": row.due.isoformat(),
        "status": shown_status(row, today),
        "status_label": labels.status(shown_status(row, today)),
        "explanation": row.explanation,
        "steps_done": list(row.steps_done or []),
        "trajectory_id": row.trajectory_id,
    }


def shown_status(row: DeadlineRow, today: date) -> str:
    """A running deadline whose day has passed is overdue, whether or not the sweep ran."""
    if row.status == "running" and row.due < today:
        return "overdue"
    return row.status


def history(row: HistoryEntry, compiled: CompiledFlow) -> dict[str, Any]:
    return {
        "at": as_utc(row.at).isoformat(),
        "at_local": as_utc(row.at).astimezone(AMSTERDAM).strftime("%d-%m-%Y %H:%M"),
        "actor": row.actor,
        "event": row.event,
        "event_label": EVENT_LABELS.get(row.event) or compiled.flow.event_label(row.event),
        "from": row.from_state,
        "to": row.to_state,
        "note": row.note,
        "payload": row.payload,
    }


def allowed_events(row: Trajectory, compiled: CompiledFlow) -> list[str]:
    names = compiled.machine.get_triggers(row.state)
    if row.data.get("suspended_on"):
        names = [n for n in names if n in WHILE_SUSPENDED]
    else:
        names = [n for n in names if n != "resume"]  # only a suspended trajectory resumes
    return list(dict.fromkeys(names))


def trajectory(row: Trajectory, compiled: CompiledFlow, session: Session,
               today: date) -> dict[str, Any]:
    deadlines = session.exec(select(DeadlineRow).where(DeadlineRow.trajectory_id == row.id)
                             .order_by(col(DeadlineRow.id))).all()
    entries = session.exec(select(HistoryEntry).where(HistoryEntry.trajectory_id == row.id)
                           .order_by(col(HistoryEntry.id))).all()
    allowed = allowed_events(row, compiled)
    return {
        **summary(row, compiled, today),
        "data": dict(row.data),
        "allowed_events": allowed,
        "allowed_labels": {e: compiled.flow.event_label(e) for e in allowed},
        "deadlines": [deadline(d, today) for d in deadlines],
        "history": [history(h, compiled) for h in entries],
        "links": links(session, row),
        "call": open_call(row, compiled, deadlines),
    }


def open_call(row: Trajectory, compiled: CompiledFlow,
              deadlines: Sequence[DeadlineRow]) -> dict[str, Any] | None:
    """The call for a group that is open now (its sign-up term runs), with its lists."""
    running = {d.name for d in deadlines if d.status in ACTIVE_DEADLINE}
    for call in compiled.flow.calls:
        if call.window in running:
            return {"role": call.role, "window": call.window,
                    "signups": list(row.data.get(call.signups, []))}
    return None


#: History entries that are not events of a flow.
EVENT_LABELS = {"start": "gestart", "linked": "gekoppeld traject gestart",
                "person_removed": "niet meer in het bestand",
                "link_resent": "persoonlijke link opnieuw gestuurd",
                "migrate_flow": "overgezet naar een andere versie van de stroom",
                "import": "geïmporteerd"}


def links(session: Session, row: Trajectory) -> list[dict[str, Any]]:
    """The trajectories this one names: [{"id", "flow", "relation"}]."""
    found = session.exec(select(TrajectoryLink, Trajectory)
                         .where(TrajectoryLink.from_id == row.id, TrajectoryLink.to_id == Trajectory.id)
                         .order_by(col(TrajectoryLink.id))).all()
    return [{"id": other.id, "flow": other.flow, "relation": link.relation, "title": other.title}
            for link, other in found]


def summary(row: Trajectory, compiled: CompiledFlow, today: date) -> dict[str, Any]:
    return {
        "id": row.id,
        "flow": row.flow,
        "flow_title": compiled.flow.title,
        "state": row.state,
        "state_label": compiled.flow.state(row.state).label,
        "title": row.title,
        "version": row.version,
        "suspended": bool(row.data.get("suspended_on")),
        "final": row.state in compiled.flow.final_states,
    }


def takes_part(email: str, data: Any) -> bool:
    """Whether an address appears anywhere in a trajectory's data (a field or a list)."""
    if isinstance(data, str):
        return data.strip().lower() == email
    if isinstance(data, Mapping):
        return any(takes_part(email, v) for v in data.values())
    if isinstance(data, list | tuple):
        return any(takes_part(email, v) for v in data)
    return False
