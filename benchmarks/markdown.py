"""`python -m benchmarks.markdown [bench/results.json]`: a run as the tables of BENCHMARKS.md.

Prints the machine and one table of the figures, each with its reference from the same run,
the ratio, the target and the command that reproduces it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from benchmarks.harness import ROOT, show

MET = {True: "yes", False: "**no**", None: "–"}


def render(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [
        f"Run of {results['started_at']}, mode `{results['mode']}`, {results['runs']} run(s) per figure, "
        f"{results['seconds']:.0f} s in all. Machine: {m['cpu']}, {m['cores']} cores, "
        f"{m['memory_gb']} GB RAM, Python {m['python']}, SQLite {m['sqlite']}, "
        f"PostgreSQL {m['postgresql'] or 'not reached'}.{_load(results)}",
        "",
        "| figure | db | size | value | reference (same run) | ratio | target | met | command |",
        "| --- | --- | ---: | ---: | --- | ---: | --- | --- | --- |",
    ]
    for f in results["figures"]:
        ref = f["reference"]
        lines.append(f"| {f['name']} | {f['database']} | {f['size']:,} | {show(f['value'], f['unit'])} | "
                     f"{ref['name']}: {show(ref['value'], f['unit'])} | {f['ratio']:.2f}× | "
                     f"{f['target'] or ''} | {MET[f['met']]} | `{f['command']}` |")
    lines += [f"| skipped: {reason} | {kind} | | | | | | | |" for kind, reason in results["skipped"].items()]
    lines += [f"| failed: {e['error']} | {e['bench']} | | | | | | | |" for e in results["errors"]]
    return "\n".join(lines) + "\n"


def _load(results: dict[str, Any]) -> str:
    load = results.get("load_average")
    return f" Load average at the start and end: {load['start']:.1f}, {load['end']:.1f}." if load else ""


if __name__ == "__main__":
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "bench" / "results.json"
    sys.stdout.write(render(json.loads(path.read_text())))
