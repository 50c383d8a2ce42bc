"""Ongevraagd advies (Groningen, "Stroomschema ongevraagd advies").

A member or the secretariat signals a concern; the council asks the official involved for an
appointment and then either hands it over as an asked advice (the municipality and the council
work on it together), writes an advice of its own, or lets it rest.
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
    StartFlow,
    State,
    a_date,
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

#: The own track's call to every member to join a group: the same mechanism as asked advice.
#: Without a minimum: the council chose to write this advice itself, so the track goes on with
#: whoever signs up (the secretariat may call again from `own_track`).
CALL = Call(role="member", invitation="unasked_advice/call", minimum=False)

#: Who hears of a withdrawal, suspension, resumption or extension: the official, the signaller
#: and the group.
CONCERNED = to(fields=("official", "signalled_by"), lists=("group",))

# --- guards: named questions, no I/O -------------------------------------------------------


def _uses_asked_advice(ctx: Context) -> bool:
    return ctx.org.flows is None or "asked_advice" in ctx.org.flows


USES_ASKED_ADVICE = Guard(
    "uses_asked_advice",
    _uses_asked_advice,
    "Deze organisatie gebruikt geen gevraagd advies: het signaal kan niet verder als gevraagd advies.",
    explain=lambda c: f"{c.org.name} gebruikt geen gevraagd advies: het signaal kan niet verder "
                      f"als gevraagd advies. Kies 'zelf een advies schrijven' of 'geen actie'.",
)

# --- actions: the new data of the trajectory, pure ------------------------------------------


def _start(ctx: Context) -> dict[str, Any]:
    """The signaller is the person who starts, unless someone else is named."""
    return {**ctx.data, "signalled_by": ctx.data.get("signalled_by") or ctx.actor.email}


def _handoff(ctx: Context) -> dict[str, Any]:
    """The start fields of the asked advice the handoff opens: the official asks, today."""
    payload = {"title": ctx.data["title"], "policy_adviser": ctx.data["official"],
               "received_on": ctx.today.isoformat(), "signalled_by": ctx.data["signalled_by"]}
    if ctx.data.get("summary"):
        payload["summary"] = ctx.data["summary"]
    return payload



# --- exits more than one state has ----------------------------------------------------------

REASON = text("reason", "reden")
COLLABORATE = on("collaboration_agreed", by=SECRETARIAT, label="samenwerking afgesproken").to(
    "handed_over", when=USES_ASKED_ADVICE,
    mails=(mail("unasked_advice/handed_over",
                to("secretariat", fields=("official", "signalled_by"))),))
PUBLISH = publish_exit()

# --- the flow, one state after another ------------------------------------------------------

FLOW = Flow(
    name="unasked_advice",
    title="Ongevraagd advies",
    description="De adviesraad geeft uit zichzelf advies aan het college.",
    version=1,
    start="signalled",
    start_by=(*SECRETARIAT, "member"),
    start_fields=(
        text("title", "onderwerp"),
        person("signalled_by", "wie het signaal geeft", required=False),
        longtext("summary", "samenvatting", required=False),
    ),
    start_action=_start,
    deadlines=(
        Deadline("appointment", "afspraak met de ambtenaar", ("contacting",),
                 org_term="appointment_term", base_label="het verzoek om een afspraak",
                 alert=("secretariat",)),
        CALL.term(("own_track_calling",)),
        RESPONSE_DUE,
        FOLLOW_UP,
    ),
    states=(
        State("signalled", "Signaal ontvangen",
              mails=(mail("unasked_advice/signal_received", to("secretariat")),),
              exits=(
                  on("contact_official", by=SECRETARIAT,
                     fields=(person("official", "ambtenaar", role="policy_adviser"),),
                     action=remember("official"), label="ambtenaar benaderen")
                  .to("contacting"),
                  on("drop", by=SECRETARIAT, fields=(REASON,), action=remember("reason"),
                     label="laten rusten")
                  .to("dropped", mails=(
                      mail("unasked_advice/dropped", to(fields=("signalled_by",))),)),
              )),
        State("contacting", "Afspraak maken met de ambtenaar",
              mails=(mail("unasked_advice/appointment_request", to(fields=("official",))),),
              exits=(
                  on("appointment_held", by=(*SECRETARIAT, "policy_adviser"),
                     fields=(longtext("note", "wat het gesprek opleverde", required=False),),
                     action=remember("note"), label="afspraak gehouden")
                  .to("deciding"),
                  COLLABORATE,
              )),
        State("deciding", "Besluiten welke actie volgt", exits=(
            on("start_own_track", by=SECRETARIAT, label="zelf een advies schrijven")
            .to("own_track", mails=(
                mail("unasked_advice/own_track",
                     to("secretariat", fields=("signalled_by", "official"))),)),
            on("no_action", by=SECRETARIAT, fields=(REASON,), action=remember("reason"),
               label="geen actie")
            .to("closed", mails=(
                mail("unasked_advice/no_action", to(fields=("signalled_by",))),)),
            COLLABORATE,
        )),
        State("own_track", "Eigen advies schrijven", exits=(
            on("call_participants", by=SECRETARIAT, label="deelnemers oproepen")
            .to("own_track_calling"),
            CALL.replace_member(SECRETARIAT),
            on("send_advice", by=GROUP_WORK, fields=(longtext("document", "advies"),),
               action=today_as("advice_sent_on", "document"), label="advies versturen")
            .to("awaiting_response", mails=(
                mail("unasked_advice/advice_sent",
                     to("liaison", "alderman", fields=("official",), lists=("group",))),)),
        )),
        State("own_track_calling", "Oproep aan de deelnemers",
              mails=(CALL.invite(),),
              exits=(
                  *CALL.answers(),
                  *CALL.closing(SECRETARIAT_OR_SYSTEM, "own_track", mails=(
                      mail("unasked_advice/group_formed", to("secretariat", lists=("group",))),)),
              )),
        State("awaiting_response", "Wachten op de reactie van het college", exits=(
            on("record_response", by=(*SECRETARIAT, "liaison"),
               fields=(a_date("received_on", "datum van ontvangst"),
                       longtext("document", "reactie van het college"), FOLLOW_UP_ON),
               action=record_response, label="reactie vastleggen", checks=(RESPONSE_DATE_FITS,))
            .to("monitoring", mails=(
                mail("unasked_advice/response_received",
                     to("member", fields=("official",), lists=("group",))),)),
            PUBLISH,
        )),
        State("monitoring", "Nazorg: volgen wat er met het advies gebeurt", exits=(
            on("close", by=SECRETARIAT, label="afsluiten").to("closed"),
            PUBLISH,
        )),
        State("handed_over", "Verder als gevraagd advies", final=True, starts=(
            StartFlow("asked_advice", payload=_handoff, relation="continued_as", back="continues"),
        )),
        State("dropped", "Signaal laten rusten", final=True, cancels=True),
        State("withdrawn", "Ingetrokken", final=True, cancels=True),
        State("closed", "Afgesloten", final=True),
    ),
    anywhere=standard.exits(SECRETARIAT, concerned=CONCERNED, calls=(CALL,)),
    calls=(CALL,),
)

COMPILED = CompiledFlow(FLOW, TEMPLATE_DIR)
