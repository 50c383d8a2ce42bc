"""Checks a flow definition when it is built: a broken flow fails at import."""

from __future__ import annotations

from collections import deque
from pathlib import Path

from engine.dsl import KNOWN_ROLES, TRAJECTORY_ROLES, Flow, Mail
from engine.errors import InvalidFlow

MAIL_PARTS = (".txt.j2", ".html.j2")


def check(flow: Flow, template_dir: Path | None) -> None:
    """Raise InvalidFlow naming the first rule the flow breaks."""
    _names_unique(flow)
    _targets_exist(flow)
    _finals_closed(flow)
    _reachable(flow)
    _finals_reachable(flow)
    _deadlines_guarded(flow)
    _roles_known(flow)
    _calls_declared(flow)
    if template_dir is not None:
        _templates_present(flow, template_dir)


def _fail(flow: Flow, message: str) -> None:
    raise InvalidFlow(f"flow {flow.name}: {message}")


def _names_unique(flow: Flow) -> None:
    names = [s.name for s in flow.states]
    if len(names) != len(set(names)):
        _fail(flow, "two states share a name")
    if names.count(flow.start) != 1:
        _fail(flow, f"start state {flow.start!r} is not one of the states")


def _targets_exist(flow: Flow) -> None:
    names = {s.name for s in flow.states}
    for t in flow.transitions():
        if t.dest is not None and t.dest not in names:
            _fail(flow, f"event {t.event!r} goes to unknown state {t.dest!r}")


def _finals_closed(flow: Flow) -> None:
    for state in flow.states:
        if state.final and state.exits:
            _fail(flow, f"final state {state.name!r} has exits")


def _graph(flow: Flow) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {s.name: set() for s in flow.states}
    for t in flow.transitions():
        for source in t.source:
            if t.dest is not None:
                edges[source].add(t.dest)
    return edges


def _reachable_from(edges: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = {start}, deque([start])
    while todo:
        for nxt in edges[todo.popleft()] - seen:
            seen.add(nxt)
            todo.append(nxt)
    return seen


def _reachable(flow: Flow) -> None:
    unreachable = {s.name for s in flow.states} - _reachable_from(_graph(flow), flow.start)
    if unreachable:
        _fail(flow, f"states not reachable from the start: {sorted(unreachable)}")


def _finals_reachable(flow: Flow) -> None:
    edges = _graph(flow)
    for state in flow.states:
        if not _reachable_from(edges, state.name) & flow.final_states:
            _fail(flow, f"no final state can be reached from {state.name!r}")


def _deadlines_guarded(flow: Flow) -> None:
    names = {s.name for s in flow.states}
    for spec in flow.deadlines:
        if not spec.guards or not set(spec.guards) <= names:
            _fail(flow, f"deadline {spec.name!r} must guard at least one known state")
        if (spec.org_term is None) == (spec.term is None):
            _fail(flow, f"deadline {spec.name!r} needs exactly one of org_term and term")
        if spec.on_expiry and spec.on_expiry not in flow.events():
            _fail(flow, f"deadline {spec.name!r} fires unknown event {spec.on_expiry!r}")


def _roles_known(flow: Flow) -> None:
    allowed = KNOWN_ROLES | TRAJECTORY_ROLES
    for t in flow.transitions():
        unknown = set(t.by) - allowed
        if unknown or not t.by:
            _fail(flow, f"event {t.event!r} names unknown roles {sorted(unknown)}")
    for spec in flow.deadlines:
        if set(spec.alert) - KNOWN_ROLES:
            _fail(flow, f"deadline {spec.name!r} alerts unknown roles")


def _calls_declared(flow: Flow) -> None:
    """An answer page finds the open call through `Flow.calls`: a flow with sign-ups names them."""
    if "sign_up" in flow.events() and not flow.calls:
        _fail(flow, "it has sign_up but declares no calls: add calls=(CALL, ...) to the Flow")
    windows = {d.name for d in flow.deadlines}
    for call in flow.calls:
        if call.window not in windows:
            _fail(flow, f"call to {call.role!r} has no deadline {call.window!r}: add call.term(...)")


def mails_of(flow: Flow) -> list[Mail]:
    found = [m for s in flow.states for m in s.mails]
    found += [r.mail for d in flow.deadlines for r in d.reminders]
    return found + [m for t in flow.transitions() for m in t.mails]


def _templates_present(flow: Flow, template_dir: Path) -> None:
    for m in mails_of(flow):
        for part in MAIL_PARTS:
            if not (template_dir / f"{m.template}{part}").is_file():
                _fail(flow, f"mail template {m.template}{part} is missing")
