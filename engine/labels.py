"""What people read instead of identifiers: roles, deadline statuses, lists of names (Dutch)."""

from __future__ import annotations

from collections.abc import Iterable

from engine.dsl import Words

_ROLES = {
    "secretariat": None,  # the organisation's own word (Words.secretariat)
    "member": None,  # the organisation's own word (Words.member)
    "liaison": "verbindingsmedewerker",
    "policy_adviser": "beleidsadviseur",
    "alderman": "wethouder",
    "chair": "voorzitter",
    "inclusion_platform": "Platform Inclusie",
    "college": "college van B&W",
    "council_clerk": "griffie",
    "system": "het systeem",
    "contact_person": "centraal aanspreekpunt",
    "group_chair": None,  # 'voorzitter van de themagroep'
}

STATUSES = {
    "running": "loopt",
    "suspended": "opgeschort",
    "overdue": "verlopen",
    "met": "gehaald",
    "met_late": "te laat",
    "cancelled": "vervallen",
    "expired": "afgelopen",
}


def role(name: str, words: Words) -> str:
    """'verbindingsmedewerker' for liaison; the organisation's word for member and secretariat."""
    if name == "member":
        return words.member
    if name == "secretariat":
        return words.secretariat
    if name == "group_chair":
        return f"voorzitter van de {words.group}"
    return _ROLES.get(name) or name


def roles(names: Iterable[str], words: Words) -> str:
    """'het secretariaat of de voorzitter': a list of roles in one readable phrase."""
    labels = list(dict.fromkeys(role(n, words) for n in names if n != "system"))
    return joined(labels, "of")


def joined(items: list[str], last: str = "en") -> str:
    """'a, b en c'."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {last} {items[-1]}"


def status(name: str) -> str:
    return STATUSES.get(name, name)
