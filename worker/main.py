"""`advies worker`: APScheduler 3.11 as the clock only, the database does the rest.

The scheduler keeps its jobs in memory (no job per deadline; deadlines are rows) and runs
three jobs, each with `coalesce=True, max_instances=1, misfire_grace_time=None`:

- `sweep`, every minute: the deadline sweep (app.sweep), then the weekly digest
  if it is due and not sent yet (a worker that was down on Monday 08:00 catches up), then the
  planning's reminders three weeks before an expected request (app.planning), then the
  purge of mail bodies past the organisation's retention (app.privacy, AVG);
- `delivery`, every 15 seconds: `notifications.delivery.deliver_once`;
- `digest`, Mondays 08:00 Europe/Amsterdam (CronTrigger, through both DST changes).

Several workers may run at once: every claim is made in the database. `--once` does one pass
of sweep, digest and delivery and exits; with ADVIES_NOW the pass runs at that moment; its
report names every real failure (a trajectory skipped, a mail that failed for good, delivery
paused by wrong settings) as a problem, and the command then exits 1.
SIGTERM (or Ctrl-C) stops within seconds, also with a mail server that does not answer: the
sweep finishes the item in hand, the mail in hand finishes or is handed back (queued again,
the attempt not counted), the rest stays queued; then the worker stops cleanly (exit 0).
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from app import digest, planning, privacy
from app.service import Service
from app.sweep import Sweep, SweepReport
from engine.clock import AMSTERDAM, Clock
from notifications.delivery import DeliveryReport, deliver_once
from settings import Settings
from storage.db import make_engine

if TYPE_CHECKING:  # APScheduler is imported when the clock starts: `--once` starts without it
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.cron import CronTrigger

log = logging.getLogger("advies.worker")

SWEEP_EVERY_SECONDS = 60
DELIVER_EVERY_SECONDS = 15
JOB_OPTIONS: dict[str, Any] = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
QUIET_LOGGERS = ("apscheduler", "transitions")


def digest_trigger() -> CronTrigger:
    """Mondays at 08:00 wall-clock time in Amsterdam (APScheduler 3.x: day_of_week 0 = Monday)."""
    from apscheduler.triggers.cron import CronTrigger

    return CronTrigger(day_of_week="mon", hour=8, minute=0, timezone=AMSTERDAM)


@dataclass
class PassReport:
    """What one `--once` pass did."""

    sweep: SweepReport | None = None
    digest: digest.DigestReport | None = None
    planning: planning.ReminderReport | None = None
    delivery: DeliveryReport | None = None
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0  # how long the pass took, by the machine's own watch

    def failures(self) -> list[str]:
        """What went wrong in the work itself (not in a job), in Dutch, one line each."""
        found = []
        if self.sweep is not None and self.sweep.failed:
            found.append(f"termijnen: {self.sweep.failed} keer een traject overgeslagen door een fout "
                         "(zie het logboek)")
        if self.planning is not None and self.planning.failed:
            found.append(f"planning: {self.planning.failed} herinnering(en) niet gemaakt door een fout "
                         "(zie het logboek)")
        if self.delivery is not None and self.delivery.failed:
            found.append(f"mail: {self.delivery.failed} mail(s) definitief niet bezorgd "
                         "(zie advies outbox --failed)")
        if self.delivery is not None and self.delivery.paused:
            found.append(f"mail: versturen gepauzeerd. {self.delivery.paused}")
        return found

    def as_dict(self) -> dict[str, Any]:
        return {
            "sweep": self.sweep.as_dict() if self.sweep else None,
            "digest": dict(self.digest.__dict__) if self.digest else None,
            "planning": dict(self.planning.__dict__) if self.planning else None,
            "delivery": dict(self.delivery.__dict__) if self.delivery is not None else None,
            "problems": list(self.problems),
            "seconds": round(self.seconds, 4),
        }


class Worker:
    """The jobs, sharing one engine and one service; `stop` ends a sweep after the item in hand."""

    def __init__(self, settings: Settings, engine: Engine | None = None,
                 clock: Clock | None = None) -> None:
        self.settings = settings
        self.owns_engine = engine is None
        self.engine = engine if engine is not None else make_engine(settings.database_url)
        self.service = Service(self.engine, settings, clock)
        self.stop = threading.Event()
        self.problems: list[str] = []

    # --- the jobs ------------------------------------------------------------------------------

    def sweep_job(self) -> SweepReport | None:
        report = self._guarded("termijnen", lambda: Sweep(self.service, self.stop).run())
        if report is not None and (report.steps or report.expired or report.failed):
            log.info("Termijnen: %s verlopen, %s herinneringen (%s mails), %s overgeslagen.",
                     report.expired, report.steps, report.mails, report.failed)
        return report

    def digest_job(self) -> digest.DigestReport | None:
        report = self._guarded("overzicht", lambda: digest.send_due(self.service))
        if report is not None and report.mails:
            log.info("Overzicht %s verstuurd naar %s organisatie(s).", report.week, report.organisations)
        return report

    def planning_job(self) -> planning.ReminderReport | None:
        """The planning's reminders whose day has come (three weeks before the expected date)."""
        report = self._guarded("planning", lambda: planning.send_reminders(self.service))
        if report is not None and (report.mails or report.failed):
            log.info("Planning: %s herinnering(en) (%s mails), %s overgeslagen.",
                     report.items, report.mails, report.failed)
        return report

    def retention_job(self) -> int | None:
        """AVG: empty the bodies of sent and failed mail older than the organisation's
        `mail_retention_months` (app.privacy); the rows stay."""
        purged = self._guarded("bewaartermijn", lambda: privacy.purge_expired_mail(
            self.engine, self.service.clock.now()))
        if purged:
            log.info("Bewaartermijn: %s mailtekst(en) gewist.", purged)
        return purged

    def sweep_round(self) -> None:
        """The interval job: the sweep, then the digest when the week's one is still due, then
        the planning's reminders."""
        self.sweep_job()
        if not self.stop.is_set():
            self.digest_job()
        if not self.stop.is_set():
            self.planning_job()
        if not self.stop.is_set():
            self.retention_job()

    def delivery_job(self) -> DeliveryReport | None:
        """`notifications.delivery.deliver_once`, ended promptly by `stop`."""
        report = self._guarded("mail", lambda: deliver_once(self.engine, self.settings,
                                                            self.service.clock, stop=self.stop))
        if report is not None and report.handed_back:
            log.info("Mail: %s teruggelegd in de wachtrij, onverstuurd.", report.handed_back)
        return report

    def _guarded(self, what: str, job: Callable[[], Any]) -> Any | None:
        try:
            return job()
        except Exception as error:  # a job never takes the worker down
            self._problem(what, type(error).__name__)
            log.debug("Oorzaak", exc_info=error)
            return None

    def _problem(self, what: str, text: str) -> None:
        self.problems.append(f"{what}: {text}")
        log.error("Taak %s mislukt: %s. De volgende ronde probeert het opnieuw.", what, text)

    # --- one pass, or the clock ----------------------------------------------------------------

    def once(self) -> PassReport:
        self.problems = []
        started = time.perf_counter()
        with self._stop_on_signals():  # a stop signal ends the pass early and cleanly
            report = PassReport(sweep=self.sweep_job())
            if not self.stop.is_set():
                report.digest = self.digest_job()
            if not self.stop.is_set():
                report.planning = self.planning_job()
            report.delivery = self.delivery_job()
            if not self.stop.is_set():
                self.retention_job()
        report.problems = [*self.problems, *report.failures()]
        report.seconds = time.perf_counter() - started
        return report

    @contextmanager
    def _stop_on_signals(self) -> Iterator[None]:
        """SIGTERM and Ctrl-C set `stop` instead of killing the pass (main thread only)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, lambda _sig, _frame: self.stop.set()) for sig in STOP_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def scheduler(self) -> BackgroundScheduler:
        """The clock: a BackgroundScheduler with an in-memory job store (not started)."""
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.jobstores.memory import MemoryJobStore
        from apscheduler.schedulers.background import BackgroundScheduler
        from apscheduler.triggers.interval import IntervalTrigger

        scheduler = BackgroundScheduler(
            jobstores={"default": MemoryJobStore()},
            executors={"default": ThreadPoolExecutor(max_workers=3)},
            timezone=AMSTERDAM,
        )
        first = datetime.now(UTC)
        scheduler.add_job(self.sweep_round, IntervalTrigger(seconds=SWEEP_EVERY_SECONDS),
                          id="sweep", name="termijnen", next_run_time=first, **JOB_OPTIONS)
        scheduler.add_job(self.delivery_job, IntervalTrigger(seconds=DELIVER_EVERY_SECONDS),
                          id="delivery", name="mail", next_run_time=first, **JOB_OPTIONS)
        scheduler.add_job(self.digest_job, digest_trigger(), id="digest", name="overzicht",
                          **JOB_OPTIONS)
        return scheduler

    def close(self) -> None:
        if self.owns_engine:
            self.engine.dispose()


class Background:
    """A worker running beside something else (`advies serve`); `shutdown()` stops it."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self.scheduler = worker.scheduler()
        self.scheduler.start()

    def shutdown(self) -> None:
        self.worker.stop.set()
        self.scheduler.shutdown(wait=True)
        self.worker.close()


def start_background(settings: Settings) -> Background:
    """Start the worker's clock in background threads of this process."""
    return Background(Worker(settings))


def run(settings: Settings, once: bool = False) -> PassReport | None:
    """`advies worker`: one pass (`once`), or run until SIGTERM / Ctrl-C."""
    _configure_logging()
    worker = Worker(settings)
    try:
        if once:
            return worker.once()
        serve(worker)
        return None
    finally:
        worker.close()


def serve(worker: Worker) -> None:
    """Run the clock until SIGTERM or SIGINT; then finish the item in hand and stop.

    The stop signals are blocked before any thread starts (threads inherit the mask) and taken
    with `sigwait` in this thread, so no handler runs in the middle of other code.
    """
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    scheduler = worker.scheduler()
    try:
        scheduler.start()
        log.info("Werker gestart (termijnen elke %s s, mail elke %s s).",
                 SWEEP_EVERY_SECONDS, DELIVER_EVERY_SECONDS)
        received = signal.sigwait(STOP_SIGNALS)
        log.info("Signaal %s ontvangen: het werk in handen wordt afgemaakt.", signal.Signals(received).name)
    finally:
        worker.stop.set()
        if scheduler.running:
            scheduler.shutdown(wait=True)
        _forget_pending(STOP_SIGNALS)  # a second Ctrl-C while stopping must not end in a traceback
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
    log.info("Werker gestopt.")


def _forget_pending(signals: tuple[signal.Signals, ...]) -> None:
    """Take stop signals that arrived while they were blocked, so none is raised on unblocking."""
    while signal.sigtimedwait(signals, 0) is not None:
        pass


def _configure_logging() -> None:
    """INFO to stderr, unless the host (a test, `advies serve`) set up logging already."""
    if logging.getLogger().handlers:
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
