"""Midden-Drenthe's Adviesraad Sociaal Domein (seed 004, ch. 4, 9, 11, 13, appendix IV).

`md_signal`: a theme group brings in a signal; it goes to the officer, the municipality reports,
and when that is not enough to the alderman and on to an unasked advice, announced to the
college and adopted in the plenary meeting before it is sent.

`md_asked_advice`: the municipality asks for advice on a policy document; a theme group (or a
work group) drafts it with the Platform Inclusie, the plenary meeting adopts it, and the
documents the council decides on go on to the griffie with the college's response.
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
    choice,
    group,
    longtext,
    mail,
    on,
    people,
    person,
    text,
    to,
    url,
)
from engine.errors import NotAllowed
from engine.machine import CompiledFlow
from flows import TEMPLATE_DIR
from flows._common import (
    NOT_PUBLISHED,
    RESPONSE_DATE_FITS,
    SECRETARIAT,
    SECRETARIAT_OR_SYSTEM,
    publish,
    remember,
    today_as,
)

DOMAINS = ("Wmo", "Jeugdwet", "Participatiewet", "schuldhulpverlening", "armoedebeleid",
           "leerlingenvervoer")
INDIVIDUAL_CASE = ("Individuele casussen kunnen niet worden ingebracht: een signaal gaat over "
                   "hoe beleid uitpakt voor een groep inwoners, niet over één persoon.")
DOCUMENT_TYPES = ("beleidskader", "meerjarenplan", "verordening", "beleidsregel")
#: The document types the council (gemeenteraad) receives: their advice goes to the griffie.
COUNCIL_DECIDES = frozenset({"beleidskader", "meerjarenplan", "verordening"})
LIAISON_OR_SECRETARIAT = (*SECRETARIAT, "liaison")
ALERT = ("liaison", "secretariat")
REASON = text("reason", "reden")
DOCUMENT = longtext("document", "document")
CONCERNED_SIGNAL = to(fields=("officer",), lists=("group",))
CONCERNED_ASKED = to(fields=("policy_adviser",), lists=("group",))
PUBLISH = on("publish", by=SECRETARIAT, fields=(url("url", "webadres"),), action=publish,
             label="publicatie vastleggen").stay(when=NOT_PUBLISHED)


def _not_in_future(name: str, what: str) -> Any:
    def check(ctx: Context) -> str | None:
        if ctx.payload[name] > ctx.today.isoformat():
            return f"{what} kan niet in de toekomst liggen."
        return None

    return check


# --- md_signal ----------------------------------------------------------------------------


def _start_signal(ctx: Context) -> dict[str, Any]:
    """The theme group's members receive the trajectory's group mails; a group chair who is not
    the secretariat files a signal only for their own group."""
    chosen = ctx.org.groups[ctx.data["theme_group"]]
    if not ctx.actor.roles & set(SECRETARIAT) and chosen.chair != ctx.actor.email:
        raise NotAllowed(f"Je kunt alleen een signaal inbrengen voor je eigen "
                         f"{ctx.org.words.group}, niet voor '{chosen.name}'.")
    return {**ctx.data, "group": list(chosen.members)}


def _announced_and_adopted(ctx: Context) -> bool:
    return bool(ctx.data.get("announced_on")) and bool(ctx.data.get("adopted_on"))


def _what_is_missing(ctx: Context) -> str:
    missing = [what for key, what in (("announced_on", "aangekondigd bij het college"),
                                      ("adopted_on", "vastgesteld in de plenaire vergadering"))
               if not ctx.data.get(key)]
    return "Het advies kan pas weg als het is " + " en ".join(missing) + "."


ANNOUNCED_AND_ADOPTED = Guard("announced_and_adopted", _announced_and_adopted,
                              "Het advies moet eerst aangekondigd en vastgesteld zijn.",
                              explain=_what_is_missing)


def _alderman_report(ctx: Context) -> dict[str, Any]:
    if not ctx.payload.get("document"):
        return dict(ctx.data)
    return {**ctx.data, "alderman_report": ctx.payload["document"]}


def _record_response(ctx: Context) -> dict[str, Any]:
    return {**ctx.data, "response_document": ctx.payload["document"],
            "response_received_on": ctx.payload["received_on"]}


RECORD_RESPONSE = on("record_response", by=LIAISON_OR_SECRETARIAT,
                     fields=(a_date("received_on", "datum van ontvangst"),
                             longtext("document", "reactie van het college")),
                     action=_record_response, label="reactie vastleggen",
                     checks=(RESPONSE_DATE_FITS,))
FORWARDED = on("forwarded", by=LIAISON_OR_SECRETARIAT, label="doorgestuurd naar de raad")
ADOPT = on("adopt_advice", by=SECRETARIAT, fields=(a_date("adopted_on", "datum plenaire vergadering"),),
           action=remember("adopted_on"), label="advies vastgesteld",
           checks=(_not_in_future("adopted_on", "De datum van de plenaire vergadering"),))
ACCEPT = on("accept_outcome", by=SECRETARIAT, label="uitkomst aanvaarden")

FLOW_SIGNAL = Flow(
    name="md_signal",
    title="Signaal",
    version=1,
    start="signal_noted",
    start_by=(*SECRETARIAT, "group_chair"),
    start_fields=(
        text("title", "onderwerp"),
        group("theme_group", "themagroep"),
        choice("domain", "domein", DOMAINS),
        longtext("summary", "samenvatting"),
        choice("individual_case", "gaat het om één persoon", ("ja", "nee"),
               refused=(("ja", INDIVIDUAL_CASE),)),
    ),
    start_action=_start_signal,
    deadlines=(
        Deadline("report_due", "verslag van de gemeente", ("awaiting_report",),
                 org_term="report_term", base="meeting_on", base_label="het gesprek", alert=ALERT),
        Deadline("alderman_meeting_due", "gesprek met de wethouder", ("alderman_meeting_requested",),
                 org_term="alderman_meeting_term", base_label="het verzoek", alert=ALERT),
        Deadline("response_due", "reactietermijn college", ("awaiting_response",),
                 org_term="response_term", base="advice_sent_on",
                 base_label="verzending van het advies", alert=ALERT),
    ),
    states=(
        State("signal_noted", "Signaal ingebracht",
              mails=(mail("md_signal/noted", to("secretariat", lists=("group",))),),
              exits=(
                  on("share_with_officer", by=SECRETARIAT,
                     fields=(person("officer", "beleidsmedewerker", role="policy_adviser"),
                             a_date("meeting_on", "datum van het gesprek")),
                     action=remember("officer", "meeting_on"), label="delen met beleidsmedewerker")
                  .to("officer_meeting_planned", mails=(
                      mail("md_signal/officer_briefing", to(fields=("officer",))),)),
              )),
        State("officer_meeting_planned", "Gesprek met de beleidsmedewerker gepland", exits=(
            on("officer_meeting_held", by=(*SECRETARIAT, "policy_adviser"),
               label="gesprek gehouden").to("awaiting_report"),
        )),
        State("awaiting_report", "Wachten op het verslag van de gemeente", exits=(
            on("record_report", by=LIAISON_OR_SECRETARIAT, fields=(DOCUMENT,),
               action=remember("document"), label="verslag vastleggen")
            .to("assessing_report", mails=(
                mail("md_signal/report_received", to("secretariat", lists=("group",))),)),
        )),
        State("assessing_report", "Verslag beoordelen", exits=(
            ACCEPT.to("resolved", mails=(mail("md_signal/resolved", to(lists=("group",))),)),
            on("escalate_to_alderman", by=SECRETARIAT, label="naar de wethouder")
            .to("alderman_meeting_requested", mails=(
                mail("md_signal/alderman_requested", to(fields=("officer",))),
                mail("md_signal/alderman_requested_liaison", to("liaison")),)),
        )),
        State("alderman_meeting_requested", "Gesprek met de wethouder aangevraagd", exits=(
            on("alderman_meeting_held", by=LIAISON_OR_SECRETARIAT,
               fields=(longtext("document", "verslag van de gemeente", required=False),),
               action=_alderman_report, label="gesprek met wethouder gehouden")
            .to("assessing_alderman_outcome"),
        )),
        State("assessing_alderman_outcome", "Uitkomst van het gesprek met de wethouder beoordelen",
              exits=(
                  ACCEPT.to("resolved", mails=(mail("md_signal/resolved", to(lists=("group",))),)),
                  on("escalate_to_unasked_advice", by=SECRETARIAT, label="ongevraagd advies geven")
                  .to("drafting_advice"),
              )),
        State("drafting_advice", "Ongevraagd advies schrijven", exits=(
            on("announce_advice", by=SECRETARIAT,
               fields=(text("subject", "onderwerp"), longtext("explanation", "toelichting")),
               action=today_as("announced_on", "subject", "explanation"), label="advies aankondigen")
            .stay(mails=(mail("md_signal/announced", to("college")),)),
            ADOPT.stay(),
            on("send_advice", by=SECRETARIAT, fields=(DOCUMENT,),
               action=today_as("advice_sent_on", "document"), label="advies versturen")
            .to("awaiting_response", when=ANNOUNCED_AND_ADOPTED, mails=(
                mail("md_signal/advice_sent",
                     to("college", "liaison", "alderman", fields=("officer",), lists=("group",))),)),
        )),
        State("awaiting_response", "Wachten op de reactie van het college", exits=(
            RECORD_RESPONSE.to("forward_to_council", mails=(
                mail("md_signal/response_received", to("secretariat", lists=("group",))),)),
            PUBLISH,
        )),
        State("forward_to_council", "Doorsturen naar de gemeenteraad", exits=(
            FORWARDED.to("closed", mails=(mail("md_signal/to_council", to("council_clerk")),)),
            PUBLISH,
        )),
        State("resolved", "Opgelost", final=True),
        State("withdrawn", "Ingetrokken", final=True, cancels=True),
        State("closed", "Afgesloten", final=True),
    ),
    anywhere=standard.exits(SECRETARIAT, concerned=CONCERNED_SIGNAL),
)

COMPILED_SIGNAL = CompiledFlow(FLOW_SIGNAL, TEMPLATE_DIR)

# --- md_asked_advice ------------------------------------------------------------------------

#: The call to the Platform Inclusie: the same mechanism as the call to the members.
PLATFORM = Call(role="inclusion_platform", invitation="md_asked_advice/platform_call",
                prefix="platform_", minimum=False)
WORK_GROUP = "werkgroep"


def _start_asked(ctx: Context) -> dict[str, Any]:
    data = dict(ctx.data)
    data.setdefault("received_on", ctx.today.isoformat())
    return data


def _members_for_work_group(ctx: Context) -> str | None:
    if ctx.payload["group"] == WORK_GROUP and not ctx.payload.get("members"):
        return "Een werkgroep heeft leden nodig: geef ze met --set members=a@…,b@…"
    if ctx.payload["group"] != WORK_GROUP and ctx.payload.get("members"):
        return f"De leden van '{ctx.payload['group']}' staan al vast; geef alleen leden voor een werkgroep."
    return None


def _assign(ctx: Context) -> dict[str, Any]:
    chosen = ctx.payload["group"]
    members = ctx.payload["members"] if chosen == WORK_GROUP else list(ctx.org.groups[chosen].members)
    return {**ctx.data, "assigned_group": chosen, "group": members}


def _council_decides(ctx: Context) -> bool:
    return ctx.data.get("document_type") in COUNCIL_DECIDES


COUNCIL_RECEIVES = Guard("council_receives", _council_decides, "De raad ontvangt dit document niet.")

ASKED_STATES = ("request_received", "assigned", "drafting", "plenary", "sending")

FLOW_ASKED = Flow(
    name="md_asked_advice",
    title="Gevraagd advies",
    version=1,
    start="request_received",
    start_by=SECRETARIAT,
    start_fields=(
        text("title", "titel"),
        person("policy_adviser", "beleidsadviseur"),
        a_date("received_on", "datum van ontvangst", required=False),
        choice("document_type", "soort document", DOCUMENT_TYPES),
        a_date("advice_due", "afgesproken einddatum voor het advies", required=False),
    ),
    start_action=_start_asked,
    deadlines=(
        Deadline("advice_due", "adviestermijn", ASKED_STATES, org_term="advice_term",
                 base="received_on", base_label="ontvangst", override="advice_due"),
        PLATFORM.term(("assigned", "drafting")),
        Deadline("response_due", "reactietermijn college", ("awaiting_response",),
                 org_term="response_term", base="advice_sent_on",
                 base_label="verzending van het advies", alert=ALERT),
    ),
    states=(
        State("request_received", "Adviesaanvraag binnengekomen",
              mails=(mail("md_asked_advice/receipt", to(fields=("policy_adviser",))),
                     mail("md_asked_advice/incoming", to("member"))),
              exits=(
                  on("assign", by=SECRETARIAT,
                     fields=(group("group", "themagroep of werkgroep", also=(WORK_GROUP,)),
                             people("members", "leden van de werkgroep", required=False)),
                     action=_assign, checks=(_members_for_work_group,), label="toewijzen")
                  .to("assigned"),
              )),
        State("assigned", "Toegewezen aan een groep",
              mails=(mail("md_asked_advice/assigned", to(lists=("group",))), PLATFORM.invite()),
              exits=(
                  *PLATFORM.answers(),
                  *PLATFORM.closing(SECRETARIAT_OR_SYSTEM, None),
                  on("officer_briefing_held", by=(*SECRETARIAT, "policy_adviser"),
                     label="ambtelijke toelichting gehouden").to("drafting"),
              )),
        State("drafting", "Concept schrijven", exits=(
            *PLATFORM.answers(),
            *PLATFORM.closing(SECRETARIAT_OR_SYSTEM, None),
            on("submit_draft", by=SECRETARIAT, fields=(DOCUMENT,), action=remember("document"),
               label="concept indienen").to("plenary"),
        )),
        State("plenary", "Plenaire vergadering", exits=(
            ADOPT.to("sending"),
            on("return_draft", by=SECRETARIAT, fields=(REASON,), action=remember("reason"),
               label="concept terugsturen")
            .to("drafting", mails=(mail("md_asked_advice/draft_returned", to(lists=("group",))),)),
        )),
        State("sending", "Advies versturen", exits=(
            on("send_advice", by=SECRETARIAT, fields=(DOCUMENT,),
               action=today_as("advice_sent_on", "document"), label="advies versturen")
            .to("awaiting_response", mails=(
                mail("md_asked_advice/advice_sent",
                     to("college", "liaison", fields=("policy_adviser",), lists=("group",))),)),
        )),
        State("awaiting_response", "Wachten op de reactie van het college", exits=(
            RECORD_RESPONSE.to("forward_to_council", when=COUNCIL_RECEIVES, mails=(
                mail("md_asked_advice/response_received", to("secretariat", lists=("group",))),)),
            RECORD_RESPONSE.to("closed", mails=(
                mail("md_asked_advice/response_received", to("secretariat", lists=("group",))),)),
            PUBLISH,
        )),
        State("forward_to_council", "Doorsturen naar de gemeenteraad", exits=(
            FORWARDED.to("closed", mails=(mail("md_asked_advice/to_council", to("council_clerk")),)),
            PUBLISH,
        )),
        State("withdrawn", "Ingetrokken", final=True, cancels=True),
        State("closed", "Afgesloten", final=True),
    ),
    anywhere=standard.exits(SECRETARIAT, concerned=CONCERNED_ASKED),
    calls=(PLATFORM,),
)

COMPILED_ASKED = CompiledFlow(FLOW_ASKED, TEMPLATE_DIR)
