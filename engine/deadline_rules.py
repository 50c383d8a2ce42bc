"""Which deadlines start, end or move when a trajectory moves. Pure."""

from __future__ import annotations

from datetime import date

from engine import effects
from engine.atw_calendar import default_calendar
from engine.dsl import Context, Deadline, DeadlineView, Flow
from engine.terms import (
    DueDate,
    Recess,
    Term,
    add_days,
    compute_due,
    format_date,
    parse_recess,
    parse_term,
)
from engine.terms import weekday_name as weekday

OPEN = frozenset({"running", "overdue"})


def on_move(flow: Flow, ctx: Context, source: str | None, dest: str) -> list[effects.Effect]:
    """Start the deadlines that guard `dest` but not `source`; close those left behind."""
    found: list[effects.Effect] = []
    for spec in flow.deadlines:
        was, now = source in spec.guards, dest in spec.guards
        if now and not was and not (spec.unless and spec.unless in ctx.data):
            due = due_for(spec, ctx)
            found.append(effects.StartDeadline(spec, due.due, due.explanation))
        elif was and not now and spec.name in ctx.deadlines:
            found.append(effects.CloseDeadline(spec.name, closing_status(
                ctx.deadlines[spec.name], ctx.today, cancelled=flow.state(dest).cancels)))
    return found


def on_ends(ctx: Context, names: tuple[str, ...], closed: set[str]) -> list[effects.Effect]:
    """The running deadlines an event meets in its own right (a call closed by hand)."""
    return [effects.CloseDeadline(n, closing_status(ctx.deadlines[n], ctx.today, cancelled=False))
            for n in names if n in ctx.deadlines and n not in closed]


def closing_status(view: DeadlineView, today: date, *, cancelled: bool) -> str:
    """How a term ends: cancelled (the trajectory stopped), met, or met after its end: late."""
    if cancelled:
        return "cancelled"
    return "met_late" if today > view.due else "met"


def due_for(spec: Deadline, ctx: Context) -> DueDate:
    """Compute a deadline's end from the organisation's term and the trajectory's data."""
    override = ctx.data.get(spec.override) if spec.override else None
    if override:
        return compute_due(ctx.today, Term("date", fixed=date.fromisoformat(override)))
    base_text = ctx.data.get(spec.base) if spec.base else None
    base = date.fromisoformat(base_text) if base_text else ctx.today
    return compute_due(
        base,
        term_of(spec, ctx),
        atw=spec.atw,
        recess=recess_of(ctx),
        base_label=spec.base_label,
    )


def term_of(spec: Deadline, ctx: Context) -> Term:
    text = ctx.org.terms.get(spec.org_term, "") if spec.org_term else spec.term
    return parse_term(text or "")


def recess_of(ctx: Context) -> Recess | None:
    if ctx.org.recess is None:
        return None
    start, end = ctx.org.recess
    return parse_recess(f"{start}:{end}")


def on_event(ctx: Context, event: str) -> list[effects.Effect]:
    """Suspend, resume and extend move running deadlines; other events leave them alone."""
    if event == "suspend":
        return [_suspend(d, ctx.today) for d in ctx.deadlines.values() if d.status in OPEN]
    if event == "resume":
        return [_resume(d, ctx.today) for d in ctx.deadlines.values() if d.status == "suspended"]
    if event == "extend":
        return [_extend(ctx)]
    return []


def _suspend(view: DeadlineView, today: date) -> effects.ChangeDeadline:
    line = f"Opgeschort op {format_date(today)}."
    return effects.ChangeDeadline(
        view.name, view.due, f"{view.explanation}\n{line}", "suspended", suspended_on=today
    )


def _resume(view: DeadlineView, today: date) -> effects.ChangeDeadline:
    paused = (today - (view.suspended_on or today)).days
    shifted = add_days(view.due, paused)  # TermError past the calendar, never a crash
    due, roll = _roll(shifted, view.atw)
    line = f"Hervat op {format_date(today)}: {paused} dagen opgeschort → {roll}{_day(due)}."
    return effects.ChangeDeadline(view.name, due, f"{view.explanation}\n{line}", "running")


def _extend(ctx: Context) -> effects.ChangeDeadline:
    view = ctx.deadlines[ctx.payload["deadline"]]
    due = new_end(ctx, view)
    reason = ctx.payload["reason"]
    line = f"Verlengd op {format_date(ctx.today)} ({reason}) → {_day(due)}."
    status = "suspended" if view.status == "suspended" else "running"
    return effects.ChangeDeadline(
        view.name, due, f"{view.explanation}\n{line}", status, suspended_on=view.suspended_on
    )


def new_end(ctx: Context, view: DeadlineView) -> date:
    """The end an `extend` asks for: an explicit date, or an extra term after the current end."""
    until = ctx.payload.get("until")
    if until:
        return date.fromisoformat(until)
    extra = parse_term(ctx.payload["extra"])
    return compute_due(view.due, extra, atw=view.atw, recess=recess_of(ctx)).due


def _roll(day: date, atw: bool) -> tuple[date, str]:
    calendar = default_calendar()
    if not atw or calendar.is_working_day(day):
        return day, ""
    first = day
    while not calendar.is_working_day(day):
        day = add_days(day, 1)
    return day, f"{format_date(first)} ({calendar.free_day_reason(first)}) → "


def _day(day: date) -> str:
    return f"{weekday(day)} {format_date(day)}"
