"""`advies demo`: a guided run of one asked advice through all its states on a simulated clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from email import message_from_bytes, policy
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.markup import escape
from sqlmodel import Session, col, select

from cli.context import database, out, settings
from engine.clock import AMSTERDAM, FrozenClock
from storage.tables import ACTIVE_DEADLINE, Organisation, OutboxMessage

if TYPE_CHECKING:
    from app.service import Service

SECRETARIAT = "secretariaat@example.org"
LIAISON = "verbinding@example.org"
MEMBERS = ("anna", "bram", "cor", "dewi", "els", "farid", "gerda")


class Guide:
    """Runs the steps and prints what happened after each one."""

    def __init__(self, svc: Service, clock: FrozenClock) -> None:
        self.svc = svc
        self.clock = clock
        self.mail_seen = self._last_mail_id()

    def _last_mail_id(self) -> int:
        with Session(self.svc.engine) as session:
            ids = session.exec(select(OutboxMessage.id)).all()
            return max((i for i in ids if i is not None), default=0)

    def wait(self, days: int) -> None:
        self.clock.advance(timedelta(days=days))

    def step(self, title: str, view: dict[str, Any]) -> dict[str, Any]:
        day = self.clock.now().astimezone(AMSTERDAM).strftime("%d-%m-%Y")
        out.rule(f"[bold]{day}[/]  {escape(title)}")
        out.print(f"Stap nu: [bold]{escape(view['state_label'])}[/] ({view['state']})")
        self._mails(view["id"])
        for d in view["deadlines"]:
            if d["status"] in ACTIVE_DEADLINE:
                out.print(f"Termijn [bold]{d['label']}[/] ({d['name']}): {d['due']} — "
                          f"{escape(d['explanation'])}")
        return view

    def _mails(self, trajectory_id: int) -> None:
        with Session(self.svc.engine) as session:
            rows = session.exec(select(OutboxMessage).where(
                OutboxMessage.trajectory_id == trajectory_id, col(OutboxMessage.id) > self.mail_seen)
                .order_by(col(OutboxMessage.id))).all()
        for row in rows:
            out.print(f"  ✉ aan {row.recipient}: {escape(row.subject)}")
            self.mail_seen = max(self.mail_seen, row.id or 0)


def _prepare(svc: Service) -> None:
    from app import org_file  # imported by `demo` alone, not by every command
    from storage import migrate

    migrate.upgrade(svc.engine)
    with Session(svc.engine) as session:
        if session.exec(select(Organisation).where(Organisation.slug == "demo")).first():
            return
    org_file.load(svc.engine, Path(str(resources.files("cli") / "demo_org.toml")))


def run() -> None:
    """Een rondleiding: één traject van elke stroom, van begin tot eind, op een gesimuleerde klok."""
    from app.service import Service  # imported by the commands that use it (cli/main.py)

    config = settings()
    engine = database(create=True)  # like `init`, the demo may make the database
    _prepare(Service(engine, config))
    for title, walk_flow in WALKS:
        clock = FrozenClock(datetime(2026, 3, 24, 9, 30, tzinfo=AMSTERDAM))
        svc = Service(engine, config, clock)
        out.rule(f"[bold blue]{escape(title)}")
        tid = walk_flow(Guide(svc, clock), svc)
        out.print(f"Bekijk het traject met: advies show {tid}")
    out.rule("[bold green]Klaar")
    open_call(Service(engine, config))


def open_call(svc: Service) -> None:
    """Leave one call open, today, so a person can answer it in a browser."""
    view = svc.start("asked_advice", "demo", "Armoedebeleid: meedoen voor iedereen", SECRETARIAT,
                     {"policy_adviser": "beleid@example.org"})
    svc.fire(view["id"], "call_participants", SECRETARIAT)
    link = answer_link(svc, view["id"], "bram@example.org")
    out.rule("[bold]Probeer het zelf")
    out.print(f"Traject {view['id']} roept nu de deelnemers op. De persoonlijke link van Bram Jansen:")
    out.print(f"  {link}")
    out.print("Open die link in je browser terwijl 'advies serve' draait (make run start het nu).")
    out.print("Alle e-mails staan in de outbox ('advies outbox'); 'advies worker --once' bezorgt ze,")
    out.print("zonder mailserver als .eml-bestanden in de map mail/.")


def answer_link(svc: Service, trajectory_id: int, email: str) -> str:
    with Session(svc.engine) as session:
        row = session.exec(select(OutboxMessage).where(
            OutboxMessage.trajectory_id == trajectory_id, OutboxMessage.recipient == email,
            OutboxMessage.template == "asked_advice/call")).one()
    message = message_from_bytes(row.raw, policy=policy.default)
    body = message.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    return next(word for word in text.split() if "/antwoord/" in word)


def walk_asked(guide: Guide, svc: Service) -> int:
    """Groningen: one asked advice from the request to its close."""
    tid = int(guide.step("De beleidsadviseur vraagt advies", svc.start(
        "asked_advice", "demo", "Regiovisie beschermd wonen", SECRETARIAT,
        {"policy_adviser": "beleid@example.org", "received_on": "2026-03-24"}))["id"])
    walk(guide, svc, tid)
    return tid


def walk(guide: Guide, svc: Service, tid: int) -> None:
    fire = svc.fire
    guide.step("Het secretariaat roept de deelnemers op", fire(tid, "call_participants", SECRETARIAT))
    for name in MEMBERS:
        guide.wait(1)
        guide.step(f"{name.capitalize()} meldt zich aan", fire(tid, "sign_up", f"{name}@example.org"))
    guide.wait(4)
    guide.step("De aanmelding sluit", fire(tid, "close_signup", SECRETARIAT))
    guide.wait(2)
    guide.step("Het secretariaat plant de eerste bijeenkomst", fire(
        tid, "plan_meeting", SECRETARIAT,
        {"meeting_on": "2026-04-14", "meeting_time": "19:30", "meeting_place": "Stadhuis, zaal 2"}))
    guide.wait(9)
    guide.step("De eerste bijeenkomst is gehouden", fire(tid, "first_meeting_held", SECRETARIAT))
    guide.step("De groep kiest een centraal aanspreekpunt",
               fire(tid, "choose_contact", SECRETARIAT, {"contact_person": "bram@example.org"}))
    guide.wait(10)
    guide.step("Input van ervaringsdeskundigen is opgehaald",
               fire(tid, "consultation_done", "bram@example.org"))
    guide.wait(10)
    guide.step("Het advies wordt verstuurd", fire(
        tid, "send_advice", "bram@example.org",
        {"document": "Zorg voor meer begeleid wonen dicht bij huis."}))
    guide.wait(30)
    guide.step("De reactie van het college komt binnen", fire(
        tid, "record_response", LIAISON,
        {"received_on": clock_day(guide), "document": "Het college neemt het advies over."}))
    guide.wait(60)
    guide.step("De nazorg is klaar: het traject sluit", fire(tid, "close", SECRETARIAT))


def clock_day(guide: Guide) -> str:
    return guide.clock.now().astimezone(AMSTERDAM).date().isoformat()


def walk_unasked(guide: Guide, svc: Service) -> int:
    """Groningen: a signal that becomes an asked advice (the handoff)."""
    view = guide.step("Een deelnemer meldt een signaal", svc.start(
        "unasked_advice", "demo", "Wachttijden schuldhulpverlening", "cor@example.org",
        {"summary": "Inwoners wachten maanden op een eerste gesprek."}))
    tid = int(view["id"])
    guide.wait(2)
    guide.step("Het secretariaat vraagt de ambtenaar om een afspraak", svc.fire(
        tid, "contact_official", SECRETARIAT, {"official": "beleid@example.org"}))
    guide.wait(12)
    guide.step("De afspraak is gehouden", svc.fire(
        tid, "appointment_held", SECRETARIAT, {"note": "De gemeente herkent het probleem."}))
    view = guide.step("Gemeente en adviesgroep gaan samenwerken: een gevraagd advies",
                      svc.fire(tid, "collaboration_agreed", SECRETARIAT))
    for link in view["links"]:
        out.print(f"Gekoppeld: traject {link['id']} ({link['flow']}), {link['relation']}")
    return tid


MD_SECRETARY = "secretaris@voorbeeldveld.example.org"
MD_LIAISON = "verbinding@voorbeeldveld.example.org"


def walk_md_signal(guide: Guide, svc: Service) -> int:
    """Midden-Drenthe: a signal from a theme group, via the officer and the alderman, to an
    unasked advice and the council."""
    tid = int(guide.step("De voorzitter van de themagroep brengt een signaal in", svc.start(
        "md_signal", "demo-md", "Wachtlijst huishoudelijke hulp", "harm@voorbeeldveld.example.org",
        {"theme_group": "Participeren", "domain": "Wmo", "individual_case": "nee",
         "summary": "Inwoners wachten maanden op een indicatie voor huishoudelijke hulp."}))["id"])
    fire = svc.fire
    guide.step("Het signaal gaat naar de beleidsmedewerker", fire(
        tid, "share_with_officer", MD_SECRETARY,
        {"officer": "beleid@voorbeeldveld.example.org", "meeting_on": "2026-04-07"}))
    guide.wait(14)
    guide.step("Het gesprek met de beleidsmedewerker is gehouden",
               fire(tid, "officer_meeting_held", MD_SECRETARY))
    guide.wait(20)
    guide.step("Het verslag van de gemeente is er", fire(
        tid, "record_report", MD_SECRETARY, {"document": "De gemeente onderzoekt de wachtlijst."}))
    guide.step("Niet genoeg: naar de wethouder", fire(tid, "escalate_to_alderman", MD_SECRETARY))
    guide.wait(30)
    guide.step("Het gesprek met de wethouder is gehouden", fire(
        tid, "alderman_meeting_held", MD_SECRETARY, {"document": "De wethouder zegt niets toe."}))
    guide.step("Nog steeds niet genoeg: een ongevraagd advies",
               fire(tid, "escalate_to_unasked_advice", MD_SECRETARY))
    guide.step("Het advies wordt aangekondigd bij het college", fire(
        tid, "announce_advice", MD_SECRETARY,
        {"subject": "Wachtlijst huishoudelijke hulp", "explanation": "Inwoners wachten te lang."}))
    guide.wait(14)
    guide.step("De plenaire vergadering stelt het advies vast",
               fire(tid, "adopt_advice", MD_SECRETARY, {"adopted_on": clock_day(guide)}))
    guide.step("Het advies wordt verstuurd", fire(
        tid, "send_advice", MD_SECRETARY, {"document": "Verkort de wachttijd tot zes weken."}))
    guide.wait(35)
    guide.step("De reactie van het college is er", fire(
        tid, "record_response", MD_LIAISON,
        {"received_on": clock_day(guide), "document": "Het college neemt het advies over."}))
    guide.step("Advies en reactie gaan naar de griffie", fire(tid, "forwarded", MD_LIAISON))
    return tid


def walk_md_asked(guide: Guide, svc: Service) -> int:
    """Midden-Drenthe: an asked advice on a regulation, with the Platform Inclusie."""
    fire = svc.fire
    tid = int(guide.step("De gemeente vraagt advies over een verordening", svc.start(
        "md_asked_advice", "demo-md", "Verordening maatschappelijke ondersteuning 2027",
        MD_SECRETARY, {"policy_adviser": "beleid@voorbeeldveld.example.org",
                       "received_on": "2026-03-24", "document_type": "verordening"}))["id"])
    guide.step("De vraag gaat naar een themagroep; het Platform Inclusie wordt gevraagd",
               fire(tid, "assign", MD_SECRETARY, {"group": "Zorg en welzijn"}))
    guide.wait(2)
    guide.step("Roos van het Platform Inclusie doet mee",
               fire(tid, "sign_up", "roos@voorbeeldveld.example.org"))
    guide.wait(5)
    guide.step("De ambtelijke toelichting is gehouden",
               fire(tid, "officer_briefing_held", MD_SECRETARY))
    guide.wait(14)
    guide.step("De themagroep levert een concept", fire(
        tid, "submit_draft", MD_SECRETARY, {"document": "Concept: let op de eigen bijdrage."}))
    guide.wait(7)
    guide.step("De plenaire vergadering stelt het advies vast",
               fire(tid, "adopt_advice", MD_SECRETARY, {"adopted_on": clock_day(guide)}))
    guide.step("Het advies wordt verstuurd", fire(
        tid, "send_advice", MD_SECRETARY, {"document": "Houd de eigen bijdrage laag."}))
    guide.wait(30)
    guide.step("De reactie van het college is er", fire(
        tid, "record_response", MD_LIAISON,
        {"received_on": clock_day(guide), "document": "Het college past de verordening aan."}))
    guide.step("De verordening gaat naar de raad: advies en reactie naar de griffie",
               fire(tid, "forwarded", MD_LIAISON))
    return tid


WALKS = (
    ("Gevraagd advies (Groningen)", walk_asked),
    ("Ongevraagd advies dat een gevraagd advies wordt (Groningen)", walk_unasked),
    ("Signaal naar wethouder en ongevraagd advies (Midden-Drenthe)", walk_md_signal),
    ("Gevraagd advies met het Platform Inclusie (Midden-Drenthe)", walk_md_asked),
)
