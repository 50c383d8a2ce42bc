"""The naive peer of a plain event: a `transitions` machine over a SQLModel row, with an audit row.

What someone would write instead of the engine: load the row with the ORM, drive a `transitions`
machine from its state, write the new state and one audit row, commit. Its tables live in a
registry of their own, beside (never in) the product's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Engine, insert
from sqlalchemy.orm import registry
from sqlmodel import Field, Session, SQLModel
from transitions import Machine

STATES = ("advising", "monitoring", "closed")
TRANSITIONS = [
    {"trigger": "conclude_jointly", "source": "advising", "dest": "monitoring"},
    {"trigger": "close", "source": "monitoring", "dest": "closed"},
]


class PeerModel(SQLModel, registry=registry()):
    pass


class Case(PeerModel, table=True):
    __tablename__ = "peer_case"

    id: int | None = Field(default=None, primary_key=True)
    state: str
    title: str
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    updated_at: datetime


class Audit(PeerModel, table=True):
    __tablename__ = "peer_audit"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="peer_case.id", index=True)
    at: datetime
    actor: str
    event: str
    source: str
    dest: str


class Step:
    """The model the machine drives (a SQLModel row cannot carry the machine's triggers)."""

    state: str  # set by the machine, which also adds `trigger`


def cases(engine: Engine, count: int, now: datetime) -> list[int]:
    """`count` cases in `advising`; returns their ids."""
    PeerModel.metadata.create_all(engine)
    table = Case.__table__  # type: ignore[attr-defined]
    with engine.begin() as conn:
        rows = conn.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), [
            {"state": "advising", "title": f"Zaak {n}", "data": {"n": n}, "updated_at": now}
            for n in range(count)]).scalars()
        return list(rows)


def fire(engine: Engine, case_id: int, event: str, actor: str, now: datetime) -> None:
    with Session(engine) as session:
        case = session.get(Case, case_id)
        assert case is not None
        step = Step()
        Machine(model=step, states=list(STATES), transitions=TRANSITIONS, initial=case.state,
                auto_transitions=False)
        source = case.state
        step.trigger(event)  # type: ignore[attr-defined]
        case.state = step.state
        case.updated_at = now
        session.add(case)
        session.add(Audit(case_id=case_id, at=now, actor=actor, event=event, source=source, dest=step.state))
        session.commit()
