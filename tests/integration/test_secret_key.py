"""Personal links cannot be forged (issue 7, point 1): no key written in the source, no weak or
empty key, `serve` and `worker` refuse to start without a strong one, the demo makes its own."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine

from app.service import Service
from engine import tokens
from settings import MIN_SECRET, SecretMissing, Settings
from tests.helpers import SECRETARIAT, member
from tests.integration.test_web_answer import YES, call, link, snapshot
from web.app import create_app

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

ADVIES = str(Path(sys.executable).parent / "advies")
#: The key earlier versions signed with when none was set: it is in the public source.
OLD_SOURCE_KEY = "alleen-voor-ontwikkeling-niet-in-productie"


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "ADVIES_DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}",
           "ADVIES_MAIL_DIR": str(tmp_path / "mail"), **extra}
    for name in ("ADVIES_NOW", "ADVIES_SMTP_URL", *(() if "ADVIES_SECRET_KEY" in extra
                                                      else ("ADVIES_SECRET_KEY",))):
        env.pop(name, None)
    return env


def advies(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ADVIES, *args], env=env, capture_output=True, text=True, timeout=60,
                          cwd=Path(env["ADVIES_MAIL_DIR"]).parent)


@pytest.mark.parametrize("command", [("serve", "--port", "8999"), ("worker", "--once")])
@pytest.mark.parametrize(("key", "said"), [(None, "ADVIES_SECRET_KEY is niet ingesteld"),
                                           ("", "te kort"), ("kort-geheim", "te kort")])
def test_serve_and_worker_refuse_to_start_without_a_strong_key(
        tmp_path: Path, command: tuple[str, ...], key: str | None, said: str) -> None:
    env = environment(tmp_path, **({} if key is None else {"ADVIES_SECRET_KEY": key}))
    assert advies(env, "init").returncode == 0  # no --demo: no key file either
    result = advies(env, *command)
    assert result.returncode == 2
    assert said in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "mail").exists()  # the worker did nothing


def test_the_demo_makes_its_own_key_once_beside_its_database(tmp_path: Path) -> None:
    env = environment(tmp_path)
    first = advies(env, "init", "--demo")
    assert first.returncode == 0, first.stderr
    key_file = tmp_path / "a.db.sleutel"
    key = key_file.read_text().strip()
    assert len(key) >= MIN_SECRET
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert advies(env, "init", "--demo").returncode == 0
    assert key_file.read_text().strip() == key  # kept: links already mailed stay valid
    worked = advies(env, "worker", "--once")
    assert worked.returncode == 0, worked.stderr


def test_an_explicit_key_wins_and_no_key_file_is_made(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'a.db'}",
                        secret_key=SecretStr("k" * MIN_SECRET))
    assert settings.make_demo_key() is False
    assert settings.signing_key() == "k" * MIN_SECRET
    assert not (tmp_path / "a.db.sleutel").exists()


def test_without_a_key_no_link_can_be_made(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'a.db'}", secret_key=None)
    with pytest.raises(SecretMissing, match="niet ingesteld"):
        settings.signing_key()


@pytest.fixture
def client(service: Service) -> TestClient:
    return TestClient(create_app(service))


def test_a_link_signed_with_the_old_source_key_is_refused(client: TestClient, service: Service,
                                                         sqlite_engine: Engine) -> None:
    tid = call(service)
    before = snapshot(service, sqlite_engine, tid)
    forged = tokens.issue(OLD_SOURCE_KEY, tid, 1, datetime.now(UTC) + timedelta(days=30))
    for attempt in (client.get(f"/antwoord/{forged}"), client.post(f"/antwoord/{forged}", data=YES)):
        assert attempt.status_code == 400
        assert "niet geldig" in attempt.text
    assert snapshot(service, sqlite_engine, tid) == before


@pytest.mark.parametrize("ids", [(2**63, 1), (1, 2**63), (1, -5), (0, 1), (10**30, 10**30)])
def test_an_id_out_of_range_in_a_genuine_token_is_a_400(client: TestClient, service: Service,
                                                       ids: tuple[int, int]) -> None:
    key = service.settings.signing_key()
    token = tokens.issue(key, ids[0], ids[1], datetime.now(UTC) + timedelta(days=30))
    assert client.get(f"/antwoord/{token}").status_code == 400
    assert client.post(f"/antwoord/{token}", data=YES).status_code == 400


def test_a_real_link_still_works(client: TestClient, service: Service, sqlite_engine: Engine) -> None:
    tid = call(service)
    path = link(sqlite_engine, tid, member("cor"))
    assert client.post(path, data=YES).status_code == 200
    assert member("cor") in service.show(tid)["data"]["signups"]
    assert SECRETARIAT not in service.show(tid)["data"]["signups"]
