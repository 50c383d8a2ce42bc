"""The use cases every entry point shares: start a trajectory, fire an event, read them.

One event is one transaction: the trajectory row is locked (optimistic version on SQLite,
`SELECT ... FOR UPDATE NOWAIT` on PostgreSQL), the pure engine decides, and state, history,
deadlines and rendered mail are written and committed together, or not at all. The mail is
rendered before the first write (app.writer), so a call to thousands of members does not keep
SQLite's single writer waiting while it renders.

Someone else first is `Conflict` (exit 4: reload and try again); a database that stayed busy
past its busy timeout is `DatabaseBusy` (exit 4 too, its own message). A member's answer through
their link is retried: members answering in the same second all get their answer recorded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from functools import cache, cached_property, lru_cache
from typing import Any, overload

from sqlalchemy import Connection, Engine, Select, Table, and_, bindparam, literal, text
from sqlalchemy import select as core_select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, select

from app import directory, planning, views
from app.mailer import Mailer
from app.writer import Writer, active_deadlines
from engine import effects, inputs, tokens
from engine.clock import Clock, local_today
from engine.dsl import Actor, Context, DeadlineView, Field, OrgSettings
from engine.errors import Conflict, InvalidInput, NotAllowed, NotFound
from engine.machine import CompiledFlow
from engine.terms import FUTURE_YEARS, TermError, format_date, latest_day
from flows import TEMPLATE_DIR, FlowKey, compiled_version, current_of, flow_versions
from notifications.render import Renderer
from settings import Settings
from storage.db import DatabaseBusy, busy, detached, is_busy, is_postgres, transaction, waits_for
from storage.tables import (
    ACTIVE_DEADLINE,
    DeadlineRow,
    HistoryEntry,
    Organisation,
    Person,
    Trajectory,
    TrajectoryLink,
    UsedToken,
)

CONFLICT = "Iemand anders heeft dit traject net gewijzigd. Laad het opnieuw en probeer het nog eens."
#: How often an answer through a link is tried when someone else changed the trajectory first.
ANSWER_TRIES = 5
#: A call's sign-up term in these states still takes answers (suspended: after resuming).
OPEN_WINDOW = ("running", "suspended")


@dataclass
class Batch:
    """The trajectories of a sweep batch as read_batch read them, each taken once by the event
    fired for it. On PostgreSQL taking one locks its row (waiting, or NOWAIT) and gives it only
    when it is still at the version read: else the event reads it again itself."""

    loaded: dict[int, Loaded]
    postgres: bool

    def take(self, conn: Connection, trajectory_id: int, *, wait: bool) -> Loaded | None:
        loaded = self.loaded.pop(trajectory_id, None)
        if loaded is None or not self.postgres:
            return loaded  # SQLite: the batch's claim made its transaction the one writer
        version = conn.execute(_locking_version(wait), {"tid": trajectory_id}).scalar()
        return loaded if version == loaded.row.version else None


@dataclass
class Opening:
    """Who opens a trajectory, in which organisation."""

    org: Organisation
    people: directory.People
    who: Actor


@dataclass(frozen=True)
class OrgPart:
    """An organisation as its events need it: the row, its people (the actor read), and what
    the flows read of it, worked out once (for all of a sweep batch's trajectories of it)."""

    org: Organisation
    people: directory.People
    settings: OrgSettings
    chairs: frozenset[str]

    @classmethod
    def of(cls, org: Organisation, people: directory.People) -> OrgPart:
        return cls(org, people, directory.settings_of(org), directory.chairs_of(org))


@dataclass
class Loaded:
    """A trajectory with everything an event needs, read in the event's transaction with Core
    (two statements): the row, its organisation, the actor and its deadlines. The instances
    are in no session; the Writer writes what changes."""

    row: Trajectory
    part: OrgPart
    deadlines: list[DeadlineRow]

    @property
    def org(self) -> Organisation:
        return self.part.org

    @property
    def people(self) -> directory.People:
        return self.part.people


class Service:
    def __init__(self, engine: Engine, settings: Settings, clock: Clock | None = None,
                 flows: Mapping[FlowKey, CompiledFlow] | None = None) -> None:
        self.engine = engine
        self.settings = settings
        self.clock = clock or settings.clock
        self.mailer = Mailer(settings, Renderer(TEMPLATE_DIR))
        self._versions = flows  # a registry of flow versions (flows.flow_versions by default)

    @cached_property
    def versions(self) -> Mapping[FlowKey, CompiledFlow]:
        """Every version of every flow, built on first use: a worker or command starts without."""
        return self._versions if self._versions is not None else flow_versions()

    @cached_property
    def flows(self) -> dict[str, CompiledFlow]:
        """The current version of every flow by name: what new trajectories start on."""
        return current_of(self.versions)

    def compiled_for(self, row: Trajectory) -> CompiledFlow:
        """The flow version a stored trajectory runs on (not the current one); exit 1 with how
        to migrate it when the code no longer holds that version."""
        return compiled_version(self.versions, row.flow, row.flow_version, row.id)

    # --- reading ---------------------------------------------------------------------------

    def shown_with(self, row: Any) -> CompiledFlow:
        """The flow version to show a stored trajectory in a list with: its own, or the current
        one when the code no longer holds it (a list must not fail on one such row; opening
        the trajectory itself says how to migrate it)."""
        return self.versions.get((row.flow, row.flow_version)) or self.flow(row.flow)

    def flow(self, name: str) -> CompiledFlow:
        if name not in self.flows:
            raise NotFound(f"Onbekende stroom '{name}'. Bekend: {', '.join(self.flows)}.")
        return self.flows[name]

    def show(self, trajectory_id: int) -> dict[str, Any]:
        with Session(self.engine) as session:
            row = session.get(Trajectory, trajectory_id)
            if row is None:
                raise NotFound(f"Traject {trajectory_id} bestaat niet.")
            return views.trajectory(row, self.compiled_for(row), session, local_today(self.clock))

    # --- starting --------------------------------------------------------------------------

    def start(self, flow_name: str, org_slug: str, title: str, actor_email: str,
              raw: dict[str, str], note: str | None = None,
              planned: int | None = None) -> dict[str, Any]:
        """Open a trajectory; `planned`: the planning item it starts, linked in this transaction."""
        compiled = self.flow(flow_name)
        with self._guarded(), transaction(self.engine) as session:
            org = directory.organisation(session, org_slug)
            self._check_uses(org, compiled)
            people = directory.People.all_of(session.connection(), _id(org),
                                              directory.people(session, _id(org)))
            who = directory.actor(people.everyone(), actor_email, {}, directory.chairs_of(org))
            today = local_today(self.clock)
            payload = self._payload(compiled.flow.start_fields, {**raw, "title": title},
                                    "start", people, org, today)
            ctx = self._context(compiled.flow.start, payload, payload, who,
                                directory.settings_of(org), today, [])
            row = self._open(session.connection(), compiled, compiled.start(ctx),
                             Opening(org, people, who), payload, note)
            trajectory_id = _id(row)
            if planned is not None:
                planning.link(session.connection(), planned, _id(org), trajectory_id,
                              compiled.name, self.clock.now())
        return self.show(trajectory_id)

    def _open(self, conn: Connection, compiled: CompiledFlow, outcome: effects.Outcome,
              opening: Opening, payload: dict[str, Any], note: str | None) -> Trajectory:
        """Write a new trajectory in its start state, with its history, deadlines and mail."""
        now, today = self.clock.now(), local_today(self.clock)
        row = Trajectory(organisation_id=_id(opening.org), flow=compiled.name,
                         flow_version=compiled.flow.version, state=outcome.dest,
                         title=payload["title"], data={}, created_at=now, updated_at=now)
        Writer(conn, self.mailer, opening.org, now, today, compiled.flow).apply(
            row, outcome, opening.who, opening.people, [], note, payload)
        return row

    @staticmethod
    def _check_uses(org: Organisation, compiled: CompiledFlow) -> None:
        if org.flows and compiled.name not in org.flows:
            raise NotAllowed(
                f"{org.name} gebruikt '{compiled.flow.title}' ({compiled.name}) niet. "
                f"Deze organisatie gebruikt: {', '.join(org.flows)}.")

    def _start_linked(self, conn: Connection, origin: Trajectory, effect: effects.StartLinked,
                      opening: Opening) -> None:
        """A handoff: start the linked trajectory in the caller's transaction, and link both."""
        compiled = self.flow(effect.spec.flow)
        self._check_uses(opening.org, compiled)
        payload = dict(effect.payload)
        ctx = self._context(compiled.flow.start, payload, payload, opening.who,
                            directory.settings_of(opening.org),
                            local_today(self.clock), [])
        note = f"Vervolg van {self.flow(origin.flow).flow.title.lower()}, traject {origin.id}."
        row = self._open(conn, compiled, compiled.opening(ctx), opening, payload, note)
        conn.execute(LINK.insert(), [
            {"from_id": _id(origin), "to_id": _id(row), "relation": effect.spec.relation},
            {"from_id": _id(row), "to_id": _id(origin), "relation": effect.spec.back}])
        conn.execute(HISTORY.insert(), {
            "trajectory_id": _id(origin), "at": self.clock.now(), "actor": opening.who.email,
            "event": "linked", "from_state": origin.state, "to_state": origin.state,
            "payload": {"trajectory": row.id},
            "note": f"Voortgezet als {compiled.flow.title.lower()}, traject {row.id}."})

    # --- firing ----------------------------------------------------------------------------

    @overload
    def fire(self, trajectory_id: int, event: str, actor_email: str,
             raw: dict[str, str] | None = None, note: str | None = None) -> dict[str, Any]: ...

    @overload
    def fire(self, trajectory_id: int, event: str, actor_email: str,
             raw: dict[str, str] | None = None, note: str | None = None, *,
             report: bool) -> dict[str, Any] | None: ...

    def fire(self, trajectory_id: int, event: str, actor_email: str,
             raw: dict[str, str] | None = None, note: str | None = None, *,
             report: bool = True) -> dict[str, Any] | None:
        """Fire one event in one transaction; returns the trajectory as `show` does (unless
        `report` is False, for callers that do not need it)."""
        with self._guarded(), self.engine.begin() as conn:
            self.fire_on(conn, trajectory_id, event, actor_email, raw or {}, note)
        return self.show(trajectory_id) if report else None

    def answer(self, token: str, event: str) -> dict[str, Any]:
        """A member answers a call through their personal link (sign_up / withdraw_signup).

        When another answer changed the trajectory first (twelve members clicking "Ja" in the
        same second), the answer is tried again, at most ANSWER_TRIES times; a second try
        waits for the trajectory's row before reading it, so it cannot lose again."""
        claims = self.verify_link(token)
        for attempt in range(1, ANSWER_TRIES + 1):
            try:
                self._answer_once(claims, event, wait=attempt > 1)
                break
            except DatabaseBusy:
                raise  # it waited its busy timeout already
            except Conflict:
                if attempt == ANSWER_TRIES:
                    raise
        return self.show(claims.trajectory_id)

    def _answer_once(self, claims: tokens.Claims, event: str, *, wait: bool) -> None:
        with self._guarded(used=True), transaction(self.engine) as session:
            if session.get(UsedToken, claims.jti) is not None:
                raise tokens.USED
            email = link_holder(session, claims)
            self.fire_on(session.connection(), claims.trajectory_id, event, email, {}, None,
                         wait=wait)
            session.add(UsedToken(jti=claims.jti, trajectory_id=claims.trajectory_id,
                                  used_at=self.clock.now()))

    def verify_link(self, token: str) -> tokens.Claims:
        """The claims of a genuine personal link whose call is still open: until the end of
        the last day of the call's sign-up term, also when that term was extended after the
        link was mailed; TokenRefused otherwise."""
        claims = tokens.read(self.settings.signing_key(), token)
        with Session(self.engine) as session:
            window = self._call_window(session, claims.trajectory_id)
        tokens.check_open(claims, self.clock.now(), window)
        return claims

    def _call_window(self, session: Session, trajectory_id: int) -> tokens.CallWindow | None:
        """The sign-up term of the trajectory's call, while it runs (or is suspended)."""
        row = session.get(Trajectory, trajectory_id)
        compiled = self.versions.get((row.flow, row.flow_version)) if row is not None else None
        if compiled is None:
            return None
        windows = {call.window for call in compiled.flow.calls}
        found = session.exec(select(DeadlineRow).where(
            DeadlineRow.trajectory_id == trajectory_id, col(DeadlineRow.name).in_(windows),
            col(DeadlineRow.status).in_(OPEN_WINDOW)).order_by(col(DeadlineRow.id).desc())).first()
        return tokens.CallWindow(found.started_on, found.due) if found else None

    def fire_in_session(self, session: Session, trajectory_id: int, event: str, actor_email: str,
                        raw: dict[str, str], note: str | None, *, wait: bool = False,
                        batch: Batch | None = None) -> None:
        """Fire inside the caller's transaction (the sweep claims and fires in one). With
        `wait`, the trajectory's row is taken before it is read, waiting for another writer.
        With `batch` (read_batch, same transaction), the trajectory is taken from it when it
        is still at the version read there: no statement of its own to read it."""
        conn = session.connection()
        loaded = batch.take(conn, trajectory_id, wait=wait) if batch is not None else None
        if loaded is None:
            self.fire_on(conn, trajectory_id, event, actor_email, raw, note, wait=wait)
        else:
            self._fire_loaded(conn, loaded, event, actor_email, raw, note)

    def read_batch(self, session: Session, trajectory_ids: list[int], actor_email: str, *,
                   wait: bool = False) -> Batch:
        """The trajectories a sweep batch fires an event for, with their deadlines, read in one
        statement (without locks); their organisations, each with the actor, in one more, once
        for all of the batch's trajectories of that organisation (the organisation's columns
        on every trajectory's row were decoded again for each)."""
        conn = session.connection()
        postgres = is_postgres(self.engine)
        if not trajectory_ids:
            return Batch({}, postgres)
        if postgres and wait:  # the lock wait's bound, set once for every row of the batch
            self._wait_for_row(conn, trajectory_ids[0])
        found: dict[int, list[tuple[Any, ...]]] = {}
        for values in conn.execute(_batch_loading(), {"tids": trajectory_ids}):
            found.setdefault(values[_TRAJECTORY_ID], []).append(tuple(values))
        orgs = self._batch_organisations(conn, {rows[0][_ORG_ID] for rows in found.values()},
                                         actor_email)
        return Batch({tid: _loaded_from(rows, orgs) for tid, rows in found.items()}, postgres)

    @staticmethod
    def _batch_organisations(conn: Connection, org_ids: set[int], actor_email: str
                             ) -> dict[int, OrgPart]:
        """Each organisation by id, with its people as an event needs them (the actor read)."""
        shared: dict[int, OrgPart] = {}
        for values in conn.execute(_batch_organisations(), {"oids": sorted(org_ids),
                                                            "email": actor_email.strip().lower()}):
            org = detached(Organisation, _part(tuple(values), ORGANISATION, _ORG_PERSON))
            person = _part(tuple(values), PERSON, _ORG_PERSON)
            named = {person["email"]: detached(Person, person)} if person["id"] is not None else {}
            shared[_id(org)] = OrgPart.of(org, directory.People(conn, _id(org), named))
        return shared

    def fire_on(self, conn: Connection, trajectory_id: int, event: str, actor_email: str,
                raw: dict[str, str], note: str | None, *, wait: bool = False) -> None:
        """`fire_in_session` on the transaction's connection: read and written with Core."""
        self._fire_loaded(conn, self._load(conn, trajectory_id, actor_email, wait=wait), event,
                          actor_email, raw, note)

    def _fire_loaded(self, conn: Connection, loaded: Loaded, event: str, actor_email: str,
                     raw: dict[str, str], note: str | None) -> None:
        now, today = self.clock.now(), local_today(self.clock)  # the moment the row is ours
        compiled = self.compiled_for(loaded.row)
        if event not in compiled.events:
            raise InvalidInput(f"Onbekende gebeurtenis '{event}' voor {compiled.flow.title}.")
        who = directory.actor(loaded.people.named, actor_email, loaded.row.data,
                              loaded.part.chairs)
        ctx = self._context(loaded.row.state, dict(loaded.row.data), {}, who, loaded.part.settings,
                            today, loaded.deadlines)
        found = compiled.check_allowed(ctx, event)  # state, role, suspension: before the input
        payload = self._payload(found[0].fields, raw, event, loaded.people, loaded.org, today)
        if payload:  # an event without input (the sweep's) keeps the context as it is
            ctx = replace(ctx, payload=payload)
        outcome = compiled.fire(ctx, event, allowed=found)
        Writer(conn, self.mailer, loaded.org, now, today, compiled.flow).apply(
            loaded.row, outcome, who, loaded.people, loaded.deadlines, note, payload)
        for effect in outcome.effects:
            if isinstance(effect, effects.StartLinked):
                self._start_linked(conn, loaded.row, effect,
                                   Opening(loaded.org, loaded.people, who))

    # --- helpers ---------------------------------------------------------------------------

    def _load(self, conn: Connection, trajectory_id: int, actor_email: str, *,
              wait: bool = False) -> Loaded:
        """The trajectory (locked on PostgreSQL: NOWAIT, or waiting with `wait`), its
        organisation, the actor and its deadlines that still count, in one statement."""
        if wait:
            self._wait_for_row(conn, trajectory_id)
        rows = [tuple(r) for r in conn.execute(_loading(is_postgres(self.engine), wait), {
            "tid": trajectory_id, "email": actor_email.strip().lower()})]
        if not rows:
            raise NotFound(f"Traject {trajectory_id} bestaat niet.")
        row = detached(Trajectory, _part(rows[0], TRAJECTORY))
        org = detached(Organisation, _part(rows[0], ORGANISATION))
        person = _part(rows[0], PERSON)
        named = {person["email"]: detached(Person, person)} if person["id"] is not None else {}
        deadlines = [detached(DeadlineRow, d) for d in (_part(r, DEADLINE) for r in rows)
                     if d["id"] is not None]
        return Loaded(row, OrgPart.of(org, directory.People(conn, row.organisation_id, named)),
                      deadlines)

    def _wait_for_row(self, conn: Connection, trajectory_id: int) -> None:
        """Make this transaction the trajectory's writer before reading it, waiting for another
        (bounded: SQLite's busy timeout; PostgreSQL's lock_timeout, set here)."""
        if is_postgres(self.engine):
            seconds = waits_for(self.engine)
            conn.execute(text(f"SET LOCAL lock_timeout = '{int(seconds * 1000)}ms'"))
            return
        conn.execute(text("UPDATE trajectory SET version = version WHERE id = :id"),
                     {"id": trajectory_id})

    @staticmethod
    def _payload(fields: Any, raw: dict[str, str], event: str, people: directory.People,
                 org: Organisation, today: date) -> dict[str, Any]:
        """The checked input; everyone of the organisation is read only for a person field."""
        if not fields and not raw:  # nothing to check (the sweep's events)
            return {}
        payload = inputs.coerce(tuple(fields), raw, event=event, is_person=people.is_person,
                                groups=list(directory.groups_of(org)), has_role=people.has_role)
        _not_too_far_ahead(tuple(fields), payload, today)
        return payload

    @staticmethod
    def _context(state: str, data: dict[str, Any], payload: dict[str, Any], who: Actor,
                 settings: OrgSettings, today: date, deadlines: list[DeadlineRow]) -> Context:
        views_ = {d.name: DeadlineView(d.name, d.due, d.status, d.explanation, d.suspended_on,
                                       d.atw)
                  for d in active_deadlines(deadlines).values()}
        return Context(state, data, payload, who, settings, today, views_)

    def _guarded(self, used: bool = False) -> _ConflictGuard:
        return _ConflictGuard(self.engine, used)


_latest_day = lru_cache(maxsize=8)(latest_day)  # a calendar computation, the same all day


def _not_too_far_ahead(fields: tuple[Field, ...], payload: dict[str, Any], today: date) -> None:
    """A date more than FUTURE_YEARS ahead is a typing error (2062 for 2026), refused as input."""
    dates = [f for f in fields if f.kind == "date" and f.name in payload]
    if not dates:
        return
    last = _latest_day(today)
    for f in dates:
        if date.fromisoformat(payload[f.name]) > last:
            raise InvalidInput(
                f"{f.label} ({f.name}): {format_date(date.fromisoformat(payload[f.name]))} ligt "
                f"meer dan {FUTURE_YEARS} jaar na vandaag; controleer de datum.")


def link_holder(session: Session, claims: tokens.Claims) -> str:
    """The e-mail address of the person a link was made for, in the trajectory's organisation."""
    person = session.get(Person, claims.person_id)
    trajectory = session.get(Trajectory, claims.trajectory_id)
    if person is None or trajectory is None or person.organisation_id != trajectory.organisation_id:
        raise tokens.TAMPERED
    return person.email


class _ConflictGuard:
    """Turn the database's ways of saying "someone else was first" into `Conflict`, "I waited
    and it stayed busy" into `DatabaseBusy`, and a term past the calendar into bad input."""

    def __init__(self, engine: Engine, used: bool) -> None:
        self.engine = engine
        self.used = used

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, error: Any, _tb: Any) -> None:
        if isinstance(error, TermError):
            raise InvalidInput(str(error)) from error
        if isinstance(error, IntegrityError) and self.used:
            raise tokens.USED from error
        if isinstance(error, StaleDataError):
            raise Conflict(CONFLICT) from error
        if is_busy(error):
            raise busy(self.engine) from error
        if isinstance(error, DBAPIError) and _is_lock_error(error):
            raise Conflict(CONFLICT) from error


def _is_lock_error(error: DBAPIError) -> bool:
    """PostgreSQL: the row is someone else's right now (NOWAIT), or it gave way to another."""
    message = str(error.orig).lower()
    return any(s in message for s in ("could not obtain lock", "could not serialize",
                                      "deadlock detected"))


TRAJECTORY: Table = Trajectory.__table__  # type: ignore[attr-defined]
ORGANISATION: Table = Organisation.__table__  # type: ignore[attr-defined]
PERSON: Table = Person.__table__  # type: ignore[attr-defined]
DEADLINE: Table = DeadlineRow.__table__  # type: ignore[attr-defined]
LINK: Table = TrajectoryLink.__table__  # type: ignore[attr-defined]
HISTORY: Table = HistoryEntry.__table__  # type: ignore[attr-defined]
#: The tables of the loading statement, in the order of its columns.
LOADED = (TRAJECTORY, ORGANISATION, PERSON, DEADLINE)
#: The tables of a sweep batch's two loading statements, in the order of their columns.
_TRAJECTORY_DEADLINE = (TRAJECTORY, DEADLINE)
_ORG_PERSON = (ORGANISATION, PERSON)
#: Where a batch loading row has its trajectory's id and organisation's id.
_TRAJECTORY_ID, _ORG_ID = (list(TRAJECTORY.c.keys()).index(n) for n in ("id", "organisation_id"))


@cache
def _loading(postgres: bool, wait: bool) -> Select[Any]:
    """The trajectory with its organisation, the actor (when they are a person of it) and one
    row for each deadline that still counts (app.writer.active_deadlines), at least one row; on
    PostgreSQL the trajectory's row (only) is locked. The statuses are bound one by one: an IN
    of a list would be rendered again at each execution."""
    active = DEADLINE.c.status.in_([literal(s) for s in ACTIVE_DEADLINE])
    query = (core_select(*(c for table in LOADED for c in table.c))
             .join(ORGANISATION, ORGANISATION.c.id == TRAJECTORY.c.organisation_id)
             .outerjoin(PERSON, and_(PERSON.c.organisation_id == TRAJECTORY.c.organisation_id,
                                     PERSON.c.email == bindparam("email")))
             .outerjoin(DEADLINE, and_(DEADLINE.c.trajectory_id == TRAJECTORY.c.id, active))
             .where(TRAJECTORY.c.id == bindparam("tid"))
             .order_by(DEADLINE.c.id))
    if postgres:
        query = query.with_for_update(nowait=not wait, of=TRAJECTORY)
    return query


@cache
def _batch_loading() -> Select[Any]:
    """The trajectories `tids` at once, one row for each deadline that still counts (at least
    one row), without locks (Batch.take locks); their organisations: `_batch_organisations`."""
    active = DEADLINE.c.status.in_([literal(s) for s in ACTIVE_DEADLINE])
    return (core_select(*(c for table in _TRAJECTORY_DEADLINE for c in table.c))
            .outerjoin(DEADLINE, and_(DEADLINE.c.trajectory_id == TRAJECTORY.c.id, active))
            .where(TRAJECTORY.c.id.in_(bindparam("tids", expanding=True)))
            .order_by(TRAJECTORY.c.id, DEADLINE.c.id))


@cache
def _batch_organisations() -> Select[Any]:
    """The organisations `oids`, each with the actor when they are a person of it."""
    return (core_select(*(c for table in _ORG_PERSON for c in table.c))
            .outerjoin(PERSON, and_(PERSON.c.organisation_id == ORGANISATION.c.id,
                                    PERSON.c.email == bindparam("email")))
            .where(ORGANISATION.c.id.in_(bindparam("oids", expanding=True))))


@cache
def _locking_version(wait: bool) -> Select[Any]:
    """PostgreSQL: the trajectory's version, its row locked (waiting, or NOWAIT)."""
    return (core_select(TRAJECTORY.c.version).where(TRAJECTORY.c.id == bindparam("tid"))
            .with_for_update(nowait=not wait))


def _loaded_from(rows: list[tuple[Any, ...]], orgs: dict[int, OrgPart]) -> Loaded:
    """One trajectory of a batch from its loading rows, with its organisation and people,
    shared with the batch's other trajectories of that organisation."""
    row = detached(Trajectory, _part(rows[0], TRAJECTORY, _TRAJECTORY_DEADLINE))
    deadlines = [detached(DeadlineRow, d)
                 for d in (_part(r, DEADLINE, _TRAJECTORY_DEADLINE) for r in rows)
                 if d["id"] is not None]
    return Loaded(row, orgs[row.organisation_id], deadlines)


def _part(values: tuple[Any, ...], table: Table, tables: tuple[Table, ...] = ()) -> dict[str, Any]:
    """One table's columns of a row of the columns of `tables` (the loading statement's by
    default), by name."""
    return dict(zip(_keys(table), values[_slices(tables or LOADED)[table.name]], strict=True))


@cache
def _keys(table: Table) -> tuple[str, ...]:
    """A table's column names (asking the table builds the list anew each time)."""
    return tuple(table.c.keys())


@cache
def _slices(tables: tuple[Table, ...]) -> dict[str, slice]:
    """Where each table's columns are in a row of the columns of `tables`, in that order."""
    return {t.name: slice(sum(len(u.c) for u in tables[:n]), sum(len(u.c) for u in tables[:n + 1]))
            for n, t in enumerate(tables)}


def _id(row: Organisation | Trajectory) -> int:
    assert row.id is not None
    return row.id
