"""The flows Adviestraject knows. Importing this package builds and checks every one."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.machine import CompiledFlow

TEMPLATE_DIR = Path(__file__).parent / "templates"


def all_flows() -> dict[str, CompiledFlow]:
    """Every flow by name, built and validated once."""
    from flows import asked_advice, midden_drenthe, unasked_advice

    return {f.name: f for f in (asked_advice.COMPILED, unasked_advice.COMPILED,
                                midden_drenthe.COMPILED_SIGNAL, midden_drenthe.COMPILED_ASKED)}
