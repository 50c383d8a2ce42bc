"""Busy is not conflict (issue 7, point 8).

When another process holds SQLite's one write lock, a command waits for it (the busy timeout,
10 seconds or `?timeout=` in the database URL) and, when it still cannot write, says that the
database is busy (exit 4) instead of "someone else changed this trajectory". And rendering the
mail of a call to many members no longer happens while holding the write lock: a second writer
goes ahead while the call is being rendered.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from app.service import Service
from flows import TEMPLATE_DIR
from notifications.render import Rendered, Renderer
from storage.db import make_engine
from tests.helpers import MEMBERS, SECRETARIAT, outbox, start

ROOT = Path(__file__).resolve().parents[2]
ADVIES = str(Path(sys.executable).parent / "advies")


@contextmanager
def write_lock(database: Path) -> Iterator[None]:
    """Another process's writer: holds SQLite's write lock until the block ends."""
    holder = sqlite3.connect(database, isolation_level=None, timeout=0)
    try:
        holder.execute("BEGIN IMMEDIATE")
        yield
        holder.execute("ROLLBACK")
    finally:
        holder.close()


def test_a_busy_database_is_called_busy_not_a_conflict(tmp_path: Path) -> None:
    database = tmp_path / "a.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADVIES_")}
    env.update(ADVIES_DATABASE_URL=f"sqlite:///{database}?timeout=0.3", ADVIES_NOW="2026-03-24T09:30",
               ADVIES_MAIL_DIR=str(tmp_path / "mail"), ADVIES_SECRET_KEY="busy-" + "x" * 32,
               PYTHONPATH=str(ROOT))

    def advies(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([ADVIES, *args], env=env, capture_output=True, text=True, timeout=120,
                              cwd=tmp_path)

    assert advies("init", "--demo").returncode == 0
    assert advies("start", "asked_advice", "--org", "demo", "--title", "Bezig", "--actor", SECRETARIAT,
                  "--set", "policy_adviser=beleid@example.org").returncode == 0
    with write_lock(database):
        busy = advies("fire", "1", "call_participants", "--actor", SECRETARIAT)
        assert advies("show", "1").returncode == 0  # reading goes on meanwhile
    assert busy.returncode == 4, busy.stderr
    assert "De database is bezet: een ander proces schrijft er al langer dan 0.3 seconden in" in busy.stderr
    assert "Iemand anders" not in busy.stderr
    assert "Traceback" not in busy.stderr + busy.stdout
    assert len(busy.stderr.strip().splitlines()) == 1
    again = advies("fire", "1", "call_participants", "--actor", SECRETARIAT)  # the lock is gone
    assert again.returncode == 0, again.stderr


class GateRenderer(Renderer):
    """The real renderer, held at the last invitation of a call until the test lets it go."""

    def __init__(self, template: str, count: int) -> None:
        super().__init__(TEMPLATE_DIR)
        self.template, self.left = template, count
        self.rendering = threading.Event()
        self.go_on = threading.Event()

    def render(self, name: str, context: dict[str, Any]) -> Rendered:
        found = super().render(name, context)
        if name == self.template:
            self.left -= 1
            if self.left == 0:
                self.rendering.set()
                assert self.go_on.wait(30), "the test never let the rendering go on"
        return found


def test_rendering_a_call_does_not_hold_the_write_lock(service: Service, sqlite_engine: Engine) -> None:
    tid = int(start(service)["id"])
    gate = GateRenderer("asked_advice/call", 1)  # rendered once for every member
    service.mailer.renderer = gate  # a fake at the port: the real templates, with a pause
    errors: list[BaseException] = []

    def call() -> None:
        try:
            service.fire(tid, "call_participants", SECRETARIAT)
        except BaseException as error:
            errors.append(error)

    caller = threading.Thread(target=call)
    caller.start()
    try:
        assert gate.rendering.wait(30)  # the invitation rendered, still in hand
        database = Path(str(sqlite_engine.url.database))
        with write_lock(database):  # timeout 0: fails at once if the call held the lock
            pass
    finally:
        gate.go_on.set()
        caller.join(30)
    assert errors == []
    invitations = [m for m in outbox(sqlite_engine, tid) if m.template == "asked_advice/call"]
    assert len(invitations) == len(MEMBERS)
    assert service.show(tid)["state"] == "calling"


@pytest.mark.parametrize(("suffix", "milliseconds"), [("", 10000), ("?timeout=2.5", 2500)])
def test_the_busy_timeout_is_bounded_and_can_be_set(tmp_path: Path, suffix: str,
                                                     milliseconds: int) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'b.db'}{suffix}")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == milliseconds
    engine.dispose()
