"""Compile a `Flow` into one `transitions` machine, the model of the flow, and decide events.

One machine per flow, built once at import: it is what views ask for the events of a state
(`get_triggers`), and `decide_with_machine` triggers it model-less
(`machine.events[name].trigger(model)`) as the transitions FAQ advises. An event itself is
decided by `decide`, which takes what the machine takes (the first exit of the state for the
event whose guard passes, in the order of definition) from the (state, event) table built with
the machine, without the library's per-trigger machinery (event data, callbacks, state
changes: half of the engine's time an event in the sweep).
tests/unit/test_machine_decision.py proves both decide alike for every state, event and guard
outcome of every shipped flow.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from transitions import EventData, Machine, MachineError

from engine import deadline_rules, effects, labels, validate
from engine.dsl import Context, Flow, Mail, Transition
from engine.errors import InvalidInput, NotAllowed

#: Events that still work while a trajectory is suspended.
WHILE_SUSPENDED = frozenset({"resume", "withdraw", "extend"})


@dataclass
class _Model:
    """The throwaway object the machine moves; it lives for one event only."""

    state: str
    ctx: Context
    taken: list[Transition] = field(default_factory=list)


def _condition(transition: Transition) -> Any:
    guard = transition.when

    def check(event: EventData) -> bool:
        model: Any = event.model
        return guard is None or guard(model.ctx)

    return check


def _recorder(transition: Transition) -> Any:
    def record(event: EventData) -> None:
        model: Any = event.model
        model.taken.append(transition)

    return record


class CompiledFlow:
    """A validated flow plus its machine."""

    def __init__(self, flow: Flow, template_dir: Path | None) -> None:
        validate.check(flow, template_dir)
        self.flow = flow
        self.transitions = flow.transitions()
        self.events = flow.events()
        self._exits: dict[tuple[str, str], tuple[Transition, ...]] = {}
        for t in self.transitions:
            for source in t.source:
                key = (source, t.event)
                self._exits[key] = (*self._exits.get(key, ()), t)
        self.machine = Machine(
            model=None,
            states=[s.name for s in flow.states],
            transitions=[self._spec(t) for t in self.transitions],
            initial=flow.start,
            auto_transitions=False,
            send_event=True,
        )

    @staticmethod
    def _spec(t: Transition) -> dict[str, Any]:
        return {
            "trigger": t.event,
            "source": list(t.source),
            "dest": t.dest,
            "conditions": [_condition(t)],
            "after": [_recorder(t)],
        }

    @property
    def name(self) -> str:
        return self.flow.name

    def candidates(self, state: str, event: str) -> tuple[Transition, ...]:
        return self._exits.get((state, event), ())

    def allowed_events(self, ctx: Context) -> list[str]:
        """The events this actor may fire now (guards included)."""
        names = []
        for event in self.events:
            try:
                self.check_allowed(ctx, event)
            except NotAllowed:
                continue
            if any(t.when is None or t.when(ctx) for t in self.candidates(ctx.state, event)):
                names.append(event)
        return names

    def check_allowed(self, ctx: Context, event: str) -> tuple[Transition, ...]:
        """Refuse an event not possible in this state, for this actor or while suspended."""
        found = self.candidates(ctx.state, event)
        label = self.flow.event_label(event)
        if not found:
            raise NotAllowed(
                f"'{label}' ({event}) kan niet in de stap '{self.flow.state(ctx.state).label}'."
            )
        if not any(ctx.actor.roles & set(t.by) for t in found):
            raise NotAllowed(
                f"{ctx.actor.name} mag '{label}' ({event}) niet doen: dat mag alleen iemand met de rol "
                f"{labels.roles(found[0].by, ctx.org.words)}."
            )
        if ctx.data.get("suspended_on") and event not in WHILE_SUSPENDED:
            raise NotAllowed("Het traject is opgeschort. Hervat het eerst ('hervatten', resume).")
        return found

    def fire(self, ctx: Context, event: str, *,
             allowed: tuple[Transition, ...] | None = None) -> effects.Outcome:
        """Decide one event: the new state, new data and the effects. Pure. `allowed`: what
        `check_allowed` gave for this context already (the caller checked before the input)."""
        found = self.check_allowed(ctx, event) if allowed is None else allowed
        _check_input(found, ctx)
        taken = self.decide(ctx, event)
        if taken is None:
            raise NotAllowed(_refusal(found, ctx))
        return self._outcome(ctx, taken, ctx.state if taken.dest is None else taken.dest)

    def decide(self, ctx: Context, event: str) -> Transition | None:
        """The exit `event` takes from the context's state: the first whose guard passes, in
        the order of definition, as the machine decides it (`decide_with_machine`)."""
        for candidate in self.candidates(ctx.state, event):
            if candidate.when is None or candidate.when(ctx):
                return candidate
        return None

    def decide_with_machine(self, ctx: Context, event: str) -> tuple[Transition, str] | None:
        """The exit `event` takes and the state it leads to, decided by triggering the machine."""
        model = _Model(state=ctx.state, ctx=ctx)
        try:
            moved = self.machine.events[event].trigger(model)
        except MachineError as error:
            raise NotAllowed(f"'{event}' kan nu niet: {error.value}") from error
        if not moved or not model.taken:
            return None
        return model.taken[-1], model.state

    def _outcome(self, ctx: Context, taken: Transition, dest: str) -> effects.Outcome:
        data = dict(taken.action(ctx)) if taken.action else dict(ctx.data)
        after = replace(ctx, data=data) if taken.action else ctx  # without one: the same data
        mails = list(taken.mails)
        found: list[effects.Effect] = []
        if taken.dest is not None:
            state = self.flow.state(dest)
            mails += state.mails
            found += deadline_rules.on_move(self.flow, after, ctx.state, dest)
            found += [effects.StartLinked(s, s.payload(after)) for s in state.starts]
        closed = {e.name for e in found if isinstance(e, effects.CloseDeadline)}
        found += deadline_rules.on_ends(after, taken.ends, closed)
        found += deadline_rules.on_event(after, taken.event)
        return effects.Outcome(taken.event, ctx.state, dest, data,
                               (*_sent(mails, after), *found))

    def start(self, ctx: Context) -> effects.Outcome:
        """Open a trajectory in the start state: its mails and its deadlines."""
        if not ctx.actor.roles & set(self.flow.start_by):
            raise NotAllowed(
                f"{ctx.actor.name} mag geen traject starten: dat mag alleen "
                f"{', '.join(sorted(self.flow.start_by))}."
            )
        return self.opening(ctx)

    def opening(self, ctx: Context) -> effects.Outcome:
        """The start without the role check: for a trajectory another one starts (a handoff),
        which the event that caused it already allowed."""
        data = dict(self.flow.start_action(ctx)) if self.flow.start_action else dict(ctx.data)
        after = replace(ctx, data=data)
        start = self.flow.start
        found = deadline_rules.on_move(self.flow, after, None, start)
        return effects.Outcome("start", None, start, data,
                               (*_sent(self.flow.state(start).mails, after), *found))


def _check_input(found: tuple[Transition, ...], ctx: Context) -> None:
    """What the person entered, checked against the trajectory (a date before the advice...)."""
    for check in found[0].checks:
        problem = check(ctx)
        if problem:
            raise InvalidInput(problem)


def _sent(mails: tuple[Mail, ...] | list[Mail], after: Context) -> list[effects.Effect]:
    """The mails whose condition holds once the event's data is known."""
    return [effects.SendMail(m) for m in mails if m.when is None or m.when(after)]


def _refusal(found: tuple[Transition, ...], ctx: Context) -> str:
    refusals = [t.when.why(ctx) for t in found if t.when is not None]
    return refusals[0] if refusals else "Dit kan nu niet."


def data_with_payload(ctx: Context, *names: str) -> Mapping[str, Any]:
    """The trajectory data with the named payload fields copied in (those given)."""
    data = dict(ctx.data)
    data.update({n: ctx.payload[n] for n in names if ctx.payload.get(n) not in (None, "")})
    return data
