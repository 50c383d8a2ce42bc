"""An event's exit decided from the (state, event) table is the one the `transitions` machine
takes: for every state, event and outcome of the guards of every shipped flow."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from itertools import product

import pytest

from engine.dsl import SYSTEM, Context, Flow, Guard, OrgSettings, Transition
from engine.machine import CompiledFlow
from flows import TEMPLATE_DIR, all_flows

ORG = OrgSettings(slug="test", name="Test", terms={})


def scripted(flow: Flow) -> Flow:
    """The flow with each guard replaced by one named after its place, whose answer the
    context's data gives (`outcomes`), so that every combination of answers can be tried."""
    def guarded(t: Transition, place: str) -> Transition:
        if t.when is None:
            return t
        return replace(t, when=Guard(place, lambda ctx, place=place: ctx.data["outcomes"][place],
                                     "nee"))

    states = tuple(replace(s, exits=tuple(guarded(t, f"{s.name}/{n}") for n, t in enumerate(s.exits)))
                   for s in flow.states)
    anywhere = tuple(guarded(t, f"anywhere/{n}") for n, t in enumerate(flow.anywhere))
    return replace(flow, states=states, anywhere=anywhere)


def context(state: str, outcomes: dict[str, bool]) -> Context:
    return Context(state, {"outcomes": outcomes}, {}, SYSTEM, ORG, date(2026, 3, 24))


@pytest.mark.parametrize("name", sorted(all_flows()))
def test_the_table_decides_as_the_machine(name: str) -> None:
    compiled = CompiledFlow(scripted(all_flows()[name].flow), TEMPLATE_DIR)
    tried = 0
    for state, event in product((s.name for s in compiled.flow.states), compiled.events):
        candidates = compiled.candidates(state, event)
        if not candidates:
            continue
        places = [t.when.name for t in candidates if t.when is not None]
        for answers in product((True, False), repeat=len(places)):
            ctx = context(state, dict(zip(places, answers, strict=True)))
            taken = compiled.decide(ctx, event)
            expected = compiled.decide_with_machine(ctx, event)
            if expected is None:
                assert taken is None, (state, event, answers)
            else:
                assert taken is expected[0], (state, event, answers)
                assert (state if taken.dest is None else taken.dest) == expected[1]
            tried += 1
    assert tried > len(compiled.transitions)  # guards were tried both ways, not only passed


def test_some_state_has_several_guarded_exits_for_one_event() -> None:
    """The order of the exits matters somewhere: the test above is not only about single exits."""
    assert any(
        sum(t.when is not None for t in compiled.candidates(s.name, event)) > 1
        for compiled in all_flows().values()
        for s in compiled.flow.states
        for event in compiled.events
    )
