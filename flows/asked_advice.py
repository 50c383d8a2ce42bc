"""Gevraagd advies (Groningen, "Stroomschema gevraagd advies").

A policy adviser asks the council for advice; the secretariat calls the members, a project
group forms, chooses a contact person, gathers input, advises, and the college responds in
writing.
"""

from __future__ import annotations

from typing import Any

from engine import standard
from engine.dsl import (
    Context,
    Deadline,
    Flow,
    Guard,
    Reminder,
    State,
    a_date,
    a_time,
    longtext,
    mail,
    on,
    person,
    text,
    to,
    url,
)
from engine.machine import CompiledFlow
from flows import TEMPLATE_DIR
from flows._common import (
    NOT_PUBLISHED,
    SECRETARIAT,
    SECRETARIAT_OR_SYSTEM,
    publish,
    remember,
    today_as,
)

GROUP_WORK = (*SECRETARIAT, "contact_person")

# --- guards: named questions, no I/O -------------------------------------------------------


def _signups(ctx: Context) -> list[str]:
    return list(ctx.data.get("signups", []))


def _is_new(ctx: Context) -> bool:
    return ctx.actor.email not in _signups(ctx)


NEW_WITH_ROOM = Guard(
    "new_signup_with_room",
    lambda c: _is_new(c) and len(_signups(c)) < c.org.group_max,
    "Je bent al aangemeld.",
)
NEW_AS_RESERVE = Guard(
    "new_signup_as_reserve",
    lambda c: _is_new(c) and len(_signups(c)) >= c.org.group_max,
    "Je bent al aangemeld.",
)
SIGNED_UP = Guard("signed_up", lambda c: not _is_new(c), "Je was niet aangemeld.")
ENOUGH_SIGNUPS = Guard(
    "enough_signups",
    lambda c: len(_signups(c)) >= c.org.group_min,
    "Er hebben zich te weinig deelnemers aangemeld.",
)
ANY_SIGNUP = Guard(
    "any_signup", lambda c: bool(_signups(c)), "Er heeft zich nog niemand aangemeld."
)
CONTACT_IN_GROUP = Guard(
    "contact_in_group",
    lambda c: c.payload.get("contact_person") in c.data.get("group", []),
    "Het centraal aanspreekpunt moet in de projectgroep zitten.",
)

# --- actions: the new data of the trajectory, pure ------------------------------------------


def _start(ctx: Context) -> dict[str, Any]:
    data = dict(ctx.data)
    data.setdefault("received_on", ctx.today.isoformat())
    return data


def _sign_up(ctx: Context) -> dict[str, Any]:
    return {**ctx.data, "signups": [*_signups(ctx), ctx.actor.email]}


def _withdraw_signup(ctx: Context) -> dict[str, Any]:
    return {**ctx.data, "signups": [e for e in _signups(ctx) if e != ctx.actor.email]}


def _form_group(ctx: Context) -> dict[str, Any]:
    signups, size = _signups(ctx), ctx.org.group_max
    return {**ctx.data, "group": signups[:size], "reserves": signups[size:]}


def _proceed_anyway(ctx: Context) -> dict[str, Any]:
    return {**_form_group(ctx), "proceed_reason": ctx.payload["reason"]}


def _choose_contact(ctx: Context) -> dict[str, Any]:
    return {**ctx.data, "contact_person": ctx.payload["contact_person"]}


def _record_response(ctx: Context) -> dict[str, Any]:
    return {
        **remember("response_document", "follow_up_on")(ctx),
        "response_document": ctx.payload["document"],
        "response_received_on": ctx.payload["received_on"],
    }


#: "Two working days before the call closes, members who have not answered get one reminder."
CALL_REMINDER = Reminder(
    name="call_reminder",
    before="2wd",
    mail=mail("asked_advice/call_reminder", to("member"), answer_link=True),
    skip_lists=("signups",),
    skip_events=("sign_up", "withdraw_signup"),
)

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
FOLLOW_UP = a_date("follow_up_on", "datum voor de nazorg", required=False)

FLOW = Flow(
    name="asked_advice",
    title="Gevraagd advies",
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
        Deadline("signup_closes", "aanmeldtermijn", ("calling",), org_term="signup_window",
                 base_label="de oproep", on_expiry="close_signup", reminders=(CALL_REMINDER,)),
        Deadline("response_due", "reactietermijn college", ("awaiting_response",),
                 org_term="response_term", base="advice_sent_on",
                 base_label="verzending van het advies", alert=("liaison", "secretariat")),
        Deadline("follow_up", "nazorg", ("monitoring",), term="6m", override="follow_up_on",
                 base_label="de reactie"),
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
              mails=(mail("asked_advice/call", to("member"), answer_link=True),),
              exits=(
                  on("sign_up", by=("member",), action=_sign_up, label="aanmelden")
                  .stay(when=NEW_WITH_ROOM,
                        mails=(mail("asked_advice/signup_confirmed", to(actor=True)),)),
                  on("sign_up", by=("member",), action=_sign_up, label="aanmelden")
                  .stay(when=NEW_AS_RESERVE,
                        mails=(mail("asked_advice/signup_reserve", to(actor=True)),)),
                  on("withdraw_signup", by=("member",), action=_withdraw_signup,
                     label="afmelden")
                  .stay(when=SIGNED_UP,
                        mails=(mail("asked_advice/signup_withdrawn", to(actor=True)),)),
                  on("close_signup", by=SECRETARIAT_OR_SYSTEM, action=_form_group,
                     label="aanmelding sluiten")
                  .to("matching", when=ENOUGH_SIGNUPS),
                  on("close_signup", by=SECRETARIAT_OR_SYSTEM, action=_form_group,
                     label="aanmelding sluiten")
                  .to("understaffed"),
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
                  mail("asked_advice/reserve_list", to(lists=("reserves",))),
              ),
              exits=(
                  on("plan_meeting", by=SECRETARIAT,
                     fields=(a_date("meeting_on", "datum eerste bijeenkomst"),
                             a_time("meeting_time", "tijd", required=False),
                             text("meeting_place", "plaats", required=False)),
                     action=remember("meeting_on", "meeting_time", "meeting_place"),
                     label="eerste bijeenkomst plannen")
                  .stay(mails=(mail("asked_advice/meeting_invitation",
                                    to(fields=("policy_adviser",), lists=("group",)),
                                    invitation=True),)),
                  on("first_meeting_held", by=(*SECRETARIAT, "policy_adviser"),
                     label="eerste bijeenkomst gehouden")
                  .to("choosing_contact"),
              )),
        State("choosing_contact", "Centraal aanspreekpunt kiezen", exits=(
            on("choose_contact", by=SECRETARIAT,
               fields=(person("contact_person", "centraal aanspreekpunt"),),
               action=_choose_contact, label="aanspreekpunt kiezen")
            .to("consulting", when=CONTACT_IN_GROUP, mails=(
                mail("asked_advice/contact_chosen",
                     to(fields=("policy_adviser",), lists=("group",))),)),
        )),
        State("consulting", "Meedenkomgeving: input ophalen", exits=(
            on("consultation_done", by=GROUP_WORK, label="input opgehaald").to("advising"),
        )),
        State("advising", "Advies schrijven", exits=(
            on("send_advice", by=GROUP_WORK, fields=(longtext("document", "advies"),),
               action=today_as("advice_sent_on", "document"), label="advies versturen")
            .to("awaiting_response", mails=(
                mail("asked_advice/advice_sent",
                     to("liaison", "alderman", fields=("policy_adviser",), lists=("group",))),)),
            on("conclude_jointly", by=GROUP_WORK, fields=(FOLLOW_UP,),
               action=remember("follow_up_on"), label="samen afgerond")
            .to("monitoring"),
        )),
        State("awaiting_response", "Wachten op de reactie van het college", exits=(
            on("record_response", by=(*SECRETARIAT, "liaison"),
               fields=(a_date("received_on", "datum van ontvangst"),
                       longtext("document", "reactie van het college"), FOLLOW_UP),
               action=_record_response, label="reactie vastleggen")
            .to("monitoring", mails=(
                mail("asked_advice/response_received",
                     to("member", fields=("policy_adviser",), lists=("group",))),)),
            on("publish", by=SECRETARIAT, fields=(url("url", "webadres"),),
               action=publish, label="publicatie vastleggen")
            .stay(when=NOT_PUBLISHED),
        )),
        State("monitoring", "Nazorg: volgen wat er met het advies gebeurt", exits=(
            on("close", by=SECRETARIAT, label="afsluiten").to("closed"),
            on("publish", by=SECRETARIAT, fields=(url("url", "webadres"),),
               action=publish, label="publicatie vastleggen")
            .stay(when=NOT_PUBLISHED),
        )),
        State("declined", "Afgewezen", final=True, cancels=True),
        State("withdrawn", "Ingetrokken", final=True, cancels=True),
        State("closed", "Afgesloten", final=True),
    ),
    anywhere=standard.exits(SECRETARIAT),
)

COMPILED = CompiledFlow(FLOW, TEMPLATE_DIR)
