"""The README's Midden-Drenthe walk works as written: the commands are read from the README and
run in a shell, after `advies init --demo` and `advies demo` as `make run` does."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

README = Path(__file__).resolve().parents[2] / "README.md"


def walk() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("### A Midden-Drenthe signal, step by step", 1)[1]
    found = re.search(r"```sh\n(.*?)```", section, re.S)
    assert found is not None
    return found.group(1)


def a_shell_zone_on_another_day() -> str:
    """A time zone whose date differs from Amsterdam's right now: the walk must not depend on the
    shell's own zone (a CI machine on UTC between 23:00 and 24:00 once made it fail)."""
    amsterdam = datetime.now(ZoneInfo("Europe/Amsterdam")).date()
    for zone in ("Pacific/Kiritimati", "Pacific/Pago_Pago"):
        if datetime.now(ZoneInfo(zone)).date() != amsterdam:
            return zone
    raise AssertionError("UTC+14 and UTC-11 cannot both share Amsterdam's date")


def test_the_readme_carries_a_signal_from_theme_group_to_council(tmp_path: Path) -> None:
    env = {**os.environ, "ADVIES_DATABASE_URL": f"sqlite:///{tmp_path / 'advies.db'}",
           "ADVIES_MAIL_DIR": str(tmp_path / "mail"),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("ADVIES_NOW", None)
    env["TZ"] = a_shell_zone_on_another_day()
    for setup in (["advies", "init", "--demo"], ["advies", "demo"]):
        subprocess.run(setup, env=env, cwd=tmp_path, check=True, capture_output=True, timeout=120)
    script = tmp_path / "walk.sh"
    script.write_text("set -e\n" + walk(), encoding="utf-8")
    result = subprocess.run(["bash", str(script)], env=env, cwd=tmp_path, capture_output=True,
                            text=True, timeout=180, check=False)
    assert result.returncode == 0, result.stderr
    assert "Stap: Afgesloten (closed)" in result.stdout
    shown = subprocess.run(["advies", "show", "7", "--json"], env=env, cwd=tmp_path,
                           capture_output=True, text=True, timeout=60, check=True).stdout
    assert '"flow": "md_signal"' in shown
    assert '"state": "closed"' in shown
