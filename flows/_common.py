"""Pieces several flows share: who runs the process, and small named guards and actions."""

from __future__ import annotations

from datetime import date
from typing import Any

from engine.dsl import Context, Deadline, Guard, Transition, a_date, on, url
from engine.machine import data_with_payload
from engine.terms import format_date

SECRETARIAT = ("secretariat", "chair")
SECRETARIAT_OR_SYSTEM = (*SECRETARIAT, "system")


def remember(*names: str) -> Any:
    """An action that copies the named payload fields into the trajectory data."""

    def action(ctx: Context) -> dict[str, Any]:
        return dict(data_with_payload(ctx, *names))

    return action


def today_as(name: str, *payload_names: str) -> Any:
    """An action that stamps today's date under `name` and keeps the named payload fields."""

    def action(ctx: Context) -> dict[str, Any]:
        return {**data_with_payload(ctx, *payload_names), name: ctx.today.isoformat()}

    return action


def publish(ctx: Context) -> dict[str, Any]:
    """Record where the advice was published."""
    return {**ctx.data, "published_url": ctx.payload["url"]}


def _not_published(ctx: Context) -> bool:
    return not ctx.data.get("published_url")


NOT_PUBLISHED = Guard("not_published", _not_published, "De publicatie is al vastgelegd.")


def response_date_problem(ctx: Context) -> str | None:
    """The college's response cannot arrive in the future, nor before the advice was sent."""
    arrived = date.fromisoformat(ctx.payload["received_on"])
    if arrived > ctx.today:
        return f"De reactie kan niet in de toekomst binnenkomen ({format_date(arrived)})."
    sent = ctx.data.get("advice_sent_on")
    if sent and arrived < date.fromisoformat(sent):
        return (f"De reactie ({format_date(arrived)}) kan niet eerder binnenkomen dan het advies "
                f"is verstuurd ({format_date(date.fromisoformat(sent))}).")
    return None


RESPONSE_DATE_FITS = response_date_problem


#: The college's written response: its term runs from the day the advice was sent; reminders and
#: the overdue alert go to the liaison and the secretariat (DESIGN.md §3, every flow).
RESPONSE_DUE = Deadline("response_due", "reactietermijn college", ("awaiting_response",),
                        org_term="response_term", base="advice_sent_on",
                        base_label="verzending van het advies", alert=("liaison", "secretariat"))
#: After the response: 6 months from the day it arrived, or the agreed date.
FOLLOW_UP = Deadline("follow_up", "nazorg", ("monitoring",), term="6m", override="follow_up_on",
                     base="response_received_on", base_label="ontvangst van de reactie")
FOLLOW_UP_ON = a_date("follow_up_on", "datum voor de nazorg", required=False)


def record_response(ctx: Context) -> dict[str, Any]:
    """Keep the college's response and the day it arrived (and an agreed follow-up date)."""
    return {**remember("follow_up_on")(ctx), "response_document": ctx.payload["document"],
            "response_received_on": ctx.payload["received_on"]}


def publish_exit() -> Transition:
    """`publish` (url): where the advice was published, recorded once."""
    return on("publish", by=SECRETARIAT, fields=(url("url", "webadres"),), action=publish,
              label="publicatie vastleggen").stay(when=NOT_PUBLISHED)
