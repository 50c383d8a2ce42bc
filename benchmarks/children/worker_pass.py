"""One worker pass, as `advies worker --once` makes it: `python -m benchmarks.children.worker_pass`.

Imports the worker, makes it from the ADVIES_* settings, runs one pass (sweep, digest, delivery,
retention) and prints the seconds of the pass and its report as JSON. The parent times the whole
process (start-up) and reads its peak RSS.
"""

from __future__ import annotations

import json
import sys
import time

from settings import Settings
from worker.main import Worker


def main() -> None:
    worker = Worker(Settings())
    started = time.perf_counter()
    report = worker.once()
    seconds = time.perf_counter() - started
    worker.close()
    sys.stdout.write(json.dumps({"pass": seconds, "report": report.as_dict()}) + "\n")


if __name__ == "__main__":
    main()
