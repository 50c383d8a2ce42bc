"""The secretariat's overview of one organisation: trajectories per state, what is due this week,
what is overdue, filtered and paginated in the database (never every row in memory)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from app import views
from app.service import Service
from engine.clock import local_today
from storage.tables import ACTIVE_DEADLINE, DeadlineRow, Trajectory

PAGE_SIZE = 25
MAX_SEARCH = 200


@dataclass(frozen=True)
class Filters:
    flow: str | None = None
    state: str | None = None
    search: str | None = None
    page: int = 1


@dataclass
class Overview:
    rows: list[dict[str, Any]]
    total: int
    page: int
    pages: int
    per_state: list[dict[str, Any]] = field(default_factory=list)
    this_week: list[dict[str, Any]] = field(default_factory=list)
    overdue: list[dict[str, Any]] = field(default_factory=list)


def overview(service: Service, org_id: int, filters: Filters) -> Overview:
    today = local_today(service.clock)
    with Session(service.engine) as session:
        query = _filtered(org_id, filters)
        total = session.exec(select(func.count()).select_from(query.subquery())).one()
        pages = max(1, -(-total // PAGE_SIZE))
        page = min(max(1, filters.page), pages)
        found = session.exec(query.order_by(col(Trajectory.id).desc())
                             .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
        rows = [_row(service, r, today, _next_due(session, r.id)) for r in found]
        return Overview(rows, total, page, pages, _per_state(service, session, org_id),
                        _deadlines(session, org_id, today, today, today + timedelta(days=6)),
                        [d for d in _deadlines(session, org_id, today, None, today - timedelta(days=1))
                         if d["status"] == "overdue"])


def _filtered(org_id: int, filters: Filters) -> Any:
    query = select(Trajectory).where(Trajectory.organisation_id == org_id)
    if filters.flow:
        query = query.where(Trajectory.flow == filters.flow)
    if filters.state:
        query = query.where(Trajectory.state == filters.state)
    if filters.search:
        query = query.where(func.lower(Trajectory.title).contains(
            filters.search.strip()[:MAX_SEARCH].lower(), autoescape=True))
    return query


def _next_due(session: Session, trajectory_id: int | None) -> DeadlineRow | None:
    return session.exec(select(DeadlineRow).where(DeadlineRow.trajectory_id == trajectory_id,
                                                  col(DeadlineRow.status).in_(ACTIVE_DEADLINE))
                        .order_by(col(DeadlineRow.due)).limit(1)).first()


def _row(service: Service, row: Trajectory, today: date, due: DeadlineRow | None) -> dict[str, Any]:
    found = views.summary(row, service.flow(row.flow), today)
    found["next_due"] = views.deadline(due, today) if due else None
    return found


def _per_state(service: Service, session: Session, org_id: int) -> list[dict[str, Any]]:
    counted = session.exec(select(Trajectory.flow, Trajectory.state, func.count())
                           .where(Trajectory.organisation_id == org_id)
                           .group_by(col(Trajectory.flow), col(Trajectory.state))
                           .order_by(col(Trajectory.flow), col(Trajectory.state))).all()
    return [{"flow": flow, "flow_title": service.flow(flow).flow.title, "state": state,
             "state_label": service.flow(flow).flow.state(state).label, "count": count}
            for flow, state, count in counted]


def _deadlines(session: Session, org_id: int, today: date, start: date | None,
               end: date) -> list[dict[str, Any]]:
    query = (select(DeadlineRow, Trajectory.title)
             .where(DeadlineRow.trajectory_id == Trajectory.id, Trajectory.organisation_id == org_id,
                    col(DeadlineRow.status).in_(ACTIVE_DEADLINE), DeadlineRow.due <= end))
    if start is not None:
        query = query.where(DeadlineRow.due >= start)
    found = session.exec(query.order_by(col(DeadlineRow.due), col(DeadlineRow.id)).limit(50)).all()
    return [{**views.deadline(row, today), "title": title} for row, title in found]
