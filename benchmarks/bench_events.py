"""How many plain events per second the engine fires on SQLite (WAL, synchronous=FULL).

Run with `make bench`. A plain event is one without mail (suspend / resume), fired through the
service as the command line and the web do: one transaction each, committed to a real file.
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import datetime
from importlib import resources
from pathlib import Path

from pydantic import SecretStr

from app import org_file
from app.service import Service
from engine.clock import AMSTERDAM, FrozenClock
from settings import Settings
from storage import migrate
from storage.db import make_engine

SECRETARIAT = "secretariaat@example.org"
EVENTS = 1000


def main() -> None:
    folder = Path(tempfile.mkdtemp())
    url = f"sqlite:///{folder / 'bench.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    org_file.load(engine, Path(str(resources.files("cli") / "demo_org.toml")))
    settings = Settings(database_url=url, secret_key=SecretStr("bench-" + "x" * 40), mail_dir=folder / "mail")
    service = Service(engine, settings, FrozenClock(datetime(2026, 3, 24, 9, tzinfo=AMSTERDAM)))
    ids = [service.start("asked_advice", "demo", f"Bench {n}", SECRETARIAT,
                         {"policy_adviser": "beleid@example.org"})["id"] for n in range(EVENTS // 2)]
    started = time.perf_counter()
    for tid in ids:
        service.fire(tid, "suspend", SECRETARIAT, report=False)
        service.fire(tid, "resume", SECRETARIAT, report=False)
    seconds = time.perf_counter() - started
    sys.stdout.write(f"{EVENTS} plain events in {seconds:.2f} s: {EVENTS / seconds:.0f} events/s "
                     "(SQLite, WAL, synchronous=FULL)\n")
    engine.dispose()


if __name__ == "__main__":
    main()
