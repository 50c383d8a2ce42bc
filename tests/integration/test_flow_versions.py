"""Flow versions (issue 10, point 6): a trajectory keeps deciding with the version of its flow it
started on; `flow_migration.migrate` moves the running ones to another version, keeping their
step, mapping a step the new version lacks, or refusing with the list and moving nothing.

Version 2 of asked_advice exists only here: version 1 with its step `consulting` renamed to
`input_gathering`. The service and the migration get a registry holding both versions.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session, col, select

from app import flow_migration
from app.service import Service
from engine.clock import FrozenClock
from engine.dsl import Flow, State
from engine.errors import InvalidInput, NotAllowed, NotFound
from engine.machine import CompiledFlow
from flows import TEMPLATE_DIR, FlowKey, UnknownFlowVersion, asked_advice, flow_versions
from settings import Settings
from storage.tables import DeadlineRow, HistoryEntry, Organisation, Trajectory
from tests.helpers import SECRETARIAT, member, start, to_matching
from tests.integration.test_sweep import alerts, sweep_at, sweep_days

OLD, NEW = "consulting", "input_gathering"
MD_SECRETARY = "secretaris@voorbeeldveld.example.org"


def renamed(flow: Flow, old: str, new: str, label: str, version: int) -> Flow:
    """The flow with one step renamed everywhere it is named: a new version of it."""
    def step(state: State) -> State:
        exits = tuple(replace(t, dest=new) if t.dest == old else t for t in state.exits)
        return replace(state, name=new if state.name == old else state.name,
                       label=label if state.name == old else state.label, exits=exits)

    deadlines = tuple(replace(d, guards=tuple(new if g == old else g for g in d.guards))
                      for d in flow.deadlines)
    return replace(flow, version=version, states=tuple(step(s) for s in flow.states),
                   deadlines=deadlines)


V2 = CompiledFlow(renamed(asked_advice.FLOW, OLD, NEW, "Input verzamelen", 2), TEMPLATE_DIR)


@pytest.fixture
def both() -> dict[FlowKey, CompiledFlow]:
    return {**flow_versions(), ("asked_advice", 2): V2}


@pytest.fixture
def on_v2(sqlite_engine: Engine, settings: Settings, clock: FrozenClock,
          both: dict[FlowKey, CompiledFlow]) -> Service:
    """The service after the release of version 2: it starts new trajectories on it."""
    return Service(sqlite_engine, settings, clock, flows=both)


def consulting(service: Service, clock: FrozenClock) -> int:
    tid = to_matching(service, clock)
    service.fire(tid, "first_meeting_held", SECRETARIAT)
    service.fire(tid, "choose_contact", SECRETARIAT, {"contact_person": member("bram")})
    return tid


def advising(service: Service, clock: FrozenClock) -> int:
    tid = consulting(service, clock)
    service.fire(tid, "consultation_done", member("bram"))
    return tid


def rows(engine: Engine) -> list[tuple[Any, ...]]:
    """Every trajectory as the migration may change it, and every deadline and history entry."""
    with Session(engine) as session:
        found: list[tuple[Any, ...]] = [(t.id, t.flow_version, t.state, t.version, t.updated_at)
                 for t in session.exec(select(Trajectory).order_by(col(Trajectory.id)))]
        found += [(d.id, d.name, d.status, d.due) for d in session.exec(select(DeadlineRow))]
        found += [(h.id, h.event) for h in session.exec(select(HistoryEntry))]
    return found


def migrations(engine: Engine, tid: int) -> list[HistoryEntry]:
    with Session(engine) as session:
        return list(session.exec(select(HistoryEntry).where(
            HistoryEntry.trajectory_id == tid, HistoryEntry.event == "migrate_flow")))


def test_a_trajectory_keeps_deciding_with_the_version_it_started_on(
        service: Service, on_v2: Service, clock: FrozenClock, sqlite_engine: Engine) -> None:
    old = consulting(service, clock)  # started on version 1, before version 2 was released
    new = int(start(on_v2)["id"])

    with Session(sqlite_engine) as session:
        assert [(t.id, t.flow_version) for t in session.exec(select(Trajectory))] == [(old, 1), (new, 2)]
    view = on_v2.show(old)
    assert view["state"] == OLD
    assert view["state_label"] == "Meedenkomgeving: input ophalen"
    assert "consultation_done" in view["allowed_events"]

    on_v2.fire(old, "consultation_done", member("bram"))  # version 2 has no step `consulting`
    assert on_v2.show(old)["state"] == "advising"
    with pytest.raises(NotAllowed):  # version 1 has no step `input_gathering` to decide from
        on_v2.fire(old, "consultation_done", member("bram"))


def test_a_new_trajectory_follows_the_new_version(on_v2: Service, clock: FrozenClock) -> None:
    tid = to_matching(on_v2, clock)
    on_v2.fire(tid, "first_meeting_held", SECRETARIAT)
    on_v2.fire(tid, "choose_contact", SECRETARIAT, {"contact_person": member("bram")})
    view = on_v2.show(tid)
    assert (view["state"], view["state_label"]) == (NEW, "Input verzamelen")
    assert [d["name"] for d in view["deadlines"] if d["status"] == "running"] == ["advice_due"]


def test_a_step_the_new_version_has_is_kept_and_the_history_says_so(
        service: Service, on_v2: Service, clock: FrozenClock, sqlite_engine: Engine,
        both: dict[FlowKey, CompiledFlow]) -> None:
    writing = advising(service, clock)
    called = int(start(service, title="Minimabeleid")["id"])
    service.fire(called, "call_participants", SECRETARIAT)
    ended = int(start(service)["id"])
    service.fire(ended, "withdraw", SECRETARIAT, {"reason": "ingetrokken"})
    deadlines_before = [r for r in rows(sqlite_engine) if len(r) == 4]

    done = flow_migration.migrate(sqlite_engine, clock, both, "asked_advice", 2, {})

    assert [(m.id, m.from_state, m.to_state) for m in done.moves] == [
        (writing, "advising", "advising"), (called, "calling", "calling")]
    assert done.finished_left == 1
    assert not done.dry_run
    with Session(sqlite_engine) as session:
        found = {t.id: (t.flow_version, t.state) for t in session.exec(select(Trajectory))}
    assert found == {writing: (2, "advising"), called: (2, "calling"), ended: (1, "withdrawn")}
    assert [r for r in rows(sqlite_engine) if len(r) == 4] == deadlines_before  # terms run on
    [entry] = migrations(sqlite_engine, writing)
    assert entry.actor == "beheerder"
    assert entry.note == "Stroom Gevraagd advies van versie 1 naar 2; stap Advies schrijven blijft."
    assert entry.payload == {"from_version": 1, "to_version": 2}
    assert migrations(sqlite_engine, ended) == []

    on_v2.fire(called, "sign_up", member("anna"))  # the call goes on, now on version 2
    assert on_v2.show(called)["data"]["signups"] == [member("anna")]


def test_a_step_the_new_version_lacks_refuses_with_the_list_and_moves_nothing(
        service: Service, clock: FrozenClock, sqlite_engine: Engine,
        both: dict[FlowKey, CompiledFlow]) -> None:
    stuck = consulting(service, clock)
    advising(service, clock)
    before = rows(sqlite_engine)

    with pytest.raises(flow_migration.MigrationRefused) as refused:
        flow_migration.migrate(sqlite_engine, clock, both, "asked_advice", 2, {})

    assert [(s.id, s.title, s.state) for s in refused.value.stuck] == [
        (stuck, "Regiovisie beschermd wonen", OLD)]
    assert refused.value.exit_code == 3
    assert refused.value.message == (
        f"Er is niets verplaatst: 1 traject(en) staan in een stap die versie 2 van 'asked_advice' "
        f"niet heeft: {stuck} 'Regiovisie beschermd wonen' (consulting); geef voor elke zo'n stap "
        f"--map consulting=NIEUWE_STAP.")
    assert rows(sqlite_engine) == before
    with pytest.raises(flow_migration.MigrationRefused):  # a dry run says the same
        flow_migration.migrate(sqlite_engine, clock, both, "asked_advice", 2, {}, dry_run=True)
    assert rows(sqlite_engine) == before


def test_with_a_mapping_the_step_moves_and_the_new_version_decides(
        service: Service, on_v2: Service, clock: FrozenClock, sqlite_engine: Engine,
        both: dict[FlowKey, CompiledFlow]) -> None:
    tid = consulting(service, clock)
    other = advising(service, clock)
    version_before = service.show(tid)["version"]

    done = flow_migration.migrate(sqlite_engine, clock, both, "asked_advice", 2, {OLD: NEW})

    assert [(m.id, m.to_state) for m in done.moves] == [(tid, NEW), (other, "advising")]
    view = on_v2.show(tid)
    assert (view["state"], view["state_label"], view["version"]) == (NEW, "Input verzamelen",
                                                                    version_before + 1)
    [entry] = migrations(sqlite_engine, tid)
    assert (entry.from_state, entry.to_state) == (OLD, NEW)
    assert entry.note == ("Stroom Gevraagd advies van versie 1 naar 2; stap Meedenkomgeving: "
                          "input ophalen → Input verzamelen.")
    assert view["history"][-1]["event"] == "migrate_flow"

    on_v2.fire(tid, "consultation_done", member("bram"))
    assert on_v2.show(tid)["state"] == "advising"


def test_a_dry_run_says_what_would_move_and_moves_nothing(
        service: Service, clock: FrozenClock, sqlite_engine: Engine,
        both: dict[FlowKey, CompiledFlow]) -> None:
    tid = consulting(service, clock)
    before = rows(sqlite_engine)

    done = flow_migration.migrate(sqlite_engine, clock, both, "asked_advice", 2, {OLD: NEW},
                                  dry_run=True)

    assert done.dry_run
    assert [(m.id, m.from_state, m.to_state) for m in done.moves] == [(tid, OLD, NEW)]
    assert rows(sqlite_engine) == before


@pytest.mark.parametrize(("flow", "to", "mapping", "words"), [
    ("onbekend", 2, {}, "Onbekende stroom 'onbekend'"),
    ("asked_advice", 3, {}, "De stroom 'asked_advice' heeft geen versie 3; er is versie 1, 2."),
    ("asked_advice", 2, {OLD: "bestaat_niet"}, "versie 2 heeft geen stap 'bestaat_niet'"),
    ("asked_advice", 2, {OLD: "closed"}, "'closed' is een eindstap"),
    ("asked_advice", 2, {"advising": NEW}, "stap 'advising' bestaat ook in versie 2"),
    ("asked_advice", 2, {"consultng": NEW}, "geen versie van 'asked_advice' heeft een stap 'consultng'"),
])
def test_bad_input_is_refused_and_nothing_moves(
        service: Service, clock: FrozenClock, sqlite_engine: Engine,
        both: dict[FlowKey, CompiledFlow], flow: str, to: int, mapping: dict[str, str],
        words: str) -> None:
    consulting(service, clock)
    before = rows(sqlite_engine)

    with pytest.raises(InvalidInput) as refused:
        flow_migration.migrate(sqlite_engine, clock, both, flow, to, mapping)

    assert words in refused.value.message
    assert refused.value.exit_code == 2
    assert rows(sqlite_engine) == before


def test_a_version_the_code_no_longer_holds_is_a_clear_error_until_migrated(
        service: Service, clock: FrozenClock, sqlite_engine: Engine) -> None:
    tid = consulting(service, clock)
    with sqlite_engine.begin() as conn:  # as if version 7 was released, used, and taken out again
        conn.execute(text("UPDATE trajectory SET flow_version = 7 WHERE id = :id"), {"id": tid})
    said = (f"Traject {tid} loopt op versie 7 van de stroom 'asked_advice', maar Adviestraject kent "
            f"van die stroom alleen versie 1; laat de beheerder het verplaatsen met "
            f"'advies flows migrate asked_advice --to 1'.")

    with pytest.raises(UnknownFlowVersion) as refused:
        service.show(tid)
    assert refused.value.message == said
    assert refused.value.exit_code == 1
    with pytest.raises(UnknownFlowVersion, match="alleen versie 1"):
        service.fire(tid, "consultation_done", member("bram"))

    done = flow_migration.migrate(sqlite_engine, clock, flow_versions(), "asked_advice", 1, {})
    assert [(m.id, m.from_version, m.to_state) for m in done.moves] == [(tid, 7, OLD)]
    [entry] = migrations(sqlite_engine, tid)
    assert entry.note == ("Stroom Gevraagd advies van versie 7 naar 1; stap Meedenkomgeving: input "
                          "ophalen blijft.")
    assert service.show(tid)["state"] == OLD


def test_the_registry_refuses_a_broken_archive() -> None:
    from engine.errors import InvalidFlow
    from flows import checked_versions

    live = [asked_advice.COMPILED]
    assert checked_versions([V2], live) == {("asked_advice", 2): V2,
                                            ("asked_advice", 1): asked_advice.COMPILED}
    with pytest.raises(InvalidFlow, match="newer than the live one"):
        checked_versions(live, [V2])
    with pytest.raises(InvalidFlow, match="defined twice"):
        checked_versions(live, live)
    with pytest.raises(InvalidFlow, match="no live flow"):
        checked_versions([], live)


def test_usage_counts_running_and_finished_per_version_of_one_organisation(
        service: Service, on_v2: Service, clock: FrozenClock, sqlite_engine: Engine,
        both: dict[FlowKey, CompiledFlow]) -> None:
    start(service)
    ended = int(start(service)["id"])
    service.fire(ended, "withdraw", SECRETARIAT, {"reason": "ingetrokken"})
    start(on_v2)
    service.start("md_asked_advice", "demo-md", "Verordening", MD_SECRETARY,
                  {"policy_adviser": "beleid@voorbeeldveld.example.org", "document_type": "beleidsregel"})
    with Session(sqlite_engine) as session:
        demo = session.exec(select(Organisation).where(Organisation.slug == "demo")).one().id

    found = flow_migration.usage(sqlite_engine, both, ["asked_advice", "unasked_advice",
                                                       "md_asked_advice"], demo)

    assert found == {
        "asked_advice": [flow_migration.VersionUse(2, True, 1, 0),
                         flow_migration.VersionUse(1, False, 1, 1)],
        "unasked_advice": [flow_migration.VersionUse(1, True, 0, 0)],
        "md_asked_advice": [flow_migration.VersionUse(1, True, 0, 0)]}
    everyone = flow_migration.usage(sqlite_engine, both, ["md_asked_advice"])
    assert everyone == {"md_asked_advice": [flow_migration.VersionUse(1, True, 1, 0)]}
    with pytest.raises(NotFound):
        flow_migration.migrate(sqlite_engine, clock, both, "", 1, {})


def test_on_postgresql_the_rows_are_locked_and_moved_alike(
        pg_engine: Engine, settings: Settings, clock: FrozenClock,
        both: dict[FlowKey, CompiledFlow]) -> None:
    service = Service(pg_engine, settings, clock)
    tid = consulting(service, clock)

    with pytest.raises(flow_migration.MigrationRefused):
        flow_migration.migrate(pg_engine, clock, both, "asked_advice", 2, {})
    done = flow_migration.migrate(pg_engine, clock, both, "asked_advice", 2, {OLD: NEW})

    assert [(m.id, m.to_state) for m in done.moves] == [(tid, NEW)]
    assert Service(pg_engine, settings, clock, flows=both).show(tid)["state"] == NEW
    assert len(migrations(pg_engine, tid)) == 1


def test_the_sweep_plans_reminders_by_the_trajectorys_own_version(
        sqlite_engine: Engine, settings: Settings, clock: FrozenClock) -> None:
    """Version 2 drops the call's reminder: a call started on version 1 still reminds the
    members who have not answered; one started on version 2 does not."""
    quiet = replace(asked_advice.FLOW, version=2, deadlines=tuple(
        replace(d, reminders=()) for d in asked_advice.FLOW.deadlines))
    registry = {**flow_versions(), ("asked_advice", 2): CompiledFlow(quiet, TEMPLATE_DIR)}
    before = Service(sqlite_engine, settings, clock)
    on_v1 = int(start(before)["id"])
    before.fire(on_v1, "call_participants", SECRETARIAT)
    after = Service(sqlite_engine, settings, clock, flows=registry)
    on_v2 = int(start(after)["id"])
    after.fire(on_v2, "call_participants", SECRETARIAT)

    reminder_day = date(2026, 4, 1)  # two working days before the call closes on 7 April
    sweep_days(after, clock, date(2026, 3, 25), reminder_day - timedelta(days=1))
    sweep_at(after, clock, reminder_day)

    assert any(m.template == "call/reminder" for m in alerts(sqlite_engine, on_v1))
    assert not any(m.template == "call/reminder" for m in alerts(sqlite_engine, on_v2))
