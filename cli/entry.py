"""The `advies` console script: the command line loaded with the garbage collector paused.

Loading the command line and what a command imports makes some 100,000 objects and no garbage;
the collector's rounds meanwhile cost about a tenth of a second of every command's start-up.
What was loaded is then frozen: it lives as long as the process, so later collections (a
worker's pass) no longer walk it (a full collection over it took 40-70 ms). Only this entry
point does so: the command functions themselves leave the collector alone (tests run them in
one long process)."""

from __future__ import annotations

import gc
import importlib
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

#: What a command imports when it runs anyway; loaded here, with the rest, while the collector
#: is paused. `advies worker` is started by cron or a service manager, often.
COMMAND_MODULES = {"worker": ("worker.main",)}


@contextmanager
def loading() -> Iterator[None]:
    """Import with the collector paused; then freeze what was loaded and go on as before."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


def command_of(argv: Sequence[str]) -> str | None:
    """The command named on the command line (`advies worker --once`: worker), if any."""
    return next((arg for arg in argv[1:] if not arg.startswith("-")), None)


def main() -> None:
    with loading():
        from cli.main import app

        for module in COMMAND_MODULES.get(command_of(sys.argv) or "", ()):
            importlib.import_module(module)
    app()
