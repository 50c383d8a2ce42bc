"""Midden-Drenthe's Adviesraad Sociaal Domein (seed 004, ch. 4, 9, 11, 13, appendix IV).

`md_signal` ("Signaleren en bespreken uitvoeringsaangelegenheden", "Ongevraagd adviseren"): a
theme group brings in a signal about how policy is carried out. It is shared with the officer
beforehand, discussed, and the municipality reports. When that is not enough, the officer plans a
meeting with the alderman; when that is not enough either, the council announces an unasked
advice to the college, adopts it in its plenary meeting and sends it. The college's response goes
with the advice to the griffie.

`md_asked_advice` ("Gevraagd adviseren op beleidsstukken", ch. 9): the request comes in as an
incoming document for every member; a theme group (or a temporary work group) drafts the advice
with the Platform Inclusie, after the officer explained the document; the plenary meeting adopts
it; the official secretary sends it. Frameworks, multi-year plans and regulations belong to the
council (gemeenteraad): their advice and response go on to the griffie.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from engine import standard
from engine.calls import Call
from engine.dsl import (
    Check,
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
)
from engine.errors import NotAllowed
from engine.machine import CompiledFlow
from engine.terms import format_date
from flows import TEMPLATE_DIR
from flows._common import (
    RESPONSE_DATE_FITS,
    RESPONSE_DUE,
    SECRETARIAT,
    SECRETARIAT_OR_SYSTEM,
    publish_exit,
    record_response,
    remember,
    today_as,
)

# --- shared by both flows ---------------------------------------------------------------------

LIAISON_OR_SECRETARIAT = (*SECRETARIAT, "liaison")
#: Reminders and overdue alerts of the municipality's terms (seed, appendix IV: the liaison
#: watches the terms and the responses) go to the liaison and the official secretary.
ALERT = ("liaison", "secretariat")
GROUP = to(lists=("group",))


def not_in_future(name: str, what: str) -> Check:
    """A check that the date in payload field `name` is not after today."""

    def check(ctx: Context) -> str | None:
        day = date.fromisoformat(ctx.payload[name])
        if day > ctx.today:
            return f"{what} kan niet in de toekomst liggen ({format_date(day)})."
        return None

    return check


RECORD_RESPONSE = on("record_response", by=LIAISON_OR_SECRETARIAT,
                     fields=(a_date("received_on", "datum van ontvangst"),
                             longtext("document", "reactie van het college")),
                     action=record_response, label="reactie vastleggen",
                     checks=(RESPONSE_DATE_FITS,))
FORWARDED = on("forwarded", by=LIAISON_OR_SECRETARIAT, label="doorgestuurd naar de griffie")
ADOPT = on("adopt_advice", by=SECRETARIAT,
           fields=(a_date("adopted_on", "datum van de plenaire vergadering"),),
           action=remember("adopted_on"), label="advies vastgesteld",
           checks=(not_in_future("adopted_on", "De datum van de plenaire vergadering"),))


# --- md_signal ------------------------------------------------------------------------------

DOMAINS = ("Wmo", "Jeugdwet", "Participatiewet", "schuldhulpverlening", "armoedebeleid",
           "leerlingenvervoer")
#: Seed 004, ch. 4, "Signaleren en bespreken uitvoeringsaangelegenheden".
INDIVIDUAL_CASE = ("Dit signaal gaat over één persoon: individuele casussen kunnen niet worden "
                   "ingebracht, want een signaal gaat over de uitvoering voor een groep inwoners.")
CONCERNED_SIGNAL = to(fields=("officer",), lists=("group",))


def _start_signal(ctx: Context) -> dict[str, Any]:
    """The theme group's members receive the trajectory's group mails. A theme-group chair who
    is not the official secretary or the chair files a signal only for their own group."""
    chosen = ctx.org.groups[ctx.data["theme_group"]]
    if not ctx.actor.roles & set(SECRETARIAT) and chosen.chair != ctx.actor.email:
        own = [g.name for g in ctx.org.groups.values() if g.chair == ctx.actor.email]
        chairs = f" Je bent voorzitter van {' en '.join(own)}." if own else ""
        raise NotAllowed(f"Je kunt alleen een signaal inbrengen voor je eigen "
                         f"{ctx.org.words.group}, niet voor {chosen.name}.{chairs}")
    return {**ctx.data, "group": list(chosen.members),
            **({"theme_group_chair": chosen.chair} if chosen.chair else {})}


def _record_report(ctx: Context) -> dict[str, Any]:
    return {**ctx.data, "report": ctx.payload["document"], "report_received_on": ctx.today.isoformat()}


def _alderman_meeting_held(ctx: Context) -> dict[str, Any]:
    data = {**ctx.data, "alderman_meeting_held_on": ctx.today.isoformat()}
    if ctx.payload.get("document"):
        data["alderman_report"] = ctx.payload["document"]
    return data


def _announced_and_adopted(ctx: Context) -> bool:
    return bool(ctx.data.get("announced_on")) and bool(ctx.data.get("adopted_on"))


def _what_is_missing(ctx: Context) -> str:
    missing = [what for key, what in (("announced_on", "aangekondigd bij het college"),
                                      ("adopted_on", "vastgesteld in de plenaire vergadering"))
               if not ctx.data.get(key)]
    steps = [step for key, step in (("announced_on", "announce_advice"), ("adopted_on", "adopt_advice"))
             if not ctx.data.get(key)]
    return (f"Het advies kan pas weg als het is {' en '.join(missing)}. "
            f"Doe eerst: {', '.join(steps)}.")


#: Seed 004, ch. 4: the council announces an unasked advice to the college beforehand, and
#: the plenary meeting adopts every advice before the official secretary sends it.
ANNOUNCED_AND_ADOPTED = Guard("announced_and_adopted", _announced_and_adopted,
                              "Het advies moet eerst aangekondigd en vastgesteld zijn.",
                              explain=_what_is_missing)
ACCEPT_SIGNAL = on("accept_outcome", by=SECRETARIAT, label="uitkomst aanvaarden")
RESOLVED_MAILS = (mail("md_signal/resolved", GROUP),)

FLOW_SIGNAL = Flow(
    name="md_signal",
    title="Signaal",
    description="Een themagroep brengt een signaal uit de samenleving in bij de gemeente.",
    version=1,
    start="signal_noted",
    start_by=(*SECRETARIAT, "group_chair"),
    start_fields=(
        text("title", "onderwerp"),
        group("theme_group", "themagroep"),
        choice("domain", "domein", DOMAINS),
        longtext("summary", "samenvatting"),
        choice("individual_case", "gaat het om één persoon (ja/nee)", ("ja", "nee"),
               refused=(("ja", INDIVIDUAL_CASE),)),
    ),
    start_action=_start_signal,
    deadlines=(
        Deadline("report_due", "verslag van de gemeente", ("awaiting_report",),
                 org_term="report_term", base="meeting_on", base_label="het gesprek", alert=ALERT),
        Deadline("alderman_meeting_due", "gesprek met de wethouder", ("alderman_meeting_requested",),
                 org_term="alderman_meeting_term", base_label="het verzoek", alert=ALERT),
        RESPONSE_DUE,
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
                      mail("md_signal/officer_briefing", to(fields=("officer",))),
                      mail("md_signal/meeting_planned", GROUP))),
              )),
        State("officer_meeting_planned", "Gesprek met de beleidsmedewerker gepland", exits=(
            on("officer_meeting_held", by=(*SECRETARIAT, "policy_adviser"),
               label="gesprek gehouden").to("awaiting_report"),
        )),
        State("awaiting_report", "Wachten op het verslag van de gemeente",
              mails=(mail("md_signal/report_requested", to(fields=("officer",))),),
              exits=(
                  on("record_report", by=(*LIAISON_OR_SECRETARIAT, "policy_adviser"),
                     fields=(longtext("document", "verslag van de gemeente"),),
                     action=_record_report, label="verslag vastleggen")
                  .to("assessing_report", mails=(
                      mail("md_signal/report_received", to("secretariat", lists=("group",))),)),
              )),
        State("assessing_report", "Verslag beoordelen", exits=(
            ACCEPT_SIGNAL.to("resolved", mails=RESOLVED_MAILS),
            on("escalate_to_alderman", by=SECRETARIAT, label="naar de wethouder")
            .to("alderman_meeting_requested", mails=(
                mail("md_signal/alderman_requested", to(fields=("officer",))),
                mail("md_signal/alderman_requested_liaison", to("liaison")),
                mail("md_signal/alderman_requested_group", GROUP))),
        )),
        State("alderman_meeting_requested", "Gesprek met de wethouder aangevraagd", exits=(
            on("alderman_meeting_held", by=LIAISON_OR_SECRETARIAT,
               fields=(longtext("document", "verslag van de gemeente", required=False),),
               action=_alderman_meeting_held, label="gesprek met de wethouder gehouden")
            .to("assessing_alderman_outcome", mails=(mail("md_signal/alderman_outcome", GROUP),)),
        )),
        State("assessing_alderman_outcome", "Uitkomst van het gesprek met de wethouder beoordelen",
              exits=(
                  ACCEPT_SIGNAL.to("resolved", mails=RESOLVED_MAILS),
                  on("escalate_to_unasked_advice", by=SECRETARIAT, label="ongevraagd advies geven")
                  .to("drafting_advice", mails=(mail("md_signal/unasked_advice_started", GROUP),)),
              )),
        State("drafting_advice", "Ongevraagd advies schrijven", exits=(
            on("announce_advice", by=SECRETARIAT,
               fields=(text("subject", "onderwerp"), longtext("explanation", "korte toelichting")),
               action=today_as("announced_on", "subject", "explanation"),
               label="advies aankondigen bij het college")
            .stay(mails=(mail("md_signal/announced", to("college")),)),
            ADOPT.stay(),
            on("send_advice", by=SECRETARIAT, fields=(longtext("document", "advies"),),
               action=today_as("advice_sent_on", "document"), label="advies versturen")
            .to("awaiting_response", when=ANNOUNCED_AND_ADOPTED, mails=(
                mail("md_signal/advice_sent",
                     to("college", "liaison", "alderman", fields=("officer",), lists=("group",))),)),
        )),
        State("awaiting_response", "Wachten op de reactie van het college", exits=(
            RECORD_RESPONSE.to("forward_to_council", mails=(
                mail("md_signal/response_received", to("secretariat", lists=("group",))),)),
            publish_exit(),
        )),
        State("forward_to_council", "Doorsturen naar de griffie", exits=(
            FORWARDED.to("closed", mails=(mail("md_signal/to_council", to("council_clerk")),)),
            publish_exit(),
        )),
        State("resolved", "Opgelost", final=True),
        State("withdrawn", "Ingetrokken", final=True, cancels=True),
        State("closed", "Afgesloten", final=True),
    ),
    anywhere=standard.exits(SECRETARIAT, concerned=CONCERNED_SIGNAL),
)

COMPILED_SIGNAL = CompiledFlow(FLOW_SIGNAL, TEMPLATE_DIR)


# --- md_asked_advice ------------------------------------------------------------------------

DOCUMENT_TYPES = ("beleidskader", "meerjarenplan", "verordening", "beleidsregel")
#: Seed 004, ch. 4: "De gemeenteraad ontvangt de schriftelijke adviezen m.b.t. kaders,
#: meerjarenplannen en verordeningen omdat deze tot het domein van de gemeenteraad behoren."
COUNCIL_DECIDES = frozenset({"beleidskader", "meerjarenplan", "verordening"})
WORK_GROUP = "werkgroep"
CONCERNED_ASKED = to(fields=("policy_adviser",), lists=("group",))

#: The call to the Platform Inclusie: the same mechanism as the call to the members.
#: It stays open while the draft is written; once the Platform group is formed, a returned
#: draft does not call again.
PLATFORM = Call(role="inclusion_platform", invitation="md_asked_advice/platform_call",
                prefix="platform_", minimum=False, once=True)


def _start_asked(ctx: Context) -> dict[str, Any]:
    """Received today unless said otherwise; the mails say whether the council (gemeenteraad)
    receives the advice, which follows from the document type."""
    data = dict(ctx.data)
    data.setdefault("received_on", ctx.today.isoformat())
    data["council_receives"] = data["document_type"] in COUNCIL_DECIDES
    return data


def _members_for_work_group(ctx: Context) -> str | None:
    """A work group is made of the members given; a theme group's members are fixed."""
    if ctx.payload["group"] == WORK_GROUP and not ctx.payload.get("members"):
        return ("Een werkgroep heeft leden nodig: kies ze, leden van een of meer "
                f"{ctx.org.words.group}en (op de opdrachtregel: --set members=a@…,b@…).")
    if ctx.payload["group"] != WORK_GROUP and ctx.payload.get("members"):
        return (f"De leden van {ctx.payload['group']} staan al vast. "
                "Geef alleen leden (members) voor een werkgroep.")
    return None


def _assign(ctx: Context) -> dict[str, Any]:
    """The data list `group` becomes the theme group's members, or the work group's."""
    chosen = ctx.payload["group"]
    data = {**ctx.data, "assigned_group": chosen}
    if chosen == WORK_GROUP:
        return {**data, "group": list(ctx.payload["members"])}
    theme = ctx.org.groups[chosen]
    return {**data, "group": list(theme.members),
            **({"theme_group_chair": theme.chair} if theme.chair else {})}


def _submit_draft(ctx: Context) -> dict[str, Any]:
    """The draft goes to the plenary meeting; a Platform call still open closes with it."""
    data = ctx.data if PLATFORM.group in ctx.data else PLATFORM.form_group(ctx)
    return {**data, "draft": ctx.payload["document"]}


def _council_decides(ctx: Context) -> bool:
    return ctx.data.get("document_type") in COUNCIL_DECIDES


COUNCIL_RECEIVES = Guard("council_receives", _council_decides,
                         "De gemeenteraad ontvangt dit soort document niet.")
PLATFORM_AND_GROUP = to(lists=("group", PLATFORM.group))
RESPONSE_MAILS = (mail("md_asked_advice/response_received", to("secretariat", lists=("group",))),)

#: The advice term runs from the request until the advice is sent.
ADVISING_STATES = ("request_received", "assigned", "drafting", "plenary", "sending")

FLOW_ASKED = Flow(
    name="md_asked_advice",
    title="Gevraagd advies",
    description="De gemeente vraagt de adviesraad om advies over een plan of besluit.",
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
        Deadline("advice_due", "adviestermijn", ADVISING_STATES, org_term="advice_term",
                 base="received_on", base_label="ontvangst", override="advice_due"),
        PLATFORM.term(("assigned", "drafting")),
        RESPONSE_DUE,
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
                  .to("assigned", mails=(
                      mail("md_asked_advice/assigned_adviser", to(fields=("policy_adviser",))),)),
              )),
        State("assigned", "Toegewezen aan een groep",
              mails=(mail("md_asked_advice/assigned", GROUP), PLATFORM.invite()),
              exits=(
                  *PLATFORM.answers(),
                  *PLATFORM.closing(SECRETARIAT_OR_SYSTEM, None, mails=(
                      mail("md_asked_advice/platform_joined", PLATFORM_AND_GROUP),)),
                  on("officer_briefing_held", by=(*SECRETARIAT, "policy_adviser"),
                     label="ambtelijke toelichting gehouden").to("drafting"),
              )),
        State("drafting", "Conceptadvies schrijven", exits=(
            *PLATFORM.answers(),
            *PLATFORM.closing(SECRETARIAT_OR_SYSTEM, None, mails=(
                mail("md_asked_advice/platform_joined", PLATFORM_AND_GROUP),)),
            on("submit_draft", by=SECRETARIAT, fields=(longtext("document", "conceptadvies"),),
               action=_submit_draft,
               label="conceptadvies indienen")
            .to("plenary", mails=(mail("md_asked_advice/draft_for_plenary", to("member")),)),
        )),
        State("plenary", "Plenaire vergadering", exits=(
            ADOPT.to("sending"),
            on("return_draft", by=SECRETARIAT, fields=(text("reason", "reden"),),
               action=remember("reason"), label="concept terugsturen")
            .to("drafting", mails=(mail("md_asked_advice/draft_returned", GROUP),)),
        )),
        State("sending", "Advies versturen", exits=(
            on("send_advice", by=SECRETARIAT, fields=(longtext("document", "advies"),),
               action=today_as("advice_sent_on", "document"), label="advies versturen")
            .to("awaiting_response", mails=(
                mail("md_asked_advice/advice_sent",
                     to("college", "liaison", fields=("policy_adviser",), lists=("group",))),)),
        )),
        State("awaiting_response", "Wachten op de reactie van het college", exits=(
            RECORD_RESPONSE.to("forward_to_council", when=COUNCIL_RECEIVES, mails=RESPONSE_MAILS),
            RECORD_RESPONSE.to("closed", mails=RESPONSE_MAILS),
            publish_exit(),
        )),
        State("forward_to_council", "Doorsturen naar de griffie", exits=(
            FORWARDED.to("closed", mails=(mail("md_asked_advice/to_council", to("council_clerk")),)),
            publish_exit(),
        )),
        State("withdrawn", "Ingetrokken", final=True, cancels=True),
        State("closed", "Afgesloten", final=True),
    ),
    anywhere=standard.exits(SECRETARIAT, concerned=CONCERNED_ASKED, calls=(PLATFORM,)),
    calls=(PLATFORM,),
)

COMPILED_ASKED = CompiledFlow(FLOW_ASKED, TEMPLATE_DIR)
