"""A broken flow fails when it is built, naming what is wrong."""

from __future__ import annotations

from dataclasses import replace

import pytest

from engine.dsl import Deadline, Flow, Reminder, State, mail, on, to
from engine.errors import InvalidFlow
from engine.machine import CompiledFlow
from flows import TEMPLATE_DIR
from flows.asked_advice import FLOW

BY = ("secretariat",)


def tiny(*states: State, deadlines: tuple[Deadline, ...] = ()) -> Flow:
    return Flow(name="tiny", title="Klein", version=1, start="a", states=states, start_by=BY,
                deadlines=deadlines)


def test_the_real_flow_is_valid() -> None:
    CompiledFlow(FLOW, TEMPLATE_DIR)


@pytest.mark.parametrize(
    ("flow", "message"),
    [
        (tiny(State("b", "B", final=True)), "start state"),
        (tiny(State("a", "A", exits=(on("go", by=BY).to("nowhere"),))), "unknown state"),
        (tiny(State("a", "A", exits=(on("go", by=BY).to("b"),)),
              State("b", "B", final=True, exits=(on("back", by=BY).to("a"),))), "final state 'b' has exits"),
        (tiny(State("a", "A", exits=(on("go", by=BY).to("b"),)), State("b", "B", final=True),
              State("c", "C", final=True)), "not reachable"),
        (tiny(State("a", "A", exits=(on("go", by=BY).stay(),))), "no final state"),
        (tiny(State("a", "A", exits=(on("go", by=BY).to("b"),)), State("b", "B", final=True),
              deadlines=(Deadline("d", "D", (), term="1w"),)), "guard at least one"),
        (tiny(State("a", "A", exits=(on("go", by=("wizard",)).to("b"),)), State("b", "B", final=True)),
         "unknown roles"),
        (tiny(State("a", "A", mails=(mail("tiny/missing", to("member")),),
                    exits=(on("go", by=BY).to("b"),)), State("b", "B", final=True)), "missing"),
        (tiny(State("a", "A", exits=(on("go", by=BY).to("b"),)), State("b", "B", final=True),
              deadlines=(Deadline("d", "D", ("a",), term="1w", on_expiry="ring"),)), "unknown event"),
    ],
)
def test_broken_flows_fail_at_build(flow: Flow, message: str) -> None:
    with pytest.raises(InvalidFlow, match=message):
        CompiledFlow(flow, TEMPLATE_DIR)


def test_a_reminder_template_must_exist() -> None:
    reminder = Reminder("r", "2wd", mail("tiny/absent", to("member")))
    flow = tiny(State("a", "A", exits=(on("go", by=BY).to("b"),)), State("b", "B", final=True),
                deadlines=(Deadline("d", "D", ("a",), term="1w", reminders=(reminder,)),))
    with pytest.raises(InvalidFlow, match=r"tiny/absent\.txt\.j2 is missing"):
        CompiledFlow(flow, TEMPLATE_DIR)


def test_a_template_removed_from_the_real_flow_is_caught(tmp_path) -> None:
    with pytest.raises(InvalidFlow, match=r"asked_advice/receipt\.txt\.j2 is missing"):
        CompiledFlow(replace(FLOW), tmp_path)
