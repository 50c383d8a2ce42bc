"""A flow, drawn from its definition: a Markdown table and a Mermaid state diagram."""

from __future__ import annotations

from engine.dsl import Flow, Transition
from engine.machine import CompiledFlow


def markdown(compiled: CompiledFlow) -> str:
    flow = compiled.flow
    lines = [
        f"# {flow.title} (`{flow.name}`, versie {flow.version})",
        "",
        "Generated from the flow definition by `advies flows show "
        f"{flow.name} --format md`; do not edit by hand.",
        "",
        "| state | label | event | to | who | guard | fields | mails |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for state in flow.states:
        lines += _state_rows(flow, state.name, state.label)
    lines += ["", "## Deadlines", "", "| deadline | label | term | from | guards states | on expiry |",
              "| --- | --- | --- | --- | --- | --- |"]
    for d in flow.deadlines:
        term = f"organisation `{d.org_term}`" if d.org_term else f"`{d.term}`"
        lines.append(f"| `{d.name}` | {d.label} | {term} | {d.base_label} | "
                     f"{', '.join(d.guards)} | {d.on_expiry or ''} |")
    lines += ["", "## Diagram", "", "```mermaid", mermaid(compiled), "```", ""]
    return "\n".join(lines)


def _state_rows(flow: Flow, name: str, label: str) -> list[str]:
    state = flow.state(name)
    own = [t.from_states(name) for t in state.exits]
    if state.final:
        return [f"| `{name}` | {label} | (final) | | | | | |"]
    return [_row(name, label, t) for t in own] or [f"| `{name}` | {label} | | | | | | |"]


def _row(name: str, label: str, t: Transition) -> str:
    guard = t.when.name if t.when else ""
    fields = ", ".join(f.name + ("" if f.required else "?") for f in t.fields)
    mails = ", ".join(m.template.split("/")[-1] for m in t.mails)
    dest = t.dest or "(stays)"
    return (f"| `{name}` | {label} | `{t.event}` | {dest} | {', '.join(t.by)} | {guard} | "
            f"{fields} | {mails} |")


def mermaid(compiled: CompiledFlow) -> str:
    flow = compiled.flow
    lines = ["stateDiagram-v2", f"  [*] --> {flow.start}"]
    seen: set[tuple[str, str, str]] = set()
    for t in flow.transitions():
        for source in t.source:
            edge = (source, t.dest or source, t.event)
            if edge not in seen and t.dest is not None and t not in flow.anywhere:
                seen.add(edge)
                lines.append(f"  {source} --> {edge[1]}: {t.event}")
    lines += [f"  {s} --> [*]" for s in sorted(flow.final_states)]
    lines.append(f"  note left of {flow.start}: withdraw, suspend, resume, extend kunnen overal")
    return "\n".join(lines)


def svg(compiled: CompiledFlow) -> str:
    """An SVG drawing by transitions' GraphMachine and Graphviz (`dot` must be installed)."""
    from engine.errors import InvalidInput

    try:
        from transitions.extensions import GraphMachine

        flow = compiled.flow
        machine = GraphMachine(
            model=None, states=[s.name for s in flow.states], initial=flow.start,
            auto_transitions=False, graph_engine="graphviz", title=flow.title,
            transitions=[{"trigger": t.event, "source": list(t.source), "dest": t.dest}
                         for t in flow.transitions() if t.dest is not None and t not in flow.anywhere],
        )
        image = machine.get_combined_graph().draw(None, format="svg", prog="dot")
    except (ImportError, OSError, RuntimeError) as error:
        raise InvalidInput("Voor svg zijn Graphviz en het pakket 'graphviz' nodig "
                           "(apt-get install graphviz; pip install graphviz). "
                           "Gebruik anders --format mermaid.") from error
    return image.decode() if isinstance(image, bytes) else str(image)
