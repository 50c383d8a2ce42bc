"""Two threads fire on the same trajectory at the same moment: exactly one wins, no lost update."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest
from sqlalchemy import Engine

from app.service import Service
from engine.clock import FrozenClock
from engine.errors import Conflict
from settings import Settings
from tests.conftest import make_settings
from tests.helpers import SECRETARIAT, member, outbox, start


class GateClock(FrozenClock):
    """A frozen clock that holds the first thread asking the time inside its transaction."""

    def __init__(self, at: datetime) -> None:
        super().__init__(at)
        self.inside = threading.Event()
        self.release = threading.Event()
        self.armed = False
        self._first: int | None = None

    def now(self) -> datetime:
        me = threading.get_ident()
        if self.armed and self._first is None:
            self._first = me
        if self.armed and me == self._first and not self.inside.is_set():
            self.inside.set()
            assert self.release.wait(20), "the other thread never finished"
        return super().now()


def _race(engine: Engine, settings: Settings, clock: FrozenClock) -> tuple[list[str], int]:
    gate = GateClock(clock.now())
    service = Service(engine, settings, gate)
    tid = start(service)["id"]
    service.fire(tid, "call_participants", SECRETARIAT)
    results: list[str] = []

    def sign_up(name: str) -> None:
        try:
            service.fire(tid, "sign_up", member(name))
            results.append("ok")
        except Conflict:
            results.append("conflict")

    gate.armed = True
    first = threading.Thread(target=sign_up, args=("anna",))
    first.start()
    assert gate.inside.wait(10)
    second = threading.Thread(target=sign_up, args=("bram",))
    second.start()
    second.join(20)
    gate.release.set()
    first.join(20)
    return results, tid


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_concurrent_fire_exactly_one_wins(backend: str, request: pytest.FixtureRequest,
                                          tmp_path, clock: FrozenClock) -> None:
    engine: Engine = request.getfixturevalue("sqlite_engine" if backend == "sqlite" else "pg_engine")
    settings = make_settings(str(engine.url.render_as_string(hide_password=False)), tmp_path)
    results, tid = _race(engine, settings, clock)
    assert sorted(results) == ["conflict", "ok"]
    view = Service(engine, settings, clock).show(tid)
    assert len(view["data"]["signups"]) == 1  # never both, never a lost update
    assert [h["event"] for h in view["history"]].count("sign_up") == 1
    confirmations = [m for m in outbox(engine, tid) if m.template == "call/signup_confirmed"]
    assert len(confirmations) == 1  # the loser's mail was rolled back with its event
