"""A worker process that sweeps the databases it is given: `python -m benchmarks.children.sweep`.

Per line `URL GO` on stdin (benchmarks.children.protocol): makes a worker on URL (the other
settings from ADVIES_*), connects, says `ready`, waits for GO, sweeps once and prints its start,
end and report.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.children.protocol import serve, when_told
from settings import Settings
from worker.main import Worker


def sweep(url: str, go: Path) -> dict[str, object]:
    worker = Worker(Settings(database_url=url))
    try:
        with worker.engine.connect():
            pass
        started, ended, report = when_told(go, worker.sweep_job)
    finally:
        worker.close()
    return {"started": started, "ended": ended, "report": report.as_dict() if report else None}


if __name__ == "__main__":
    serve(sweep)
