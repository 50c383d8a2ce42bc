"""The organisation file's own words, groups and flows (DESIGN.md §3): loaded, refused with
their line, and used."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from app import directory, org_file
from app.service import Service
from engine.errors import InvalidInput, NotAllowed
from storage.tables import Organisation, Trajectory

MD = """\
[[organisation]]
slug = "midden-drenthe"
name = "Adviesraad Sociaal Domein Midden-Drenthe"
flows = ["md_signal", "md_asked_advice"]
report_term = "5w"

[organisation.words]
council = "Adviesraad Sociaal Domein"
member = "lid"
group = "themagroep"

[[organisation.person]]
name = "Aaltje"
email = "aaltje@example.org"
roles = ["member"]

[[organisation.person]]
name = "Harm"
email = "harm@example.org"
roles = ["member"]

[[organisation.person]]
name = "Griffie"
email = "griffie@example.org"
roles = ["council_clerk"]

[[organisation.group]]
name = "Participeren"
members = ["aaltje@example.org", "harm@example.org"]
chair = "harm@example.org"
"""


def load(engine: Engine, tmp_path: Path, text: str) -> None:
    path = tmp_path / "org.toml"
    path.write_text(text, encoding="utf-8")
    org_file.load(engine, path)


def md(engine: Engine) -> Organisation:
    with Session(engine) as session:
        return session.exec(select(Organisation).where(Organisation.slug == "midden-drenthe")).one()


def test_words_groups_flows_and_terms_load(sqlite_engine: Engine, tmp_path: Path) -> None:
    load(sqlite_engine, tmp_path, MD)
    settings = directory.settings_of(md(sqlite_engine))
    assert settings.flows == ("md_signal", "md_asked_advice")
    assert (settings.words.member, settings.words.members, settings.words.group) == (
        "lid", "leden", "themagroep")
    assert settings.words.count(1) == "1 lid"
    assert settings.words.count(3) == "3 leden"
    group = settings.groups["Participeren"]
    assert (group.members, group.chair) == (("aaltje@example.org", "harm@example.org"),
                                            "harm@example.org")
    assert settings.terms["report_term"] == "5w"
    assert settings.terms["alderman_meeting_term"] == "6w"  # the default


def test_the_demo_speaks_groningens_words(sqlite_engine: Engine) -> None:
    with Session(sqlite_engine) as session:
        demo = session.exec(select(Organisation).where(Organisation.slug == "demo")).one()
    words = directory.settings_of(demo).words
    assert (words.member, words.members, words.group, words.secretariat) == (
        "deelnemer", "deelnemers", "projectgroep", "stuurgroep")


@pytest.mark.parametrize(("change", "message"), [
    (('flows = ["md_signal", "md_asked_advice"]', 'flows = ["md_signal", "brainstorm"]'),
     "regel 4: onbekende stroom 'brainstorm'"),
    (('flows = ["md_signal", "md_asked_advice"]', 'flows = []'), "regel 4: 'flows' moet"),
    (('group = "themagroep"', 'group = "themagroep"\nkleur = "blauw"'),
     "regel 11: onbekende sleutel 'kleur'"),
    (('members = ["aaltje@example.org", "harm@example.org"]',
      'members = ["aaltje@example.org", "onbekend@example.org"]'),
     "regel 29: onbekend@example.org staat niet bij de personen"),
    (('chair = "harm@example.org"', 'chair = "griffie@example.org"'),
     "regel 30: 'chair' moet een van de leden"),
    (('report_term = "5w"', 'report_term = "vijf weken"'), "regel 5: 'report_term'"),
    (('name = "Participeren"', 'name = "Participeren\\nBcc: x"'), "regel 28: .*regelovergang"),
    (('roles = ["council_clerk"]', 'roles = ["griffier"]'), "regel 25: onbekende rol 'griffier'"),
])
def test_bad_words_groups_and_flows_name_their_line(sqlite_engine: Engine, tmp_path: Path,
                                                   change: tuple[str, str], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        load(sqlite_engine, tmp_path, MD.replace(*change))
    with Session(sqlite_engine) as session:
        assert session.exec(select(Organisation).where(
            Organisation.slug == "midden-drenthe")).first() is None


def test_a_group_named_twice_is_refused(sqlite_engine: Engine, tmp_path: Path) -> None:
    twice = MD + '\n[[organisation.group]]\nname = "participeren"\nmembers = ["aaltje@example.org"]\n'
    with pytest.raises(InvalidInput, match="'participeren' staat er twee keer in"):
        load(sqlite_engine, tmp_path, twice)


def test_a_flow_the_organisation_does_not_use_is_refused(service: Service, sqlite_engine: Engine,
                                                         tmp_path: Path) -> None:
    load(sqlite_engine, tmp_path, MD)
    with pytest.raises(NotAllowed, match=r"gebruikt 'Gevraagd advies' \(asked_advice\) niet\. "
                                         r"Deze organisatie gebruikt: md_signal, md_asked_advice\."):
        service.start("asked_advice", "midden-drenthe", "Iets", "harm@example.org",
                      {"policy_adviser": "harm@example.org"})
    with Session(sqlite_engine) as session:
        assert session.exec(select(Trajectory)).first() is None
