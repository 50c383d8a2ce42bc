"""The organisation file: every problem is named with its line, and nothing half-written."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from app import org_file
from engine.errors import InvalidInput
from storage.tables import Organisation, Person

GOOD = """\
[[organisation]]
slug = "groningen"
name = "Adviesgroep Sociaal Domein Groningen"
advice_term = "6w"
response_term = "8w"
signup_window = "10d"
group_min = 5
group_max = 10
recess = ["07-01", "08-31"]

[[organisation.person]]
name = "Anna de Vries"
email = "Anna@Example.org"
roles = ["member", "chair"]
"""


def test_a_good_file_loads(sqlite_engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "org.toml"
    path.write_text(GOOD)
    org_file.load(sqlite_engine, path)
    with Session(sqlite_engine) as session:
        org = session.exec(select(Organisation).where(Organisation.slug == "groningen")).one()
        assert (org.response_term, org.recess_start, org.recess_end) == ("8w", "07-01", "08-31")
        anna = session.exec(select(Person).where(Person.organisation_id == org.id)).one()
        assert (anna.email, anna.roles) == ("anna@example.org", ["member", "chair"])


def test_people_left_out_lose_their_roles(sqlite_engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "org.toml"
    path.write_text(GOOD)
    org_file.load(sqlite_engine, path)
    path.write_text(GOOD.split("[[organisation.person]]")[0])
    org_file.load(sqlite_engine, path)
    with Session(sqlite_engine) as session:
        org = session.exec(select(Organisation).where(Organisation.slug == "groningen")).one()
        anna = session.exec(select(Person).where(Person.organisation_id == org.id)).one()
        assert anna.roles == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("group_max = 10", "group_max = 10\ncolour = \"blue\""), "regel 9: onbekende sleutel 'colour'"),
        (("advice_term = \"6w\"", "advice_term = \"6x\""), "regel 4: 'advice_term'"),
        (("group_min = 5", "group_min = 12"), "regel 7: 'group_min' mag niet groter"),
        (("email = \"Anna@Example.org\"", "email = \"anna\""), "regel 13: 'anna' is geen geldig"),
        (("name = \"Anna de Vries\"", "name = \"Anna\\nBcc: x\""), "regel 12: .*regelovergang"),
        (("roles = [\"member\", \"chair\"]", "roles = [\"wizard\"]"), "regel 14: onbekende rol"),
        (("recess = [\"07-01\", \"08-31\"]", "recess = [\"13-01\", \"08-31\"]"), "regel 9: 'recess'"),
        (("slug = \"groningen\"", "slug = \"Gron ingen\""), "regel 2: 'slug'"),
        (("group_max = 10", "group_max = "), r"geen geldige TOML \(regel 8, kolom"),
    ],
)
def test_bad_files_name_the_line(sqlite_engine: Engine, tmp_path: Path, change, message) -> None:
    path = tmp_path / "org.toml"
    path.write_text(GOOD.replace(*change))
    with pytest.raises(InvalidInput, match=message):
        org_file.load(sqlite_engine, path)
    with Session(sqlite_engine) as session:
        assert session.exec(select(Organisation).where(Organisation.slug == "groningen")).first() is None


def test_a_missing_file(sqlite_engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"Kan .* niet lezen"):
        org_file.load(sqlite_engine, tmp_path / "nope.toml")
