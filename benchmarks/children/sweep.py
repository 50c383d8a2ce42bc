"""A worker process that sweeps the databases it is given: `python -m benchmarks.children.sweep`.

Reads one line at a time from stdin, `URL GO`: makes a worker on URL (the other settings from
ADVIES_*), connects, says `ready`, waits until the file GO exists, sweeps once, and prints its
start and end (wall clock, comparable between processes) and report as one line of JSON. Kept
for the whole benchmark, so that starting Python costs nothing in the runs.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from settings import Settings
from worker.main import Worker


def sweep(url: str, go: Path) -> dict[str, object]:
    worker = Worker(Settings(database_url=url))
    try:
        with worker.engine.connect():
            pass
        _say("ready")
        while not go.exists():
            time.sleep(0.002)
        started = time.time()
        report = worker.sweep_job()
        ended = time.time()
    finally:
        worker.close()
    return {"started": started, "ended": ended, "report": report.as_dict() if report else None}


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    for command in sys.stdin:
        url, go = command.split()
        _say(json.dumps(sweep(url, Path(go))))
