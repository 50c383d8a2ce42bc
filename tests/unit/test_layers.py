"""The layers of DESIGN.md §5 hold: the pure core and the flows import no I/O packages."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
IO_PACKAGES = {"sqlmodel", "sqlalchemy", "jinja2", "aiosmtplib", "storage", "notifications",
               "fastapi", "apscheduler", "cli", "web", "worker"}


def imported(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def pure_modules() -> list[Path]:
    return sorted((ROOT / "engine").glob("*.py")) + sorted((ROOT / "flows").glob("*.py"))


@pytest.mark.parametrize("path", pure_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_pure_modules_import_no_io(path: Path) -> None:
    assert imported(path) & IO_PACKAGES == set()


#: What mail delivery may use of the engine: the clock port, the error types, the settings.
SHARED_WITH_NOTIFICATIONS = {"engine.clock", "engine.errors", "engine.runtime.settings"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.module for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0}


@pytest.mark.parametrize("path", sorted((ROOT / "notifications").glob("*.py")),
                         ids=lambda p: p.name)
def test_notifications_do_not_drive_flows(path: Path) -> None:
    assert imported(path) & {"flows", "cli", "web", "worker"} == set()
    engine = {m for m in imported_modules(path) if m.split(".")[0] == "engine"}
    assert engine <= SHARED_WITH_NOTIFICATIONS
