"""A flow, drawn from its definition: a Markdown table, a Mermaid state diagram and an SVG
picture (drawn here, so no Graphviz is needed)."""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape

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


def edges(flow: Flow) -> list[tuple[str, str, str]]:
    """(source, destination, event) of every drawn exit, each once; the exits that every open
    state has (suspend, resume, extend) are left out and named in a note."""
    seen: dict[tuple[str, str, str], None] = {}
    for t in flow.transitions():
        if t.dest is not None and t not in flow.anywhere:
            for source in t.source:
                seen.setdefault((source, t.dest, t.event))
    return list(seen)


def mermaid(compiled: CompiledFlow) -> str:
    flow = compiled.flow
    lines = ["stateDiagram-v2", f"  [*] --> {flow.start}"]
    lines += [f"  {source} --> {dest}: {event}" for source, dest, event in edges(flow)]
    lines += [f"  {s} --> [*]" for s in sorted(flow.final_states)]
    lines.append(f"  note left of {flow.start}: {EVERYWHERE}")
    return "\n".join(lines)


EVERYWHERE = "withdraw, suspend, resume, extend kunnen overal"

# --- an SVG drawing, made here without Graphviz ---------------------------------------------

BOX_H, GAP_X, GAP_Y, MARGIN = 46, 130, 90, 30
ROW = BOX_H + GAP_Y
CHAR_W = 7.2  # about the width of one bold character at 12px
SMALL_W = 6.2  # and of one character of an event's name at 11px


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    width: float

    @property
    def top(self) -> tuple[float, float]:
        return self.x + self.width / 2, self.y

    @property
    def bottom(self) -> tuple[float, float]:
        return self.x + self.width / 2, self.y + BOX_H

    @property
    def left(self) -> tuple[float, float]:
        return self.x, self.y + BOX_H / 2

    @property
    def right(self) -> tuple[float, float]:
        return self.x + self.width, self.y + BOX_H / 2


def svg(compiled: CompiledFlow, current: str | None = None) -> str:
    """The flow as an SVG picture: the states in rows from the start downwards (final states in
    the last row), an arrow with its event for every exit. Pure Python, no Graphviz needed.
    Exits every open state has (withdraw) are named once below instead of drawn from each.

    With `current` (a state of the flow) the picture marks where a trajectory is: that state's
    box has a thick dark border, a light yellow fill and the words "(nu)" (never colour alone),
    and the picture is an image (role="img") whose name says the current step, for pages that
    show it inline. Only presentation attributes, no style attributes (a page's CSP)."""
    flow = compiled.flow
    if current is not None:
        flow.state(current)  # KeyError for a state the flow does not have
    everywhere = _everywhere(flow)
    drawn = [e for e in edges(flow) if e[2] not in everywhere]
    side = max((len(event) for _a, _b, event in drawn), default=0) * SMALL_W + 50
    boxes = _layout(flow, drawn, side)
    width = max(b.x + b.width for b in boxes.values()) + MARGIN + side
    height = max(b.y for b in boxes.values()) + BOX_H + MARGIN + 30
    start = boxes[flow.start].top
    note = ", ".join([*sorted(everywhere), "suspend", "resume", "extend"]) + " kunnen in elke open stap"
    return "\n".join([
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="sans-serif" font-size="12"'
        f'{_image_name(flow, current)}>',
        f"<title>{escape(flow.title)} ({escape(flow.name)}, versie {flow.version})</title>",
        '<defs><marker id="pijl" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#444"/></marker></defs>',
        '<rect width="100%" height="100%" fill="white"/>',
        f'<circle cx="{start[0]:.0f}" cy="{start[1] - 22:.0f}" r="6" fill="#444"/>',
        _path([(start[0], start[1] - 16), (start[0], start[1] - 16), start, start], None),
        *(_arrow(boxes[a], boxes[b], event, side) for a, b, event in drawn),
        *(_state(s.name, s.label, s.final, boxes[s.name], now=s.name == current)
          for s in flow.states),
        f'<text x="{MARGIN}" y="{height - 12:.0f}" fill="#555">{escape(note)}</text>',
        "</svg>",
    ])


CURRENT_MARK = "(nu)"


def _image_name(flow: Flow, current: str | None) -> str:
    """role="img" and a name that says the current step, for a picture shown inline."""
    if current is None:
        return ""
    name = f"Stroomschema {flow.title}. De huidige stap is: {flow.state(current).label}."
    return f' role="img" aria-label="{escape(name, {chr(34): "&quot;"})}"'


def _everywhere(flow: Flow) -> set[str]:
    """Events that lead from every open state to one and the same state."""
    open_states = {s.name for s in flow.states if not s.final}
    found: dict[tuple[str, str], set[str]] = {}
    for source, dest, event in edges(flow):
        found.setdefault((event, dest), set()).add(source)
    return {event for (event, _dest), sources in found.items()
            if len(open_states) > 2 and open_states <= sources}


def _layout(flow: Flow, drawn: list[tuple[str, str, str]], side: float) -> dict[str, Box]:
    """Rows by distance from the start state; the final states together in the last row."""
    rows: dict[str, int] = {flow.start: 0}
    queue = [flow.start]
    for name in queue:
        for source, dest, _event in drawn:
            if source == name and dest not in rows and dest not in flow.final_states:
                rows[dest] = rows[name] + 1
                queue.append(dest)
    last = max(rows.values(), default=0) + 1
    for state in flow.states:
        rows.setdefault(state.name, last if state.final else last - 1)
    width = max(max(len(s.label) * CHAR_W, (len(s.name) + len(CURRENT_MARK) + 1) * SMALL_W)
                for s in flow.states) + 24
    by_row: dict[int, list[str]] = {}
    for state in flow.states:
        by_row.setdefault(rows[state.name], []).append(state.name)
    return {name: Box(MARGIN + side + column * (width + GAP_X), MARGIN + 30 + row * (BOX_H + GAP_Y),
                      width)
            for row, names in by_row.items() for column, name in enumerate(names)}


def _state(name: str, label: str, final: bool, box: Box, *, now: bool = False) -> str:
    border = ' stroke-width="5"' if now else ' stroke-width="3"' if final else ""
    fill, stroke = ("#fff1a8", "#000") if now else ("#eef3fb", "#345")
    middle = box.x + box.width / 2
    title = f"{name} {CURRENT_MARK}: de huidige stap" if now else name
    second = f"{CURRENT_MARK} {name}" if now else name
    weight = ' font-weight="bold"' if now else ""
    return (f'<g><title>{escape(title)}</title>'
            f'<rect x="{box.x:.0f}" y="{box.y:.0f}" width="{box.width:.0f}" height="{BOX_H}" rx="8" '
            f'fill="{fill}" stroke="{stroke}"{border}/>'
            f'<text x="{middle:.0f}" y="{box.y + 19:.0f}" text-anchor="middle" '
            f'font-weight="bold">{escape(label)}</text>'
            f'<text x="{middle:.0f}" y="{box.y + 35:.0f}" text-anchor="middle" '
            f'fill="{"#000" if now else "#555"}"{weight}>{escape(second)}</text></g>')


def _arrow(source: Box, dest: Box, event: str, side: float) -> str:
    if 0 < dest.y - source.y <= ROW or (dest.y > source.y and dest.x != source.x):  # down
        a, b = source.bottom, dest.top
        return _path([a, (a[0], a[1] + GAP_Y / 2), (b[0], b[1] - GAP_Y / 2), b], event)
    if dest.y == source.y and dest.x > source.x:  # to the right in the same row
        a, b = source.right, dest.left
        return _path([a, a, b, b], event, above=True)
    if dest.y == source.y:  # to the left in the same row: over the top
        a, b = source.top, dest.top
        return _path([a, (a[0], a[1] - GAP_Y / 2), (b[0], b[1] - GAP_Y / 2), b], event)
    a, b = source.left, dest.left  # back up, or down past other rows: around the left-hand side
    bend = min(a[0], b[0]) - 40
    return _path([a, (bend, a[1]), (bend, b[1]), b], event, left=True)


def _path(points: list[tuple[float, float]], event: str | None, *, above: bool = False,
          left: bool = False) -> str:
    a, c1, c2, b = points
    d = f"M{a[0]:.0f},{a[1]:.0f} C{c1[0]:.0f},{c1[1]:.0f} {c2[0]:.0f},{c2[1]:.0f} {b[0]:.0f},{b[1]:.0f}"
    line = f'<path d="{d}" fill="none" stroke="#444" marker-end="url(#pijl)"/>'
    if event is None:
        return line
    x, y = (a[0] + 3 * c1[0] + 3 * c2[0] + b[0]) / 8, (a[1] + 3 * c1[1] + 3 * c2[1] + b[1]) / 8
    anchor = "middle" if above else "end" if left else "start"
    x += -4 if left else 0 if above else 4
    return (f"<g><title>{escape(event)}</title>{line}<text x=\"{x:.0f}\" y=\"{y - 4:.0f}\" "
            f'text-anchor="{anchor}" fill="#222" font-size="11">{escape(event)}</text></g>')
