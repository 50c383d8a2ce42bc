"""Running `advies` in tests: as a real process (as a user does), or in this process through the
console script's own entry (`Advies.__call__` → `run_safely`), which is much faster for the
many variations of one failure."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
import typer

from cli.context import run_safely
from cli.main import app

ADVIES = str(Path(sys.executable).parent / "advies")
SECRETARIAT = "secretariaat@example.org"
START = ("start", "asked_advice", "--org", "demo", "--title", "Minimabeleid", "--actor", SECRETARIAT,
         "--set", "policy_adviser=beleid@example.org")
#: English that typer, Click, pydantic or tomllib would have shown.
ENGLISH = ("Error", "Invalid value", "Missing ", "No such", "Got unexpected", "Expected",
           "Input should", "Traceback")


def environment(folder: Path, database: str = "a.db") -> dict[str, str]:
    values = {**os.environ, "ADVIES_DATABASE_URL": f"sqlite:///{folder / database}",
              "ADVIES_MAIL_DIR": str(folder / "mail"), "ADVIES_NOW": "2026-03-24T09:30:00+01:00",
              "ADVIES_SECRET_KEY": "cli-proef-geheim-" + "x" * 32}
    for name in ("ADVIES_SMTP_URL", "ADVIES_DEBUG"):
        values.pop(name, None)
    return values


def run(env: dict[str, str], *args: str | bytes, timeout: float = 60,
        preexec_fn: Callable[[], None] | None = None) -> subprocess.CompletedProcess[str]:
    """`advies ARGS` as a process; bytes arguments go to it as they are (not UTF-8, say)."""
    argv = [os.fsencode(ADVIES), *(a if isinstance(a, bytes) else a.encode() for a in args)]
    done = subprocess.run(argv, env=env, capture_output=True, timeout=timeout,
                          cwd=Path(env["ADVIES_MAIL_DIR"]).parent, preexec_fn=preexec_fn)
    return subprocess.CompletedProcess(done.args, done.returncode,
                                       done.stdout.decode("utf-8", "replace"),
                                       done.stderr.decode("utf-8", "replace"))


def set_environment(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    """This process as `run(env, ...)` would start one: its ADVIES_* and its folder."""
    monkeypatch.chdir(Path(env["ADVIES_MAIL_DIR"]).parent)
    for name in ("ADVIES_SMTP_URL", "ADVIES_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        if name.startswith("ADVIES_"):
            monkeypatch.setenv(name, value)


def in_process(argv: Sequence[str | bytes]) -> int:
    """`advies ARGV` through the console script's own entry, in this process: it must return an
    exit code, never raise."""
    as_text = [os.fsdecode(a) if isinstance(a, bytes) else a for a in argv]
    return run_safely(typer.main.get_command(app), as_text)


def one_dutch_line(code: int, err: str, expected: int, words: str) -> None:
    """Exit `expected`, and on stderr one line 'Fout: …' that says `words`, with no English."""
    assert code == expected, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("Fout: "), err
    assert words in lines[0], err
    assert not any(word in err for word in ENGLISH), err
