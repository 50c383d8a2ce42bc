"""The organisation changed from the web: its name, people and roles, groups, terms, words, the
flows it uses, its recess and reminders; and the organisation as the text of its file (`file_text`).

Every change goes the way `advies org load` goes, so that the web can never write what the file
may not hold: the organisation as it is now is read from the database in the shape of one
[[organisation]] block of the file (`export`), the change is made to that, the whole is checked
by `app.org_file.check` and written by `app.org_file.write`, in one transaction. A person who
loses every role therefore leaves the running trajectories and the secretariat is told, exactly
as when they are left out of the file (app.departures).

Before that, what the person typed is checked field by field with refusals in Dutch that say
which field is wrong (`EditRefused.errors`); nothing is written when anything is refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Engine, update
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from app import directory, org_file
from app.service import Service
from engine import inputs, labels
from engine.dsl import KNOWN_ROLES, Words
from engine.errors import InvalidInput, NotFound
from engine.reminders import DEFAULT_STEPS, STEPS_HINT, StepsError, parse_steps
from engine.terms import TermError, parse_recess, parse_term
from settings import Settings
from storage.db import busy, is_busy, transaction
from storage.tables import Organisation, Person

#: The roles in the order people read them on the page.
ROLE_ORDER = ("secretariat", "liaison", "policy_adviser", "alderman", "chair", "member",
              "inclusion_platform", "college", "council_clerk")
assert set(ROLE_ORDER) == KNOWN_ROLES

SECRETARIAT = "secretariat"
GROUP_SIZE = (1, 100)
RETENTION = (1, 120)
TERM_EXAMPLE = "een getal met w (weken), d (dagen), wd (werkdagen) of m (maanden), zoals 6w"


@dataclass(frozen=True)
class TermSpec:
    key: str
    label: str
    about: str
    default: str | None = None  # the default when left empty; None: it must be given


#: The terms of the file, in the order of the form (DESIGN.md §3, README "The organisation file").
TERMS = (
    TermSpec("advice_term", "Adviestermijn", "gevraagd advies: van de ontvangst van de vraag tot het advies"),
    TermSpec("response_term", "Reactietermijn van het college",
             "van het versturen van het advies tot de schriftelijke reactie"),
    TermSpec("signup_window", "Aanmeldtermijn", "hoe lang een oproep om mee te doen openstaat"),
    TermSpec("appointment_term", "Termijn voor de afspraak met de ambtenaar",
             "ongevraagd advies", directory.EXTRA_TERMS["appointment_term"]),
    TermSpec("report_term", "Termijn voor het verslag van de gemeente",
             "signaal: na het gesprek met de ambtenaar", directory.EXTRA_TERMS["report_term"]),
    TermSpec("alderman_meeting_term", "Termijn voor het gesprek met de wethouder",
             "signaal: nadat om het gesprek is gevraagd", directory.EXTRA_TERMS["alderman_meeting_term"]),
)
assert {t.key for t in TERMS} == {*org_file.TERM_KEYS, *org_file.EXTRA_TERM_KEYS}
NUMBERS = ("group_min", "group_max", "mail_retention_months")


class EditRefused(InvalidInput):
    """What the person typed cannot be written; `errors` maps each wrong field (its key in the
    organisation file; "" for the form as a whole) to one Dutch sentence. Nothing was written."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__(" ".join(errors.values()))
        self.errors = dict(errors)


# --- what the pages show ---------------------------------------------------------------------


@dataclass(frozen=True)
class PersonView:
    id: int
    name: str
    email: str
    roles: tuple[str, ...]


@dataclass(frozen=True)
class GroupView:
    name: str
    members: tuple[PersonView, ...]
    chair: PersonView | None


@dataclass(frozen=True)
class TermView:
    key: str
    label: str
    about: str
    value: str
    default: str | None


@dataclass
class OrgView:
    """The organisation as its file holds it, for the organisation page and the forms."""

    slug: str
    name: str
    words: Words
    terms: list[TermView]
    group_min: int
    group_max: int
    mail_retention_months: int
    recess: tuple[str, str] | None
    reminders: list[str] | None
    flows: list[str] | None
    people: list[PersonView] = field(default_factory=list)
    groups: list[GroupView] = field(default_factory=list)
    #: The words as the organisation gave them (a word left out takes the default).
    own_words: dict[str, str] = field(default_factory=dict)

    def person(self, person_id: int) -> PersonView:
        found = next((p for p in self.people if p.id == person_id), None)
        if found is None:
            raise NotFound("Deze persoon staat niet (meer) bij de organisatie.")
        return found

    def group(self, name: str) -> GroupView:
        found = next((g for g in self.groups if g.name == name), None)
        if found is None:
            raise NotFound(f"Deze {self.words.group} bestaat niet (meer).")
        return found

    def with_role(self, role: str) -> list[PersonView]:
        return [p for p in self.people if role in p.roles]

    def role_label(self, role: str) -> str:
        return labels.role(role, self.words)

    def roles(self) -> list[tuple[str, str]]:
        """Every role a person may have, with its Dutch label, in reading order."""
        return [(r, labels.role(r, self.words)) for r in ROLE_ORDER]

    def recess_text(self) -> str:
        """'1 juli tot en met 31 augustus'; empty when there is no recess."""
        return f"{day_month(self.recess[0])} tot en met {day_month(self.recess[1])}" if self.recess else ""

    def reminder_texts(self) -> list[str]:
        """When the reminders and alerts of a term go, in Dutch; empty: none at all."""
        return [step_text(step) for step in (DEFAULT_STEPS if self.reminders is None else self.reminders)]

    def word_examples(self) -> list[tuple[WordSpec, str, str]]:
        """Each word, what it is now, and a sentence that uses it in the organisation's words."""
        values = {**asdict(self.words), "the_secretariat": self.words.the_secretariat}
        return [(spec, values[spec.key], spec.example.format(**values)) for spec in WORDS]


def view(service: Service, slug: str) -> OrgView:
    """The organisation `slug` as it is now; its people who have a role, sorted by name."""
    with Session(service.engine) as session:
        org = directory.organisation(session, slug)
        people = _people(session, org)
    by_email = {p.email: p for p in people}
    return OrgView(
        slug=org.slug, name=org.name, words=directory.words_of(org),
        terms=[TermView(t.key, t.label, t.about, _term_value(org, t), t.default) for t in TERMS],
        group_min=org.group_min, group_max=org.group_max,
        mail_retention_months=org.mail_retention_months,
        recess=(org.recess_start, org.recess_end) if org.recess_start and org.recess_end else None,
        reminders=list(org.reminders) if org.reminders is not None else None,
        flows=list(org.flows) if org.flows else None,
        people=sorted(people, key=lambda p: (p.name.lower(), p.email)),
        groups=[_group_view(g, by_email) for g in org.groups or []],
        own_words=dict(org.words or {}))


def _people(session: Session, org: Organisation) -> list[PersonView]:
    rows = session.exec(select(Person).where(Person.organisation_id == org.id)
                        .order_by(col(Person.id))).all()
    return [PersonView(p.id, p.name, p.email, _ordered(p.roles)) for p in rows
            if p.roles and p.id is not None]


def _ordered(roles: Iterable[str]) -> tuple[str, ...]:
    given = set(roles)
    return tuple(r for r in ROLE_ORDER if r in given) + tuple(sorted(given - set(ROLE_ORDER)))


def _group_view(raw: Mapping[str, Any], people: Mapping[str, PersonView]) -> GroupView:
    def one(email: str) -> PersonView:
        return people.get(email) or PersonView(0, email, email, ())

    chair = raw.get("chair")
    return GroupView(raw["name"], tuple(one(m) for m in raw["members"]), one(chair) if chair else None)


def _term_value(org: Organisation, spec: TermSpec) -> str:
    if spec.key in org_file.TERM_KEYS:
        return str(getattr(org, spec.key))
    return str((org.terms or {}).get(spec.key, ""))


# --- the organisation as the file holds it ---------------------------------------------------


def export(session: Session, org: Organisation) -> dict[str, Any]:
    """The organisation as it is now, as the data of its [[organisation]] block in the file
    (what `org_file.check` takes): people without a role are not in it, as they are not in
    the file."""
    raw: dict[str, Any] = {"slug": org.slug, "name": org.name,
                           **{k: getattr(org, k) for k in org_file.TERM_KEYS},
                           **{k: v for k, v in (org.terms or {}).items() if k in org_file.EXTRA_TERM_KEYS},
                           "group_min": org.group_min, "group_max": org.group_max,
                           "mail_retention_months": org.mail_retention_months,
                           "words": dict(org.words or {})}
    if org.recess_start and org.recess_end:
        raw["recess"] = [org.recess_start, org.recess_end]
    if org.reminders is not None:
        raw["reminders"] = list(org.reminders)
    if org.flows:
        raw["flows"] = list(org.flows)
    rows = session.exec(select(Person).where(Person.organisation_id == org.id)
                        .order_by(col(Person.id))).all()
    raw["person"] = [{"name": p.name, "email": p.email, "roles": list(p.roles)} for p in rows if p.roles]
    raw["group"] = [{"name": g["name"], "members": list(g["members"]),
                     **({"chair": g["chair"]} if g.get("chair") else {})} for g in org.groups or []]
    return raw


Change = Callable[[Session, Organisation, dict[str, Any]], Any]


def _edit(service: Service, slug: str, change: Change) -> Any:
    """Read the organisation, change it, check it as the file is checked and write it: one
    transaction, the organisation held for this writer from the first read to the commit."""
    try:
        with transaction(service.engine) as session:
            session.connection().execute(update(Organisation).where(col(Organisation.slug) == slug)
                                         .values(name=Organisation.name))  # the writer's lock
            org = directory.organisation(session, slug)
            raw = export(session, org)
            result = change(session, org, raw)
            try:
                checked = org_file.check(raw)
            except org_file.FileProblem as problem:
                raise EditRefused({problem.key or "": problem.message}) from problem
            org_file.write(session, checked, _settings_at(service))
            return result
    except OperationalError as error:
        if is_busy(error):
            raise busy(service.engine) from error
        raise


def _settings_at(service: Service) -> Settings:
    """The settings with the service's clock, so that the departures' history and mail carry
    the same time as everything else the service does (a frozen clock in tests)."""
    copied = service.settings.model_copy(update={"now": service.clock.now().isoformat()})
    vars(copied).pop("clock", None)  # a copy keeps the cached clock of the original
    return copied


class Errors(dict[str, str]):
    """The refusals of one form, field by field; the first one of a field stays."""

    def add(self, key: str, message: str) -> None:
        self.setdefault(key, message)

    def check(self) -> None:
        if self:
            raise EditRefused(self)


def _line(errors: Errors, key: str, value: str, what: str) -> str:
    try:
        return inputs.check_line(value, what)
    except InvalidInput as error:
        errors.add(key, error.message)
        return ""


def _short(value: str, limit: int = 60) -> str:
    """What someone typed, to repeat in a refusal: one line, not too long."""
    cleaned = inputs.CONTROL.sub("", value).strip()
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


# --- people ----------------------------------------------------------------------------------


def add_person(service: Service, slug: str, name: str, email: str, roles: Iterable[str]) -> str:
    """A new person with these roles (someone who left before comes back: their history stays);
    returns their name."""

    def change(_session: Session, org: Organisation, raw: dict[str, Any]) -> str:
        errors = Errors()
        cleaned = _line(errors, "name", name, "De naam")
        address = _email(errors, email, raw, org)
        picked = _roles(errors, roles)
        errors.check()
        raw["person"].append({"name": cleaned, "email": address, "roles": picked})
        return cleaned

    return str(_edit(service, slug, change))


def change_person(service: Service, slug: str, person_id: int, name: str, roles: Iterable[str],
                  actor_email: str) -> str:
    """A person's new name and roles; returns the name."""

    def change(session: Session, org: Organisation, raw: dict[str, Any]) -> str:
        entry = _entry(session, org, raw, person_id)
        errors = Errors()
        cleaned = _line(errors, "name", name, "De naam")
        picked = _roles(errors, roles)
        if entry["email"] == actor_email and SECRETARIAT in entry["roles"] and SECRETARIAT not in picked:
            words = directory.words_of(org)
            errors.add("roles", f"Je kunt je eigen rol {words.secretariat} niet weghalen: vraag dat "
                                f"iemand anders van {words.the_secretariat}.")
        errors.check()
        entry["name"], entry["roles"] = cleaned, picked
        _keeps_a_secretariat(raw, org, "roles")
        return cleaned

    return str(_edit(service, slug, change))


def remove_person(service: Service, slug: str, person_id: int, actor_email: str) -> str:
    """The person loses every role: they leave the organisation's groups and its running
    trajectories, and the secretariat is told; their name stays in the history. Returns it."""

    def change(session: Session, org: Organisation, raw: dict[str, Any]) -> str:
        entry = _entry(session, org, raw, person_id)
        words = directory.words_of(org)
        if entry["email"] == actor_email:
            raise EditRefused({"": f"Je kunt jezelf niet verwijderen: vraag dat iemand anders van "
                                   f"{words.the_secretariat}."})
        raw["person"].remove(entry)
        _leave_groups(raw, entry, words)
        _keeps_a_secretariat(raw, org, "")
        return str(entry["name"])

    return str(_edit(service, slug, change))


def groups_of(service: Service, slug: str, person_id: int) -> list[str]:
    """The names of the organisation's groups this person is in (the removal page says so)."""
    found = view(service, slug)
    email = found.person(person_id).email
    return [g.name for g in found.groups if any(m.email == email for m in g.members)]


def _entry(session: Session, org: Organisation, raw: dict[str, Any], person_id: int) -> dict[str, Any]:
    person = session.get(Person, person_id)
    entries: list[dict[str, Any]] = raw["person"]
    entry = next((p for p in entries if person is not None and p["email"] == person.email), None)
    if person is None or person.organisation_id != org.id or entry is None:
        raise NotFound("Deze persoon staat niet (meer) bij de organisatie.")
    return entry


def _email(errors: Errors, email: str, raw: dict[str, Any], org: Organisation) -> str:
    address = email.strip().lower()
    if not inputs.valid_email(address):
        errors.add("email", f"'{_short(email)}' is geen geldig e-mailadres. Schrijf bijvoorbeeld "
                            "naam@voorbeeld.nl.")
    elif any(p["email"] == address for p in raw["person"]):
        errors.add("email", f"{address} staat al bij de personen van {org.name}.")
    return address


def _roles(errors: Errors, roles: Iterable[str]) -> list[str]:
    picked = list(dict.fromkeys(r.strip() for r in roles if r.strip()))
    unknown = [r for r in picked if r not in KNOWN_ROLES]
    if unknown:
        errors.add("roles", f"De rol '{_short(unknown[0])}' bestaat niet. Kies rollen uit de lijst.")
    elif not picked:
        errors.add("roles", "Kies minstens één rol.")
    return [r for r in ROLE_ORDER if r in picked]


def _keeps_a_secretariat(raw: dict[str, Any], org: Organisation, key: str) -> None:
    if not any(SECRETARIAT in p["roles"] for p in raw["person"]):
        words = directory.words_of(org)
        raise EditRefused({key: f"Er moet iemand met de rol {words.secretariat} blijven, anders kan "
                                "niemand de organisatie nog wijzigen."})


def _leave_groups(raw: dict[str, Any], entry: Mapping[str, Any], words: Words) -> None:
    """Someone who leaves also leaves the organisation's groups; a group they were the only
    member of must go first."""
    for group in raw["group"]:
        if entry["email"] not in group["members"]:
            continue
        if group["members"] == [entry["email"]]:
            raise EditRefused({"": f"{entry['name']} is het enige lid van de {words.group} "
                                   f"{group['name']}. Verwijder eerst die {words.group}, of zet er "
                                   "iemand anders in."})
        group["members"] = [m for m in group["members"] if m != entry["email"]]
        if group.get("chair") == entry["email"]:
            del group["chair"]


# --- groups ----------------------------------------------------------------------------------


def add_group(service: Service, slug: str, name: str, members: Iterable[str], chair: str) -> str:
    def change(_session: Session, org: Organisation, raw: dict[str, Any]) -> str:
        found = _group_input(raw, org, None, name, members, chair)
        raw["group"].append(found)
        return str(found["name"])

    return str(_edit(service, slug, change))


def change_group(service: Service, slug: str, old_name: str, name: str, members: Iterable[str],
                 chair: str) -> str:
    def change(_session: Session, org: Organisation, raw: dict[str, Any]) -> str:
        index = _group_index(raw, org, old_name)
        found = _group_input(raw, org, old_name, name, members, chair)
        raw["group"][index] = found
        return str(found["name"])

    return str(_edit(service, slug, change))


def remove_group(service: Service, slug: str, name: str) -> str:
    """The group goes; trajectories that already took its members keep them."""

    def change(_session: Session, org: Organisation, raw: dict[str, Any]) -> str:
        del raw["group"][_group_index(raw, org, name)]
        return name

    return str(_edit(service, slug, change))


def _group_index(raw: dict[str, Any], org: Organisation, name: str) -> int:
    index = next((i for i, g in enumerate(raw["group"]) if g["name"] == name), None)
    if index is None:
        raise NotFound(f"Deze {directory.words_of(org).group} bestaat niet (meer).")
    return index


def _group_input(raw: dict[str, Any], org: Organisation, old_name: str | None, name: str,
                 members: Iterable[str], chair: str) -> dict[str, Any]:
    words = directory.words_of(org)
    errors = Errors()
    cleaned = _line(errors, "name", name, "De naam")
    others = [g["name"].lower() for g in raw["group"] if g["name"] != old_name]
    if cleaned and cleaned.lower() in others:
        errors.add("name", f"Er is al een {words.group} met de naam '{cleaned}'.")
    chosen = list(dict.fromkeys(m.strip().lower() for m in members if m.strip()))
    known = {p["email"] for p in raw["person"]}
    strangers = [m for m in chosen if m not in known]
    if strangers:
        errors.add("members", f"{_short(strangers[0])} staat niet bij de personen van {org.name}.")
    elif not chosen:
        errors.add("members", f"Kies minstens één {words.member} voor de {words.group}.")
    head = chair.strip().lower()
    if head and head not in chosen:
        errors.add("chair", f"De voorzitter moet ook lid van de {words.group} zijn: vink hem of haar "
                            "aan bij de leden.")
    errors.check()
    return {"name": cleaned, "members": chosen, **({"chair": head} if head else {})}


# --- terms -----------------------------------------------------------------------------------


def set_terms(service: Service, slug: str, values: Mapping[str, str]) -> None:
    """The terms, the group sizes and how long mail is kept, as typed in the terms form; a term
    with a default left empty takes its default again."""

    def change(_session: Session, org: Organisation, raw: dict[str, Any]) -> None:
        words = directory.words_of(org)
        errors = Errors()
        for spec in TERMS:
            _one_term(errors, raw, spec, values.get(spec.key, ""))
        low = _number(errors, "group_min", values.get("group_min", ""),
                      f"Het minimum aantal {words.members}", GROUP_SIZE)
        high = _number(errors, "group_max", values.get("group_max", ""),
                       f"Het maximum aantal {words.members}", GROUP_SIZE)
        if low is not None and high is not None and low > high:
            errors.add("group_min", f"Het minimum aantal {words.members} ({low}) mag niet groter zijn "
                                    f"dan het maximum ({high}).")
        kept = _number(errors, "mail_retention_months", values.get("mail_retention_months", ""),
                       "De bewaartermijn van e-mail", RETENTION)
        errors.check()
        raw.update(group_min=low, group_max=high, mail_retention_months=kept)

    _edit(service, slug, change)


def _one_term(errors: Errors, raw: dict[str, Any], spec: TermSpec, value: str) -> None:
    if not value.strip() and spec.default is not None:
        raw.pop(spec.key, None)
        return
    cleaned = _line(errors, spec.key, value, spec.label)
    if not cleaned:
        return
    try:
        term = parse_term(cleaned)
    except TermError:
        errors.add(spec.key, f"{spec.label}: '{_short(cleaned)}' is geen termijn. Schrijf {TERM_EXAMPLE}.")
        return
    if term.kind == "date":
        errors.add(spec.key, f"{spec.label}: schrijf een duur, geen datum: {TERM_EXAMPLE}.")
        return
    raw[spec.key] = cleaned


def _number(errors: Errors, key: str, value: str, what: str, bounds: tuple[int, int]) -> int | None:
    text = value.strip()
    if text.isascii() and text.isdigit() and bounds[0] <= int(text) <= bounds[1]:
        return int(text)
    errors.add(key, f"{what} moet een geheel getal van {bounds[0]} tot {bounds[1]} zijn.")
    return None


def _number_in(text: str, high: int) -> int | None:
    cleaned = text.strip()
    return int(cleaned) if cleaned.isascii() and cleaned.isdigit() and 1 <= int(cleaned) <= high else None


# --- the name --------------------------------------------------------------------------------


def set_name(service: Service, slug: str, name: str) -> str:
    """The organisation's new name (in every mail and page); returns it."""

    def change(_session: Session, _org: Organisation, raw: dict[str, Any]) -> str:
        errors = Errors()
        cleaned = _line(errors, "name", name, "De naam")
        errors.check()
        raw["name"] = cleaned
        return cleaned

    return str(_edit(service, slug, change))


# --- words -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class WordSpec:
    key: str
    label: str
    about: str
    #: A sentence that uses the word; {council}, {member}, {members}, {group}, {secretariat} and
    #: {the_secretariat} are the organisation's words.
    example: str
    default: str


#: The organisation's words (engine.dsl.Words), in the order of the form, with what each is for.
WORDS = (
    WordSpec("council", "De raad",
             "hoe de raad heet in e-mails en op de pagina's, midden in een zin na 'de'",
             "Het college heeft gereageerd op het advies van de {council}.", Words.council),
    WordSpec("member", "Eén lid van de raad",
             "een inwoner die meedoet, in het enkelvoud",
             "Kies minstens één {member} voor de {group}.", Words.member),
    WordSpec("members", "Meer leden van de raad (meervoud)",
             "het meervoud, in de oproep om mee te doen en in de lijsten",
             "We zoeken {members} voor een {group}.", "gemaakt van het enkelvoud (lid: leden)"),
    WordSpec("group", "Een groep die aan een traject werkt",
             "de groep van een traject of een vaste groep",
             "De {group} kiest een centraal aanspreekpunt.", Words.group),
    WordSpec("secretariat", "Wie de trajecten regelt",
             "de stuurgroep, het secretariaat of de ambtelijk secretaris; 'de' of 'het' ervoor kiest "
             "Adviestraject zelf",
             "Vragen? Neem contact op met {the_secretariat}.", Words.secretariat),
)
assert {w.key for w in WORDS} == org_file.WORD_KEYS


def set_words(service: Service, slug: str, values: Mapping[str, str]) -> None:
    """The organisation's own words; a word left empty takes its default again."""

    def change(_session: Session, _org: Organisation, raw: dict[str, Any]) -> None:
        errors = Errors()
        words = {spec.key: _line(errors, spec.key, values.get(spec.key, ""), spec.label)
                 for spec in WORDS if values.get(spec.key, "").strip()}
        errors.check()
        raw["words"] = words

    _edit(service, slug, change)


# --- flows -----------------------------------------------------------------------------------


#: How flows that share a Dutch title differ (DESIGN.md §3), so that they can be told apart.
FLOW_WAYS = {
    "asked_advice": "met een oproep aan alle deelnemers voor een projectgroep",
    "md_asked_advice": "door een themagroep of werkgroep, met het Platform Inclusie",
}


@dataclass(frozen=True)
class FlowChoice:
    name: str
    label: str
    description: str


def flow_choices(service: Service) -> list[FlowChoice]:
    """Every flow the organisation may use, by its Dutch title; a title two flows share gets
    what sets each apart."""
    titles = [f.flow.title for f in service.flows.values()]
    return [FlowChoice(name, f.flow.title if titles.count(f.flow.title) == 1
                       else f"{f.flow.title}, {FLOW_WAYS.get(name, name)}", f.flow.description)
            for name, f in service.flows.items()]


def set_flows(service: Service, slug: str, chosen: Iterable[str]) -> None:
    """The kinds of trajectories the organisation may start (at least one). Running trajectories
    of a flow left out go on; only starting a new one is refused."""

    def change(_session: Session, _org: Organisation, raw: dict[str, Any]) -> None:
        known = list(service.flows)
        picked = list(dict.fromkeys(c.strip() for c in chosen if c.strip()))
        errors = Errors()
        unknown = [c for c in picked if c not in known]
        if unknown:
            errors.add("flows", f"De soort traject '{_short(unknown[0])}' bestaat niet. Kies uit de lijst.")
        elif not picked:
            errors.add("flows", "Kies minstens één soort traject.")
        errors.check()
        if set(picked) != set(raw.get("flows") or known):  # the same as now: nothing changes
            raw["flows"] = [name for name in known if name in picked]

    _edit(service, slug, change)


# --- recess and reminders --------------------------------------------------------------------

MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
          "oktober", "november", "december")
#: The reminder steps explained, for a refusal (engine.reminders says it for the file).
STEPS_EXAMPLE = ("schrijf bijvoorbeeld -5wd, 0, +1wd: -5wd is 5 werkdagen voor het einde, -3d 3 dagen "
                 "ervoor, 0 de laatste dag, +1wd de eerste werkdag erna (daarna elke week).")
NO_STEPS = "geen"


def day_month(text: str) -> str:
    """A recess day as the file writes it ('07-01', month-day) in Dutch: '1 juli'."""
    month, _, day = text.partition("-")
    return f"{int(day)} {MONTHS[int(month) - 1]}"


def step_text(step: str) -> str:
    """One reminder step ('-5wd', '0', '+1wd') in Dutch."""
    [offset] = parse_steps([step])
    if offset.sign == 0:
        return "op de laatste dag"
    unit = ("werkdag", "werkdagen") if offset.unit == "wd" else ("dag", "dagen")
    amount = f"{offset.amount} {unit[0] if offset.amount == 1 else unit[1]}"
    return f"{amount} voor het einde" if offset.sign < 0 else f"{amount} na het einde, daarna elke week"


def set_recess_and_reminders(service: Service, slug: str, values: Mapping[str, str]) -> None:
    """The summer recess (`recess`: 'geen' or 'wel', then the day and month it starts and ends)
    and the reminder steps (empty: the default; 'geen': none)."""

    def change(_session: Session, _org: Organisation, raw: dict[str, Any]) -> None:
        errors = Errors()
        recess = _recess_input(errors, values)
        steps = _steps_input(errors, values.get("reminders", ""))
        errors.check()
        for key, value in (("recess", recess), ("reminders", steps)):
            if value is None:
                raw.pop(key, None)
            else:
                raw[key] = value

    _edit(service, slug, change)


def _recess_input(errors: Errors, values: Mapping[str, str]) -> list[str] | None:
    choice = values.get("recess", "")
    if choice == "geen":
        return None
    if choice != "wel":
        errors.add("recess", "Kies of er een reces is.")
        return None
    start = _day_month(errors, "recess_start", values, "begint")
    end = _day_month(errors, "recess_end", values, "eindigt")
    if not (start and end):
        return None
    try:
        parse_recess(f"{start}:{end}")
    except TermError as error:
        errors.add("recess_end", str(error))
    return [start, end]


def _day_month(errors: Errors, key: str, values: Mapping[str, str], verb: str) -> str:
    day = _number_in(values.get(f"{key}_day", ""), 31)
    month = _number_in(values.get(f"{key}_month", ""), 12)
    if day is None or month is None:
        errors.add(key, f"Kies de dag en de maand waarop het reces {verb}.")
        return ""
    try:
        date(2000, month, day)  # a leap year: 29 februari may be
    except ValueError:
        errors.add(key, f"{day} {MONTHS[month - 1]} bestaat niet. Kies een andere dag.")
        return ""
    return f"{month:02d}-{day:02d}"


def _steps_input(errors: Errors, text: str) -> list[str] | None:
    if not text.strip():
        return None
    if text.strip().lower() == NO_STEPS:
        return []
    cleaned = _line(errors, "reminders", text, "De herinneringen")
    steps = [step for step in re.split(r"[,;\s]+", cleaned.lower()) if step]
    if not steps:
        return None
    try:
        parse_steps(steps)
    except StepsError as error:
        errors.add("reminders", str(error).replace(STEPS_HINT, STEPS_EXAMPLE))
        return None
    return steps


# --- the organisation file -------------------------------------------------------------------


def file_text(engine: Engine, slug: str) -> str:
    """The organisation as it is now, as an organisation file that `advies org load` reads back
    to exactly this organisation."""
    with Session(engine) as session:
        return org_file.dumps(export(session, directory.organisation(session, slug)))
