"""`mail_retention_months` in the organisation file: how long sent mail bodies are kept (AVG)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from app import org_file
from engine.errors import InvalidInput
from storage.tables import Organisation

FILE = """\
[[organisation]]
slug = "groningen"
name = "Adviesgroep Sociaal Domein Groningen"
{retention}
[[organisation.person]]
name = "Anna de Vries"
email = "anna@example.org"
roles = ["member"]
"""


def load(engine: Engine, tmp_path: Path, retention: str) -> int:
    path = tmp_path / "org.toml"
    path.write_text(FILE.format(retention=retention), encoding="utf-8")
    org_file.load(engine, path)
    with Session(engine) as session:
        org = session.exec(select(Organisation).where(Organisation.slug == "groningen")).one()
        return org.mail_retention_months


def test_the_retention_is_set_and_reset_to_the_default(sqlite_engine: Engine, tmp_path: Path) -> None:
    assert load(sqlite_engine, tmp_path, "mail_retention_months = 6\n") == 6
    assert load(sqlite_engine, tmp_path, "") == 24  # left out again: the default, two years


@pytest.mark.parametrize("value", ["0", "121", '"24"', "true", "1.5"])
def test_a_bad_retention_is_refused_with_its_line(sqlite_engine: Engine, tmp_path: Path,
                                                   value: str) -> None:
    with pytest.raises(InvalidInput, match="regel 4: 'mail_retention_months' moet een geheel getal"):
        load(sqlite_engine, tmp_path, f"mail_retention_months = {value}\n")
    with Session(sqlite_engine) as session:
        assert session.exec(select(Organisation).where(Organisation.slug == "groningen")).first() is None
