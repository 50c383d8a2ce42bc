"""Every `advies` command starts a fresh interpreter, so each imports only what it uses: the lists
start without the web server, the worker, migrations, the organisation editor or what sends
mail; the commands that need those still find them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.advies_cli import environment, run

#: Modules that `advies list` and `advies deadlines` never need.
NOT_FOR_LISTS = ("fastapi", "uvicorn", "web.app", "worker.main", "alembic", "app.org_edit",
                 "app.org_file", "app.service", "app.mailer", "icalendar", "jinja2")
#: Runs one command as the console script does and prints the modules it imported.
MODULES_AFTER = """
import json, sys
from cli.entry import main
sys.argv = ["advies", *sys.argv[1:]]
try:
    main()
except SystemExit as done:
    code = done.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def test_the_lists_import_neither_the_web_nor_the_worker_nor_mail(tmp_path: Path) -> None:
    env = environment(tmp_path)
    assert run(env, "init", "--demo").returncode == 0
    for command in ("list", "deadlines"):
        found = _imported(env, command, "--json")
        assert found["code"] == 0, found
        assert [m for m in NOT_FOR_LISTS if m in found["modules"]] == []


def test_the_commands_that_need_them_still_import_them(tmp_path: Path) -> None:
    env = environment(tmp_path)
    assert run(env, "init", "--demo").returncode == 0
    exported = run(env, "org", "export", "demo")
    assert exported.returncode == 0, exported.stderr
    assert 'slug = "demo"' in exported.stdout
    listed = run(env, "list")
    assert listed.returncode == 0, listed.stderr
    assert "Geen trajecten gevonden." in listed.stdout
    refused = run(env, "serve", "--port", "0")
    assert refused.returncode == 2
    assert "Poort 0 bestaat niet" in refused.stderr


def _imported(env: dict[str, str], *args: str) -> dict[str, object]:
    return _child(MODULES_AFTER, env, *args)


def _child(code: str, env: dict[str, str], *args: str) -> dict[str, object]:
    """Run `code` in a fresh interpreter; the JSON on its last line."""
    done = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    found: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return found


#: Modules a worker's pass with nothing to do never needs: templates, the holiday calendar,
#: invitations, the web server, and the scheduler's clock (`--once` never starts it).
NOT_FOR_A_QUIET_PASS = ("fastapi", "starlette", "uvicorn", "web.app", "jinja2", "holidays", "icalendar",
                        "alembic", "apscheduler", "aiosmtplib")


def test_a_worker_pass_with_nothing_to_do_starts_without_templates_or_holidays(tmp_path: Path) -> None:
    env = environment(tmp_path)
    assert run(env, "init", "--demo").returncode == 0
    first = _imported(env, "worker", "--once")  # the week's digest: its templates are imported
    assert first["code"] == 0, first
    assert "jinja2" in first["modules"]
    quiet = _imported(env, "worker", "--once")
    assert quiet["code"] == 0, quiet
    assert [m for m in NOT_FOR_A_QUIET_PASS if m in quiet["modules"]] == []


#: What the console script leaves behind once its command ran.
COLLECTOR_AFTER = """
import gc, json, sys
from cli.entry import loading, main
sys.argv = ["advies", *sys.argv[1:]]
try:
    main()
except SystemExit:
    pass
after = {"enabled": gc.isenabled(), "frozen": gc.get_freeze_count(), "worker": "worker.main" in sys.modules}
gc.disable()
with loading():
    pass
print(json.dumps({**after, "stays_off": not gc.isenabled()}))
"""


def test_the_console_script_loads_with_the_collector_paused_then_turns_it_on(tmp_path: Path) -> None:
    """Start-up without the collector's rounds; afterwards the collector is on, the loaded
    modules are frozen, and `worker` had its own modules loaded the same way (no other command)."""
    env = environment(tmp_path)
    for command, loads_the_worker in (("worker", True), ("list", False)):
        found = _child(COLLECTOR_AFTER, env, command, "--help")
        assert found["enabled"] is True
        assert isinstance(found["frozen"], int)
        assert found["frozen"] > 10_000
        assert found["worker"] is loads_the_worker
        assert found["stays_off"] is True  # a collector that was off is left off
