"""The protocol of the kept sweeping children (benchmarks.children.sweep, .bare_sweep).

A child reads one line at a time from stdin, `URL GO`, prepares its sweep of URL, says `ready`,
waits until the file GO exists, sweeps once, and prints its start and end (wall clock,
comparable between processes) and report as one line of JSON. Kept for the whole benchmark, so
that starting Python costs nothing in the runs.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def when_told(go: Path, work: Callable[[], T]) -> tuple[float, float, T]:
    """Say `ready`, wait until the file `go` exists, do the work: its start, end and result."""
    say("ready")
    while not go.exists():
        time.sleep(0.002)
    started = time.time()
    result = work()
    return started, time.time(), result


def serve(sweep: Callable[[str, Path], dict[str, object]]) -> None:
    """Sweep each `URL GO` read from stdin, printing each outcome as a line of JSON."""
    for command in sys.stdin:
        url, go = command.split()
        say(json.dumps(sweep(url, Path(go))))


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
