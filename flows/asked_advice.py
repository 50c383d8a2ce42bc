"""Gevraagd advies (Groningen, "Stroomschema gevraagd advies").

A policy adviser asks the council for advice; the secretariat calls the members, a project
group forms, chooses a contact person, gathers input, advises, and the college responds in
writing.
"""

from __future__ import annotations

from typing import Any

from engine import standard
from engine.calls import Call
from engine.dsl import (
    Context,
    Deadline,
    Flow,
    Guard,
    State,
    a_date,
    a_time,
    longtext,
    mail,
    on,
    person,
    text,
    to,
)
from engine.machine import CompiledFlow
from flows import TEMPLATE_DIR
from flows._common import (
    FOLLOW_UP,
    FOLLOW_UP_ON,
    RESPONSE_DATE_FITS,
    RESPONSE_DUE,
    SECRETARIAT,
    SECRETARIAT_OR_SYSTEM,
    publish_exit,
    record_response,
    remember,
    today_as,
)

GROUP_WORK = (*SECRETARIAT, "contact_person")

#: The call to every member to join the project group (engine.calls: one mechanism).
CALL = Call(role="member", invitation="asked_advice/call")

# --- guards: named questions, no I/O -------------------------------------------------------

ANY_SIGNUP = Guard(
    "any_signup", lambda c: bool(CALL.listed(c)), "Er heeft zich nog niemand aangemeld."
)
CONTACT_IN_GROUP = Guard(
    "contact_in_group",
    lambda c: c.payload.get("contact_person") in c.data.get("group", []),
    "Het centraal aanspreekpunt moet in de groep zitten.",
    explain=lambda c: f"Het centraal aanspreekpunt moet in de {c.org.words.group} zitten.",
)

# --- actions: the new data of the trajectory, pure ------------------------------------------


def _start(ctx: Context) -> dict[str, Any]:
    data = dict(ctx.data)
    data.setdefault("received_on", ctx.today.isoformat())
    return data


def _proceed_anyway(ctx: Context) -> dict[str, Any]:
    return {**CALL.form_group(ctx), "proceed_reason": ctx.payload["reason"]}


def _choose_contact(ctx: Context) -> dict[str, Any]:
    return {**ctx.data, "contact_person": ctx.payload["contact_person"]}


def _plan_meeting(ctx: Context) -> dict[str, Any]:
    """The first meeting: its day, and its time and place when given (a new plan without them
    drops the old ones). Planned again it is the same meeting, one `meeting_sequence` further,
    so the invitation updates the calendar's appointment instead of adding one."""
    sequence = int(ctx.data.get("meeting_sequence") or 0) + 1 if "meeting_on" in ctx.data else 0
    return {**ctx.data, "meeting_on": ctx.payload["meeting_on"],
            "meeting_time": ctx.payload.get("meeting_time") or None,
            "meeting_place": ctx.payload.get("meeting_place") or None,
            "meeting_sequence": sequence}




REPLACE_MEMBER = CALL.replace_member(SECRETARIAT)

# --- the flow, one state after another ------------------------------------------------------

ADVISING_STATES = (
    "requested",
    "calling",
    "understaffed",
    "matching",
    "choosing_contact",
    "consulting",
    "advising",
)
REASON = text("reason", "reden")

FLOW = Flow(
    name="asked_advice",
    title="Gevraagd advies",
    description="De gemeente vraagt de adviesraad om advies over een plan of besluit.",
    version=1,
    start="requested",
    start_by=SECRETARIAT,
    start_fields=(
        text("title", "titel"),
        person("policy_adviser", "beleidsadviseur"),
        a_date("received_on", "datum van ontvangst", required=False),
        a_date("advice_due", "afgesproken einddatum voor het advies", required=False),
    ),
    start_action=_start,
    deadlines=(
        Deadline("advice_due", "adviestermijn", ADVISING_STATES, org_term="advice_term",
                 base="received_on", base_label="ontvangst", override="advice_due"),
        CALL.term(("calling",)),
        RESPONSE_DUE,
        FOLLOW_UP,
    ),
    states=(
        State("requested", "Aanvraag ontvangen",
              mails=(mail("asked_advice/receipt", to(fields=("policy_adviser",))),),
              exits=(
                  on("call_participants", by=SECRETARIAT, label="deelnemers oproepen")
                  .to("calling"),
                  on("decline", by=SECRETARIAT, fields=(REASON,), action=remember("reason"),
                     label="afwijzen")
                  .to("declined", mails=(
                      mail("asked_advice/declined", to(fields=("policy_adviser",))),)),
              )),
        State("calling", "Oproep aan de deelnemers",
              mails=(CALL.invite(),),
              exits=(
                  *CALL.answers(),
                  *CALL.closing(SECRETARIAT_OR_SYSTEM, "matching", short="understaffed"),
              )),
        State("understaffed", "Te weinig aanmeldingen",
              mails=(mail("asked_advice/understaffed", to("secretariat")),),
              exits=(
                  on("call_again", by=SECRETARIAT, label="opnieuw oproepen").to("calling"),
                  on("proceed_anyway", by=SECRETARIAT, fields=(REASON,),
                     action=_proceed_anyway, label="toch doorgaan")
                  .to("matching", when=ANY_SIGNUP),
                  on("decline", by=SECRETARIAT, fields=(REASON,), action=remember("reason"),
                     label="afwijzen")
                  .to("declined", mails=(
                      mail("asked_advice/declined", to(fields=("policy_adviser",))),)),
              )),
        State("matching", "Projectgroep en beleidsadviseur samenbrengen",
              mails=(
                  mail("asked_advice/group_formed",
                       to(fields=("policy_adviser",), lists=("group",))),
              ),
              exits=(
                  REPLACE_MEMBER,
                  on("plan_meeting", by=SECRETARIAT,
                     fields=(a_date("meeting_on", "datum eerste bijeenkomst"),
                             a_time("meeting_time", "tijd", required=False),
                             text("meeting_place", "plaats", required=False)),
                     action=_plan_meeting,
                     label="eerste bijeenkomst plannen")
                  .stay(mails=(mail("asked_advice/meeting_invitation",
                                    to(fields=("policy_adviser",), lists=("group",)),
                                    invitation=True),)),
                  on("first_meeting_held", by=(*SECRETARIAT, "policy_adviser"),
                     label="eerste bijeenkomst gehouden")
                  .to("choosing_contact"),
              )),
        State("choosing_contact", "Centraal aanspreekpunt kiezen", exits=(
            REPLACE_MEMBER,
            on("choose_contact", by=SECRETARIAT,
               fields=(person("contact_person", "centraal aanspreekpunt"),),
               action=_choose_contact, label="aanspreekpunt kiezen")
            .to("consulting", when=CONTACT_IN_GROUP, mails=(
                mail("asked_advice/contact_chosen",
                     to(fields=("policy_adviser",), lists=("group",))),)),
        )),
        State("consulting", "Meedenkomgeving: input ophalen", exits=(
            REPLACE_MEMBER,
            on("consultation_done", by=GROUP_WORK, label="input opgehaald").to("advising"),
        )),
        State("advising", "Advies schrijven", exits=(
            REPLACE_MEMBER,
            on("send_advice", by=GROUP_WORK, fields=(longtext("document", "advies"),),
               action=today_as("advice_sent_on", "document"), label="advies versturen")
            .to("awaiting_response", mails=(
                mail("asked_advice/advice_sent",
                     to("liaison", "alderman", fields=("policy_adviser",), lists=("group",))),)),
            on("conclude_jointly", by=GROUP_WORK, fields=(FOLLOW_UP_ON,),
               action=remember("follow_up_on"), label="samen afgerond")
            .to("monitoring"),
        )),
        State("awaiting_response", "Wachten op de reactie van het college", exits=(
            REPLACE_MEMBER,
            on("record_response", by=(*SECRETARIAT, "liaison"),
               fields=(a_date("received_on", "datum van ontvangst"),
                       longtext("document", "reactie van het college"), FOLLOW_UP_ON),
               action=record_response, label="reactie vastleggen", checks=(RESPONSE_DATE_FITS,))
            .to("monitoring", mails=(
                mail("asked_advice/response_received",
                     to("member", fields=("policy_adviser",), lists=("group",))),)),
            publish_exit(),
        )),
        State("monitoring", "Nazorg: volgen wat er met het advies gebeurt", exits=(
            REPLACE_MEMBER,
            on("close", by=SECRETARIAT, label="afsluiten").to("closed"),
            publish_exit(),
        )),
        State("declined", "Afgewezen", final=True, cancels=True),
        State("withdrawn", "Ingetrokken", final=True, cancels=True),
        State("closed", "Afgesloten", final=True),
    ),
    anywhere=standard.exits(SECRETARIAT, calls=(CALL,)),
    calls=(CALL,),
)

COMPILED = CompiledFlow(FLOW, TEMPLATE_DIR)
