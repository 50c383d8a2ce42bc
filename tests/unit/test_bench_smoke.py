"""The benchmark suite (`make bench`, issue 9) runs: a tiny mode of it writes every figure with
its reference from the same run and the ratio between them, on SQLite and on PostgreSQL.

BENCH_TINY=1 measures nothing worth reading (sizes of about 20, one run); it proves that every
benchmark still runs against the product as it is. The two databases run side by side, each in
its own process; PostgreSQL is skipped with the reason when it cannot be reached.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCHES = {"events", "calls", "sweep", "worker", "lists", "delivery", "scale", "import"}
FIGURES = {
    "plain event: events/s", "plain event: p99 latency", "plain event vs naive peer",
    "ceiling: bare commits vs naive peer",
    "call_participants to 50 members",
    "due deadlines swept, 1 worker", "due deadlines swept, 2 workers",
    "sweep vs the same work with bare parts", "ceiling: bare parts vs 3,000/s",
    "worker start-up and first pass", "worker peak RSS", "worker pass vs 20 pending",
    "advies list: first page", "advies list: peak RSS",
    "advies deadlines: first page", "advies deadlines: peak RSS", "web overview: first page",
    "delivery to aiosmtpd, 1 connection(s)", "delivery to aiosmtpd, 10 connection(s)",
    "delivery vs bare guaranteed sender, 1 connection(s)",
    "delivery vs bare guaranteed sender, 10 connection(s)",
    "ceiling: bare guaranteed sender vs aiosmtplib, 1 connection(s)",
    "ceiling: bare guaranteed sender vs aiosmtplib, 10 connection(s)",
    "plain event with 40 trajectories",
    "advies import of a spreadsheet",
}
KINDS = ("sqlite", "postgresql")


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Both databases' tiny runs, started together; their results.json, read back."""
    folder = tmp_path_factory.mktemp("bench")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BENCH_")} | {"BENCH_TINY": "1"}
    runs = {kind: subprocess.Popen(
        [sys.executable, "-m", "benchmarks", "--db", kind, "--out", str(folder / f"{kind}.json")],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for kind in KINDS}
    found = {}
    for kind, run in runs.items():
        output, _ = run.communicate(timeout=180)
        assert run.returncode == 0, output[-4000:]
        found[kind] = json.loads((folder / f"{kind}.json").read_text())
    return found


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_every_figure_has_its_reference_and_ratio(results: dict[str, dict[str, Any]], kind: str) -> None:
    found = results[kind]
    if kind in found["skipped"]:
        if os.environ.get("ADVIES_REQUIRE_POSTGRES"):
            pytest.fail(f"PostgreSQL is vereist (ADVIES_REQUIRE_POSTGRES): {found['skipped'][kind]}")
        pytest.skip(found["skipped"][kind])
    assert found["mode"] == "tiny"
    assert found["errors"] == []
    figures = found["figures"]
    assert {f["bench"] for f in figures} == BENCHES
    assert {f["name"] for f in figures} == FIGURES
    for figure in figures:
        assert figure["database"] == kind
        assert figure["size"] > 0
        assert figure["unit"]
        assert figure["command"].endswith(f"-m benchmarks {figure['bench']} --db {kind}")
        assert figure["reference"]["name"]
        assert math.isfinite(figure["value"]), figure
        assert math.isfinite(figure["reference"]["value"]), figure
        assert figure["reference"]["value"] > 0, figure
        assert math.isclose(figure["ratio"], _ratio(figure), rel_tol=1e-9), figure
        assert figure["met"] in (True, False, None)
        assert (figure["met"] is None) == (figure["target"] is None), figure


def test_each_benchmark_says_where_its_time_went(results: dict[str, dict[str, Any]]) -> None:
    found = results["sqlite"]
    timings = {t["bench"]: t for t in found["benchmarks"]}
    assert set(timings) == BENCHES
    assert found["templates_seconds"] >= 0
    for timing in timings.values():
        assert 0 <= timing["setup_seconds"] <= timing["seconds"], timing
        assert 0 <= timing["bulk_load_seconds"] <= timing["seconds"], timing
    worker = timings["worker"]
    assert worker["rows_loaded"] > 0
    assert {"sqlite: fill 40 pending", "sqlite: first pass, 40 pending", "sqlite: run 1, both passes",
            "APScheduler storing 40 jobs"} <= set(worker["phases"])
    setting_up = sum(s for phase, s in worker["phases"].items() if "fill" in phase or "first pass" in phase)
    assert math.isclose(worker["setup_seconds"], setting_up, abs_tol=0.1)


def test_the_machine_is_described(results: dict[str, dict[str, Any]]) -> None:
    machine = results["sqlite"]["machine"]
    assert machine["cores"] >= 1
    assert machine["python"].startswith("3.")
    assert machine["sqlite"]


def _ratio(figure: dict[str, Any]) -> float:
    """The ratio as the suite defines it: the median of the runs' ratios (one run here)."""
    run = figure["runs"][0]
    return float(run["value"] / run["reference"])
