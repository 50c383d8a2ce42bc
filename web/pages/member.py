"""The members' page (`/mijn`, every signed-in person): the calls open to them now, with a
yes/no answer, and the trajectories they take part in. An answer is fired as the signed-in
person (sign_up / withdraw_signup), as their personal link in the mail would."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from app.my_work import OpenCall, answer_call, open_calls, taking_part
from app.sign_in import SignedIn
from engine.errors import NotFound
from web.site import Site, redirect

MAX_ID = 2**63 - 1
GONE = "Dit traject bestaat niet, of het hoort niet bij jouw organisatie."


def outcomes(who: SignedIn, title: str) -> dict[str, tuple[str, str]]:
    """What the person is told after answering: (heading, text)."""
    group, named = who.words.group, f"\u201c{title}\u201d" if title else "dit traject"
    return {
        "signed_up": ("Dank je wel! Je doet mee",
                      f"Je bent aangemeld voor {named}. Je krijgt hierover ook een e-mail. Als de "
                      f"aanmelding sluit, hoor je wie er in de {group} zitten en wanneer de eerste "
                      "bijeenkomst is."),
        "reserve": ("Dank je wel! Je staat op de reservelijst",
                    f"De {group} voor {named} is al vol. Je staat nu op de reservelijst. Valt er "
                    "iemand af? Dan hoor je dat van ons. Je krijgt hierover ook een e-mail."),
        "withdrawn": ("Je bent afgemeld",
                      f"Je doet niet meer mee aan {named}. Jammer! Misschien een volgende keer. "
                      "Je krijgt hierover ook een e-mail."),
        "declined": ("Dank je wel voor je antwoord",
                     f"Je doet deze keer niet mee aan {named}. Daarvoor hoefde niets te veranderen. "
                     "Bedenk je je? Kies dan \u201cJa, ik doe mee\u201d, zolang de aanmelding open is."),
        "already": ("Je was al aangemeld",
                    f"Er is niets veranderd: je doet al mee aan {named}."),
    }


def router(site: Site) -> APIRouter:
    routes = APIRouter()

    @routes.get("/mijn", response_class=HTMLResponse)
    def mine(request: Request, antwoord: str = "", traject: str = "") -> HTMLResponse:
        who = site.who(request)
        calls = open_calls(site.service, who)
        taking = taking_part(site.service, who)
        return site.render("site/member.html", who, current="/mijn", heading="Mijn trajecten",
                           calls=calls, taking=taking,
                           told=_told(who, antwoord, traject, calls))

    @routes.post("/mijn/oproep/{number}")
    async def answer(request: Request, number: str) -> Response:
        who = site.who(request)
        form = await site.form(request, who)
        trajectory_id = _number(number)
        outcome = answer_call(site.service, who, trajectory_id, str(form.get("antwoord", "")))
        return redirect("/mijn", {"antwoord": outcome, "traject": str(trajectory_id)})

    return routes


def _number(text: str) -> int:
    if not text.isascii() or not text.isdigit() or not 0 < int(text) <= MAX_ID:
        raise NotFound(GONE)
    return int(text)


#: Which outcomes agree with the call as it stands: signed up (in the group), reserve, or not.
AGREES = {"signed_up": "in", "already": "in", "reserve": "reserve", "withdrawn": "out",
          "declined": "out"}


def _told(who: SignedIn, outcome: str, number: str,
          calls: list[OpenCall]) -> tuple[str, str] | None:
    """The message after an answer: only about a call on this page, and only when it agrees
    with what is recorded (a crafted link cannot tell someone they signed up)."""
    call = next((c for c in calls if str(c.id) == number), None)
    if call is None or outcome not in AGREES:
        return None
    standing = "reserve" if call.reserve else "in" if call.signed_up else "out"
    if AGREES[outcome] != standing:
        return None
    return outcomes(who, call.title)[outcome]
