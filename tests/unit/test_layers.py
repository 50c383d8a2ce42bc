"""The layers of DESIGN.md §5 hold: import-linter's contracts (pyproject.toml) are kept, and
they are real: a copy of the project with one crossed arrow breaks them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("engine", "flows", "app", "settings", "storage", "notifications", "cli", "web", "worker")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(where: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=where, capture_output=True,
                          text=True, timeout=120, check=False)


def test_the_layer_contracts_are_kept() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.fixture(scope="module")
def copy_of_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("project")
    shutil.copy(ROOT / "pyproject.toml", where / "pyproject.toml")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, where / package,
                        ignore=shutil.ignore_patterns("__pycache__", "*.j2", "*.html"))
    return where


@pytest.mark.parametrize(("module", "crossing"), [
    ("engine/terms.py", "import storage.tables"),
    ("engine/terms.py", "import sqlalchemy"),
    ("flows/_common.py", "import app.service"),
    ("flows/_common.py", "import settings"),
    ("storage/db.py", "import flows"),
    ("notifications/render.py", "import app.writer"),
    ("app/directory.py", "import cli.context"),
])
def test_a_crossed_layer_breaks_a_contract(copy_of_project: Path, module: str, crossing: str) -> None:
    path = copy_of_project / module
    original = path.read_text(encoding="utf-8")
    path.write_text(original + f"\n{crossing}  # a crossed arrow\n", encoding="utf-8")
    try:
        result = lint_imports(copy_of_project)
    finally:
        path.write_text(original, encoding="utf-8")
    assert result.returncode != 0
    assert "BROKEN" in result.stdout
