"""What every benchmark shares: the mode and its sizes, a figure beside its reference, timing.

A figure is measured `runs` times; each run measures the product and its reference back to back,
so the ratio of a run compares two numbers taken on the same machine at the same moment (these
machines drift by a third between runs). The figure's value and reference are the medians of the
runs, its ratio the median of the runs' ratios (for a p95 figure: the 95th percentiles, and
their ratio).
"""

from __future__ import annotations

import gc
import math
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.databases import Databases

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Mode:
    """tiny (the smoke test), small (the default) or full (the issue's sizes)."""

    name: str
    runs: int

    def size(self, tiny: int, small: int, full: int) -> int:
        return {"tiny": tiny, "small": small, "full": full}[self.name]

    @staticmethod
    def usual_runs(name: str) -> int:
        return 1 if name == "tiny" else 3

    @property
    def env(self) -> str:
        """What to put before the command to reproduce a figure in this mode."""
        found = {"tiny": "BENCH_TINY=1 ", "small": "", "full": "BENCH_FULL=1 "}[self.name]
        return found + ("" if self.runs == self.usual_runs(self.name) else f"BENCH_RUNS={self.runs} ")


def mode_from_env() -> Mode:
    """BENCH_TINY=1: tiny, one run; BENCH_FULL=1: full; else small; BENCH_RUNS=N: N runs."""
    name = "tiny" if _flag("BENCH_TINY") else "full" if _flag("BENCH_FULL") else "small"
    return Mode(name, max(1, int(os.environ.get("BENCH_RUNS") or Mode.usual_runs(name))))


@dataclass
class Context:
    """What a benchmark gets: the mode, fresh databases of the kinds to measure, a scratch folder."""

    mode: Mode
    dbs: Databases
    kinds: list[str]
    folder: Path
    say: Callable[[str], None]
    #: Seconds of each phase a benchmark timed (`phase`), in the order they ran.
    phases: dict[str, float] = field(default_factory=dict)
    #: Of those, the phases that set up data (unmeasured), by name.
    setup: set[str] = field(default_factory=set)

    @contextmanager
    def phase(self, name: str, *, setup: bool = False) -> Iterator[None]:
        """Time a phase of the benchmark (a phase of the same name adds up); said when done and
        written to results.json, so that a slow run shows where its time went."""
        began = time.perf_counter()
        try:
            yield
        finally:
            seconds = time.perf_counter() - began
            self.phases[name] = self.phases.get(name, 0.0) + seconds
            if setup:
                self.setup.add(name)
            self.say(f"  {name}: {seconds:.1f} s")

    @property
    def setup_seconds(self) -> float:
        return sum(self.phases[name] for name in self.setup)

    def command(self, bench: str, database: str) -> str:
        """The command that reproduces the figures of one benchmark on one database."""
        return f"{self.mode.env}.venv/bin/python -m benchmarks {bench} --db {database}"


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "no", "false")


@dataclass(frozen=True)
class Target:
    """A target of the issue: its words, and the test of a figure's value and ratio."""

    text: str
    test: Callable[[float, float], bool]


def ratio_at_least(minimum: float, words: str = "") -> Target:
    return Target(words or f"≥ {minimum:g}× the reference", lambda _value, ratio: ratio >= minimum)


def ratio_at_most(maximum: float, words: str = "") -> Target:
    return Target(words or f"≤ {maximum:g}× the reference", lambda _value, ratio: ratio <= maximum)


def value_at_least(minimum: float, words: str) -> Target:
    return Target(words, lambda value, _ratio: value >= minimum)


def value_at_most(maximum: float, words: str) -> Target:
    return Target(words, lambda value, _ratio: value <= maximum)


def both(first: Target, second: Target) -> Target:
    return Target(f"{first.text}, and {second.text}",
                  lambda value, ratio: first.test(value, ratio) and second.test(value, ratio))


@dataclass
class Figure:
    """One measured figure beside its reference from the same runs."""

    name: str
    database: str
    size: int
    unit: str
    runs: list[tuple[float, float]]  # (value, reference) per run
    reference: str
    target: Target | None = None
    command: str = ""
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    statistic: str = "median"  # or "p95": value and reference are the 95th percentiles of the runs
    bench: str = ""  # the benchmark that measured it (set by the suite)

    @property
    def value(self) -> float:
        return self._summary([v for v, _ in self.runs])

    @property
    def reference_value(self) -> float:
        return self._summary([r for _, r in self.runs])

    @property
    def ratio(self) -> float:
        if self.statistic == "p95":
            return self.value / self.reference_value if self.reference_value else math.inf
        return statistics.median(v / r if r else math.inf for v, r in self.runs)

    def _summary(self, values: list[float]) -> float:
        return percentile(values, 0.95) if self.statistic == "p95" else statistics.median(values)

    @property
    def met(self) -> bool | None:
        return None if self.target is None else self.target.test(self.value, self.ratio)

    def as_dict(self) -> dict[str, Any]:
        return {
            "bench": self.bench, "name": self.name, "database": self.database, "size": self.size,
            "value": self.value, "unit": self.unit,
            "reference": {"name": self.reference, "value": self.reference_value, "unit": self.unit},
            "ratio": self.ratio, "statistic": self.statistic,
            "target": self.target.text if self.target else None, "met": self.met,
            "runs": [{"value": v, "reference": r} for v, r in self.runs],
            "command": self.command, "note": self.note, **({"extra": self.extra} if self.extra else {}),
        }


def show(value: float, unit: str) -> str:
    """A value for people: three significant digits or so, with its unit."""
    digits = 0 if value >= 100 else 1 if value >= 10 else 2 if value >= 0.1 else 3
    return f"{value:,.{digits}f} {unit}"


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (p99: share 0.99) of at least one value."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def timed_each(items: Sequence[Any], action: Callable[[Any], object]) -> tuple[float, list[float]]:
    """Run `action` on every item; returns the total seconds and the seconds of each. The garbage
    of the setup is collected first, so that it does not count."""
    gc.collect()
    latencies = []
    started = time.perf_counter()
    for item in items:
        before = time.perf_counter()
        action(item)
        latencies.append(time.perf_counter() - before)
    return time.perf_counter() - started, latencies


@dataclass
class Finished:
    """A finished child process: its output, wall time, peak RSS and when each line arrived."""

    stdout: str
    stderr: str
    returncode: int
    seconds: float
    peak_mb: float
    line_times: list[float]

    def check(self, what: str) -> Finished:
        if self.returncode != 0:
            raise RuntimeError(f"{what} failed ({self.returncode}): {self.stderr[-2000:]}")
        return self


def run_child(args: Sequence[str], env: dict[str, str], cwd: Path, timeout: float = 1800) -> Finished:
    """Run a child process, timed from launch, with its peak RSS (benchmarks.children.rss) and
    the moment each line of its output arrived."""
    peak = cwd / f"peak-{time.monotonic_ns()}"
    started = time.perf_counter()
    child = subprocess.Popen(python_child("rss", str(peak), *args), env=env, cwd=cwd,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert child.stdout is not None
    err = _drain_in_background(child.stderr)
    lines, line_times = [], []
    alarm = threading.Timer(timeout, child.kill)
    alarm.start()
    try:
        for line in child.stdout:
            lines.append(line)
            line_times.append(time.perf_counter() - started)
        child.wait(timeout)
    finally:
        alarm.cancel()
        if child.poll() is None:
            child.kill()
            child.wait()
    seconds = time.perf_counter() - started
    peak_kb = int(peak.read_text()) if peak.exists() else 0
    peak.unlink(missing_ok=True)
    return Finished("".join(lines), err(), child.returncode, seconds, peak_kb / 1024, line_times)


def _drain_in_background(stream: Any) -> Callable[[], str]:
    """Read a pipe in a thread (a full stderr pipe must never block the child)."""
    chunks: list[str] = []
    reader = threading.Thread(target=lambda: chunks.extend(stream), daemon=True)
    reader.start()

    def result() -> str:
        reader.join()
        return "".join(chunks)

    return result


def advies() -> list[str]:
    """The real console script beside this interpreter (as `make` installs it)."""
    script = Path(sys.executable).parent / "advies"
    return [str(script)] if script.exists() else [sys.executable, "-c", "from cli.entry import main; main()"]


def python_child(name: str, *args: str) -> list[str]:
    """The command that runs benchmarks.children.`name` in a fresh interpreter."""
    return [sys.executable, "-m", f"benchmarks.children.{name}", *args]
