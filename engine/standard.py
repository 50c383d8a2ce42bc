"""Exits every open state of a flow has: withdraw, suspend, resume, extend."""

from __future__ import annotations

from datetime import date
from typing import Any

from engine import dsl
from engine.calls import Call
from engine.deadline_rules import new_end
from engine.dsl import Context, DeadlineView, Guard, Transition
from engine.machine import data_with_payload
from engine.terms import FUTURE_YEARS, TermError, format_date, latest_day


def _suspend(ctx: Context) -> dict[str, Any]:
    return {**ctx.data, "suspended_on": ctx.today.isoformat()}


def _resume(ctx: Context) -> dict[str, Any]:
    data = dict(ctx.data)
    data.pop("suspended_on", None)
    return data


def _remember_reason(ctx: Context) -> dict[str, Any]:
    return dict(data_with_payload(ctx, "reason"))


def _not_suspended(ctx: Context) -> bool:
    return not ctx.data.get("suspended_on")


def _suspended(ctx: Context) -> bool:
    return bool(ctx.data.get("suspended_on"))


def _extension_valid(ctx: Context) -> bool:
    return _extension_problem(ctx) is None


def _extended(ctx: Context) -> DeadlineView | None:
    """The running deadline an `extend` names, when it names one and one new end."""
    view = ctx.deadlines.get(ctx.payload.get("deadline", ""))
    if view is None or view.status not in ("running", "overdue", "suspended"):
        return None
    if bool(ctx.payload.get("until")) == bool(ctx.payload.get("extra")):
        return None
    return view


def _extension_problem(ctx: Context) -> str | None:
    """Why this extension is not possible now (the guard: exit 3)."""
    view = ctx.deadlines.get(ctx.payload.get("deadline", ""))
    if view is None or view.status not in ("running", "overdue", "suspended"):
        return "Die termijn loopt niet."
    if _extended(ctx) is None:
        return "Geef een nieuwe einddatum (until) óf een extra termijn (extra), niet allebei."
    end = _new_end_or_none(ctx, view)
    if end is not None and end <= view.due:
        return f"De nieuwe einddatum moet na {format_date(view.due)} liggen."
    return None


def _new_end_or_none(ctx: Context, view: DeadlineView) -> date | None:
    try:
        return new_end(ctx, view)
    except TermError:
        return None  # bad input, refused by `extension_input_problem` before the guard runs


def extension_input_problem(ctx: Context) -> str | None:
    """A new end past the calendar or more than FUTURE_YEARS away is bad input (exit 2)."""
    view = _extended(ctx)
    if view is None:
        return None
    try:
        end = new_end(ctx, view)
    except TermError as error:
        return str(error)
    if end > latest_day(ctx.today):
        return (f"De nieuwe einddatum {format_date(end)} ligt meer dan {FUTURE_YEARS} jaar "
                "na vandaag; kies een eerdere datum of een kortere verlenging.")
    return None


def extension_refusal(ctx: Context) -> str:
    return _extension_problem(ctx) or ""


NOT_SUSPENDED = Guard("not_suspended", _not_suspended, "Het traject is al opgeschort.")
SUSPENDED = Guard("suspended", _suspended, "Het traject is niet opgeschort.")
EXTENSION_VALID = Guard(
    "extension_valid",
    _extension_valid,
    "Deze verlenging kan niet: kies een lopende termijn en een latere einddatum.",
    explain=extension_refusal,
)


#: Who is told of a withdrawal, suspension, resumption or extension (DESIGN.md §3): the
#: official of the trajectory and the group; while the college's term runs, also the liaison
#: and the secretariat.
CONCERNED = dsl.to(fields=("policy_adviser",), lists=("group",))


def _college_term_runs(ctx: Context) -> bool:
    return "response_due" in ctx.deadlines


def _told(template: str, concerned: dsl.Recipients) -> tuple[dsl.Mail, ...]:
    return (dsl.mail(template, concerned),
            dsl.mail(template, dsl.to("liaison", "secretariat"), when=_college_term_runs))


def exits(by: tuple[str, ...], withdrawn: str = "withdrawn",
          concerned: dsl.Recipients = CONCERNED,
          calls: tuple[Call, ...] = ()) -> tuple[Transition, ...]:
    """withdraw (reason) → `withdrawn`; suspend / resume; extend (deadline, until|extra, reason).

    Each tells the people concerned, with the new dates; extending a call's sign-up term also
    tells everyone the call went to (`calls`: the flow's calls), with their link."""
    reason = dsl.text("reason", "reden")
    told_of_extension = _told("common/extended", concerned) + tuple(
        call.extension_mail() for call in calls)
    return (
        dsl.on("withdraw", by=by, fields=(reason,), action=_remember_reason,
               label="intrekken").to(withdrawn, mails=_told("common/withdrawn", concerned)),
        dsl.on("suspend", by=by, fields=(dsl.text("reason", "reden", required=False),),
               action=_suspend, label="opschorten")
        .stay(when=NOT_SUSPENDED, mails=_told("common/suspended", concerned)),
        dsl.on("resume", by=by, action=_resume, label="hervatten")
        .stay(when=SUSPENDED, mails=_told("common/resumed", concerned)),
        dsl.on(
            "extend",
            by=by,
            fields=(
                dsl.deadline_name("deadline", "termijn"),
                dsl.a_date("until", "nieuwe einddatum", required=False),
                dsl.term("extra", "extra termijn", required=False),
                reason,
            ),
            label="termijn verlengen",
            checks=(extension_input_problem,),
        ).stay(when=EXTENSION_VALID, mails=told_of_extension),
    )
