"""`advies worker [--once]`: fire due deadlines, send reminders and the digest, deliver mail."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from cli.context import out, print_json, reports, settings

if TYPE_CHECKING:  # the worker is imported when `worker` runs, not for every command
    from worker.main import PassReport


@reports
def worker(once: bool = typer.Option(False, "--once", help="Eén ronde en dan stoppen."),
           as_json: Annotated[bool, typer.Option("--json", help="Uitvoer als JSON (met --once).")]
           = False) -> None:
    """Verwerk termijnen, herinneringen en het weekoverzicht, en verstuur de mail.

    Zonder --once blijft de werker draaien tot SIGTERM of Ctrl-C. Met --once is de exitcode 1
    als er iets echt misging: een traject overgeslagen, mail definitief mislukt of gepauzeerd.
    """
    from notifications.delivery import check_mail_settings
    from worker.main import run

    config = settings()
    config.signing_key()  # the worker renders personal links: refuse to start without a key
    check_mail_settings(config)  # mail settings that cannot work: refuse to start, say why
    report = run(config, once=once)
    if report is None:
        return
    if as_json:
        print_json(report.as_dict())
    else:
        for line in summary(report):
            out.print(line)
    if report.problems:
        raise typer.Exit(1)


def summary(report: PassReport) -> list[str]:
    """The pass in plain Dutch, one line per part."""
    lines = []
    if report.sweep is not None:
        s = report.sweep
        lines.append(f"Termijnen: {s.expired} verlopen, {s.overdue} te laat, {s.steps} herinneringen "
                     f"({s.mails} mails), {s.failed} overgeslagen"
                     + (f", {s.postponed} bezet en naar de volgende ronde." if s.postponed else "."))
    if report.digest is not None:
        d = report.digest
        lines.append(f"Weekoverzicht: {d.mails} mails naar {d.organisations} organisatie(s)."
                     if d.mails else "Weekoverzicht: niets te versturen.")
    if report.planning is not None and report.planning.items:
        p = report.planning
        requests = "verwachte aanvraag" if p.items == 1 else "verwachte aanvragen"
        lines.append(f"Planning: herinnering gestuurd voor {p.items} {requests} ({p.mails} mails).")
    if report.delivery is not None:
        m = report.delivery
        lines.append(f"Mail: {m.sent} verstuurd, {m.retried} later opnieuw, {m.failed} mislukt"
                     + (f", {m.handed_back} onverstuurd teruggelegd." if m.handed_back else "."))
    lines += [f"Probleem: {p}" for p in report.problems]
    return lines
