"""APScheduler 3 as the reference: `python -m benchmarks.children.scheduler fire|store COUNT`.

fire: COUNT jobs due in the past in a MemoryJobStore; prints the seconds from `start()` until
all of them ran. store: COUNT jobs due in the future stored, the scheduler started and stopped
(the start-up of a scheduler that keeps every deadline as a job); prints its seconds.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler


def job() -> None:
    pass


def scheduler() -> BackgroundScheduler:
    return BackgroundScheduler(jobstores={"default": MemoryJobStore()},
                               executors={"default": ThreadPoolExecutor(max_workers=10)}, timezone=UTC)


def fire(count: int) -> float:
    """Seconds from start() until `count` due jobs ran."""
    done, ran, lock = threading.Event(), [0], threading.Lock()

    def counted() -> None:
        with lock:
            ran[0] += 1
            if ran[0] == count:
                done.set()

    found = scheduler()
    past = datetime.now(UTC) - timedelta(minutes=1)
    for n in range(count):
        found.add_job(counted, "date", run_date=past, id=str(n), misfire_grace_time=None)
    started = time.perf_counter()
    found.start()
    done.wait(600)
    seconds = time.perf_counter() - started
    found.shutdown()
    return seconds


def store(count: int) -> float:
    """Seconds to store `count` future jobs and start the scheduler (then it stops)."""
    started = time.perf_counter()
    found = scheduler()
    first = datetime.now(UTC) + timedelta(days=30)
    for n in range(count):
        found.add_job(job, "date", run_date=first + timedelta(minutes=n), id=str(n))
    found.start()
    seconds = time.perf_counter() - started
    found.shutdown()
    return seconds


if __name__ == "__main__":
    what, number = sys.argv[1], int(sys.argv[2])
    sys.stdout.write(json.dumps({"seconds": (fire if what == "fire" else store)(number)}) + "\n")
