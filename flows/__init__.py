"""The flows Adviestraject knows. Importing this package builds and checks every one.

Every trajectory keeps the version of its flow it started with (`trajectory.flow_version`) and
is decided by that version until an administrator moves it (`advies flows migrate`). So a flow
that changes keeps its old version in the code while trajectories still run on it:

1. copy the live module as it is now to `flows/archive/<flow>_v<N>.py` (N: its current
   `version`), and keep in the copy only what builds that version's `Flow`; name its compiled
   flow `COMPILED` (or several: `COMPILED_<ANY>`): that is how the archived version registers
   itself, nothing else needs to name it;
2. change the live module and raise its `version` by one;
3. after the release, move the running trajectories: `advies flows migrate FLOW --to N+1`
   (`--map old=new` for a step the new version no longer has); once none runs on the old
   version, its archived module may go.

An archived version renders mail with the same templates (flows/templates): a template whose
meaning changes gets a new name in the new version, so the old one stays for the old version.
`flow_versions()` checks at import that every archived version belongs to a live flow, is older
than the live one and is there once; each is validated as a live flow is (engine.validate).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from engine.errors import AdviesError, InvalidFlow, NotFound

if TYPE_CHECKING:
    from engine.machine import CompiledFlow

TEMPLATE_DIR = Path(__file__).parent / "templates"

#: A flow version in the registry: the flow's name and its version number.
FlowKey = tuple[str, int]


class UnknownFlowVersion(AdviesError):
    """A trajectory runs on a flow version the code no longer holds (exit 1)."""


def all_flows() -> dict[str, CompiledFlow]:
    """Every flow by name, in its current version, built and validated once."""
    from flows import asked_advice, midden_drenthe, unasked_advice

    return {f.name: f for f in (asked_advice.COMPILED, unasked_advice.COMPILED,
                                midden_drenthe.COMPILED_SIGNAL, midden_drenthe.COMPILED_ASKED)}


@cache
def flow_versions() -> dict[FlowKey, CompiledFlow]:
    """Every version of every flow the code holds: the current ones and the archived ones."""
    return checked_versions(all_flows().values(), _archived())


def checked_versions(current: Iterable[CompiledFlow],
                     archived: Iterable[CompiledFlow]) -> dict[FlowKey, CompiledFlow]:
    """The registry of `current` and `archived` versions; InvalidFlow when an archived version
    has no live flow, is not older than the live one, or is there twice."""
    found: dict[FlowKey, CompiledFlow] = {(f.name, f.flow.version): f for f in current}
    live = dict(found.keys())
    for old in archived:
        key = (old.name, old.flow.version)
        if old.name not in live:
            raise InvalidFlow(f"archived flow {old.name} v{old.flow.version}: no live flow of that name")
        if key in found:
            raise InvalidFlow(f"flow {old.name} v{old.flow.version} is defined twice")
        if old.flow.version > live[old.name]:
            raise InvalidFlow(f"archived flow {old.name} v{old.flow.version} is newer than the "
                              f"live one (v{live[old.name]}): raise the live module's version")
        found[key] = old
    return found


def current_of(versions: Mapping[FlowKey, CompiledFlow]) -> dict[str, CompiledFlow]:
    """The newest version of each flow in a registry, by name (what new trajectories start on)."""
    newest: dict[str, CompiledFlow] = {}
    for (name, version), compiled in versions.items():  # in the registry's order of names
        if name not in newest or version > newest[name].flow.version:
            newest[name] = compiled
    return newest


def versions_of(versions: Mapping[FlowKey, CompiledFlow], name: str) -> list[int]:
    """The version numbers of one flow in a registry, oldest first."""
    return sorted(version for flow, version in versions if flow == name)


def compiled_version(versions: Mapping[FlowKey, CompiledFlow], name: str, version: int,
                     trajectory_id: int | None = None) -> CompiledFlow:
    """The flow version a trajectory runs on; UnknownFlowVersion (exit 1) when the code no longer
    holds it, with how the administrator moves the trajectory."""
    found = versions.get((name, version))
    if found is not None:
        return found
    known = versions_of(versions, name)
    if not known:
        raise NotFound(f"Onbekende stroom '{name}'.")
    which = f"Traject {trajectory_id} loopt" if trajectory_id is not None else "Dit traject loopt"
    raise UnknownFlowVersion(
        f"{which} op versie {version} van de stroom '{name}', maar Adviestraject kent van die "
        f"stroom alleen versie {', '.join(map(str, known))}; laat de beheerder het verplaatsen met "
        f"'advies flows migrate {name} --to {known[-1]}'.")


def _archived() -> list[CompiledFlow]:
    """The compiled flows of every module in flows/archive (`COMPILED`, `COMPILED_*`)."""
    from engine.machine import CompiledFlow
    from flows import archive

    found: list[CompiledFlow] = []
    for module_info in sorted(pkgutil.iter_modules(archive.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"flows.archive.{module_info.name}")
        found.extend(value for key, value in sorted(vars(module).items())
                     if (key == "COMPILED" or key.startswith("COMPILED_"))
                     and isinstance(value, CompiledFlow))
    return found
