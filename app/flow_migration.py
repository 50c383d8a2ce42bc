"""Move running trajectories of a flow to another version of it (`advies flows migrate`).

A trajectory keeps the flow version it started with until an administrator moves it. Moving
keeps its step when the target version has that step; a step the target no longer has needs a
mapping (`old=new`, the new step a step of the target that is not final). When any trajectory
concerned has a step without either, the migration is refused with the list of them and nothing
moves. All of it is one transaction.

Decisions:
- Trajectories in a final step (closed, withdrawn, ...) stay on their version: they never fire
  again, and their history reads as the flow they ran on. The result counts them.
- Running deadlines stay as they are: the new version's own rules take over at the next event
  (leaving the steps a deadline guards ends it, as always). A move is no event of the flow: it
  sends no mail and starts no term.
- Each moved trajectory gets a history entry (`migrate_flow`) and its row version raised, so an
  event read before the move is refused as a conflict rather than decided by the old version.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, Table, bindparam, func, select, text, update

from engine.clock import Clock
from engine.errors import Conflict, InvalidInput, NotAllowed, NotFound
from flows import FlowKey, versions_of
from storage.db import busy, is_busy, is_postgres
from storage.tables import HistoryEntry, Trajectory

if TYPE_CHECKING:
    from engine.machine import CompiledFlow

#: Who the history names for a move: the administrator on the command line.
ADMINISTRATOR = "beheerder"
EVENT = "migrate_flow"
#: How many trajectories a refusal names in its sentence (all of them are in `stuck`).
NAMED = 20

T: Table = Trajectory.__table__  # type: ignore[attr-defined]
HISTORY: Table = HistoryEntry.__table__  # type: ignore[attr-defined]
MOVE = (update(T).where(T.c.id == bindparam("b_id"), T.c.version == bindparam("b_version"))
        .values(flow_version=bindparam("b_to"), state=bindparam("b_state"),
                version=T.c.version + 1, updated_at=bindparam("b_now")))


@dataclass(frozen=True)
class Move:
    """One trajectory moved (or, in a dry run, to be moved)."""

    id: int
    title: str
    from_version: int
    from_state: str
    to_state: str


@dataclass(frozen=True)
class Stuck:
    """A trajectory in a step the target version does not have, and no mapping for it."""

    id: int
    title: str
    state: str
    from_version: int


@dataclass(frozen=True)
class Migration:
    """What a migration did (or, with `dry_run`, would do)."""

    flow: str
    flow_title: str
    to_version: int
    moves: tuple[Move, ...]
    finished_left: int  # trajectories in a final step, left on their version
    dry_run: bool

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "moves": [asdict(m) for m in self.moves]}


class MigrationRefused(NotAllowed):
    """Some trajectories are in a step the target version lacks, without a mapping (exit 3)."""

    def __init__(self, message: str, stuck: Sequence[Stuck]) -> None:
        super().__init__(message)
        self.stuck = tuple(stuck)


def parse_mapping(items: Sequence[str] | None) -> dict[str, str]:
    """`--map old=new` pairs; a pair without '=', an empty side or an old step given twice is
    bad input."""
    found: dict[str, str] = {}
    for item in items or ():
        old, sep, new = (part.strip() for part in item.partition("="))
        if not sep or not old or not new:
            raise InvalidInput(f"'--map {item}' klopt niet: schrijf --map oude_stap=nieuwe_stap.")
        if old in found:
            raise InvalidInput(f"--map {old}=... staat er twee keer: geef elke oude stap één keer.")
        found[old] = new
    return found


def migrate(engine: Engine, clock: Clock, versions: Mapping[FlowKey, CompiledFlow], flow: str,
            to_version: int, mapping: Mapping[str, str], *, dry_run: bool = False) -> Migration:
    """Move every trajectory of `flow` that is not final and not on `to_version` to it, in one
    transaction; MigrationRefused (nothing moves) when a step has no place in the target."""
    target = _target(versions, flow, to_version)
    _check_targets(target, mapping)
    try:
        with engine.begin() as conn:
            rows = _concerned(conn, engine, flow, to_version, dry_run)
            moves, stuck, finished = _plan(rows, versions, target, mapping)
            _check_sources(versions, target, mapping, rows)
            if stuck:
                raise MigrationRefused(_refusal(target, stuck), stuck)
            if not dry_run:
                _apply(conn, clock, versions, target, moves, rows)
    except Exception as error:
        if is_busy(error):
            raise busy(engine) from error
        raise
    return Migration(flow, target.flow.title, to_version, tuple(moves), finished, dry_run)


def _target(versions: Mapping[FlowKey, CompiledFlow], flow: str, to_version: int) -> CompiledFlow:
    known = versions_of(versions, flow)
    if not known:
        names = sorted({name for name, _ in versions})
        raise NotFound(f"Onbekende stroom '{flow}'. Bekend: {', '.join(names)}.")
    if (flow, to_version) not in versions:
        raise InvalidInput(f"De stroom '{flow}' heeft geen versie {to_version}; er is versie "
                           f"{', '.join(map(str, known))}.")
    return versions[(flow, to_version)]


def _check_targets(target: CompiledFlow, mapping: Mapping[str, str]) -> None:
    """Each mapping names a step the target lacks, and a step of the target that is not final."""
    names = {s.name for s in target.flow.states}
    version = target.flow.version
    for old, new in mapping.items():
        if old in names:
            raise InvalidInput(f"--map {old}={new}: stap '{old}' bestaat ook in versie {version}, "
                               f"dus een traject in die stap houdt zijn stap; laat deze --map weg.")
        if new not in names:
            raise InvalidInput(f"--map {old}={new}: versie {version} heeft geen stap '{new}'; "
                               f"kies uit {', '.join(sorted(names))}.")
        if target.flow.state(new).final:
            raise InvalidInput(f"--map {old}={new}: '{new}' is een eindstap; een lopend traject "
                               f"gaat naar een stap waarin het verder kan.")


def _check_sources(versions: Mapping[FlowKey, CompiledFlow], target: CompiledFlow,
                   mapping: Mapping[str, str], rows: Sequence[Any]) -> None:
    """An old step of a mapping that no version of the flow has and no trajectory is in is a
    typing error, refused rather than ignored."""
    known = {s.name for (name, _), c in versions.items() if name == target.name for s in c.flow.states}
    known |= {row.state for row in rows}
    for old, new in mapping.items():
        if old not in known:
            raise InvalidInput(f"--map {old}={new}: geen versie van '{target.name}' heeft een stap "
                               f"'{old}' en geen traject staat erin; controleer de naam.")


def _concerned(conn: Connection, engine: Engine, flow: str, to_version: int,
               dry_run: bool) -> list[Any]:
    """The trajectories of the flow on another version, by id. A migration that writes takes the
    rows first: on PostgreSQL they are locked, on SQLite its transaction becomes the writer."""
    query = (select(T.c.id, T.c.title, T.c.state, T.c.flow_version, T.c.version)
             .where(T.c.flow == flow, T.c.flow_version != to_version).order_by(T.c.id))
    if not dry_run and is_postgres(engine):
        query = query.with_for_update()
    elif not dry_run:
        conn.execute(text("UPDATE trajectory SET version = version WHERE flow = :flow AND "
                          "flow_version != :to"), {"flow": flow, "to": to_version})
    return list(conn.execute(query))


def _plan(rows: Sequence[Any], versions: Mapping[FlowKey, CompiledFlow], target: CompiledFlow,
          mapping: Mapping[str, str]) -> tuple[list[Move], list[Stuck], int]:
    names = {s.name for s in target.flow.states}
    moves: list[Move] = []
    stuck: list[Stuck] = []
    finished = 0
    for row in rows:
        if _is_final(versions.get((target.name, row.flow_version)), target, row.state):
            finished += 1
        elif row.state in names:
            moves.append(Move(row.id, row.title, row.flow_version, row.state, row.state))
        elif row.state in mapping:
            moves.append(Move(row.id, row.title, row.flow_version, row.state, mapping[row.state]))
        else:
            stuck.append(Stuck(row.id, row.title, row.state, row.flow_version))
    return moves, stuck, finished


def _is_final(source: CompiledFlow | None, target: CompiledFlow, state: str) -> bool:
    """Final in the trajectory's own version; for a version the code no longer holds, in the
    target (a step neither has is not final: it is what the migration is for)."""
    flow = source.flow if source is not None else target.flow
    return state in flow.final_states


def _refusal(target: CompiledFlow, stuck: Sequence[Stuck]) -> str:
    named = "; ".join(f"{s.id} '{s.title}' ({s.state})" for s in stuck[:NAMED])
    more = f"; en nog {len(stuck) - NAMED}" if len(stuck) > NAMED else ""
    steps = sorted({s.state for s in stuck})
    return (f"Er is niets verplaatst: {len(stuck)} traject(en) staan in een stap die versie "
            f"{target.flow.version} van '{target.name}' niet heeft: {named}{more}; geef voor elke "
            f"zo'n stap --map {steps[0]}=NIEUWE_STAP.")


def _apply(conn: Connection, clock: Clock, versions: Mapping[FlowKey, CompiledFlow],
           target: CompiledFlow, moves: Sequence[Move], rows: Sequence[Any]) -> None:
    now = clock.now()
    read_at = {row.id: row.version for row in rows}
    for move in moves:
        done = conn.execute(MOVE, {"b_id": move.id, "b_version": read_at[move.id],
                                   "b_to": target.flow.version, "b_state": move.to_state,
                                   "b_now": now})
        if done.rowcount != 1:
            raise Conflict(f"Traject {move.id} is net gewijzigd; er is niets verplaatst. "
                           f"Probeer het nog eens.")
    if moves:
        conn.execute(HISTORY.insert(), [_history(m, now, versions, target) for m in moves])


def _history(move: Move, now: Any, versions: Mapping[FlowKey, CompiledFlow],
             target: CompiledFlow) -> dict[str, Any]:
    source = versions.get((target.name, move.from_version))
    old = _label(source or target, move.from_state)  # a version gone: the target's words
    new = _label(target, move.to_state)
    step = f"stap {old} blijft" if move.from_state == move.to_state else f"stap {old} → {new}"
    return {"trajectory_id": move.id, "at": now, "actor": ADMINISTRATOR, "event": EVENT,
            "from_state": move.from_state, "to_state": move.to_state,
            "payload": {"from_version": move.from_version, "to_version": target.flow.version},
            "note": f"Stroom {target.flow.title} van versie {move.from_version} naar "
                    f"{target.flow.version}; {step}."}


def _label(compiled: CompiledFlow | None, state: str) -> str:
    """A step as people read it: its Dutch label, or its name when the version is gone."""
    if compiled is None or state not in {s.name for s in compiled.flow.states}:
        return state
    return compiled.flow.state(state).label


@dataclass(frozen=True)
class VersionUse:
    """How many trajectories run on one version of a flow, and how many ended on it."""

    version: int
    current: bool
    running: int
    finished: int


def usage(engine: Engine, versions: Mapping[FlowKey, CompiledFlow], flows: Sequence[str],
          organisation_id: int | None = None) -> dict[str, list[VersionUse]]:
    """For each of `flows`: every version the code holds or a trajectory is on, newest first,
    with its running and finished trajectories (of one organisation, or of all)."""
    query = (select(T.c.flow, T.c.flow_version, T.c.state, func.count())
             .where(T.c.flow.in_(list(flows)))
             .group_by(T.c.flow, T.c.flow_version, T.c.state))
    if organisation_id is not None:
        query = query.where(T.c.organisation_id == organisation_id)
    counted: dict[tuple[str, int], list[int]] = {key: [0, 0] for key in versions if key[0] in flows}
    with engine.connect() as conn:
        for flow, version, state, count in conn.execute(query):
            current = max(versions_of(versions, flow), default=version)
            final = _is_final(versions.get((flow, version)), versions[(flow, current)], state)
            counted.setdefault((flow, version), [0, 0])[1 if final else 0] += count
    found: dict[str, list[VersionUse]] = {name: [] for name in flows}
    for (flow, version), (running, finished) in sorted(counted.items(), key=lambda i: -i[0][1]):
        newest = max(versions_of(versions, flow), default=None)
        found[flow].append(VersionUse(version, version == newest, running, finished))
    return found
