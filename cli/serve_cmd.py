"""`advies serve`: the web pages behind the personal links and the background worker, one process.

SIGTERM and Ctrl-C stop the web server gracefully (open connections get a few seconds), then
the worker (the mail in hand finishes or is handed back), within seconds; the process exits 0.
"""

from __future__ import annotations

import errno
import logging
import signal
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer
from sqlalchemy import text

from cli.context import out, reports, service
from engine.errors import AdviesError, InvalidInput

if TYPE_CHECKING:  # the web server and the worker are imported when `serve` runs, not for every command
    import uvicorn

    from app.service import Service
    from settings import Settings
    from worker.main import Background

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
MAX_PORT = 65535
GRACEFUL_SECONDS = 5  # open browser connections get this long to finish when we stop


@reports
def serve(host: Annotated[str, typer.Option("--host", help="Adres om op te luisteren.")] = "127.0.0.1",
          port: Annotated[int, typer.Option("--port", help="Poort om op te luisteren.")] = 8000,
          sign_in_links: Annotated[bool, typer.Option(
              "--inloglinks", help="Toon voor elke rol een inloglink (voor de demo).")] = False,
          ) -> None:
    """Start de webpagina's achter de persoonlijke links, met het achtergrondwerk erbij."""
    from notifications.delivery import check_mail_settings

    _check_port_number(port)
    found = service()
    _check_database(found)
    _check_port(host, port)
    if "base_url" not in found.settings.model_fields_set:  # links in mail point where we listen
        found.settings.base_url = f"http://{_reachable(host)}:{port}"
    found.settings.signing_key()  # no forgeable links: refuse to start without a strong key
    check_mail_settings(found.settings)  # mail settings that cannot work: refuse, say why
    _welcome(found, sign_in_links)
    with _stop_signals_end_quietly():  # from here on a stop signal ends the process cleanly
        unblocked = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        worker = _start_worker(found.settings, unblocked)
        try:
            # a stop that arrived while the worker started is raised here, with `worker` known
            signal.pthread_sigmask(signal.SIG_SETMASK, unblocked)
            _server(found, host, port).run()
        finally:
            with _stop_signals_ignored():  # a second Ctrl-C while the worker stops: no traceback
                worker.shutdown()
    out.print("Adviestraject is gestopt.")


def _reachable(host: str) -> str:
    """How a browser on this computer reaches the address we listen on."""
    if host in ("0.0.0.0", "::", ""):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def _welcome(found: Service, sign_in_links: bool) -> None:
    from app.sign_in import SignIn

    address = found.settings.base_url.rstrip("/")
    out.print(f"Adviestraject draait op {address} (Ctrl-C stopt).")
    if not sign_in_links:
        return
    out.print("Inloggen als een van deze rollen: open de link (hij werkt 15 minuten en één keer).")
    for found_link in SignIn(found).one_per_role():
        out.print(f"  {found_link['org']}, {found_link['role']} ({found_link['name']}): "
                  f"{found_link['link']}", soft_wrap=True)
    out.print(f"Verlopen? Vraag op {address}/inloggen een nieuwe link aan: zonder mailserver staat "
              f"die mail in de map {found.settings.mail_dir}. Of: advies inloglink E-MAIL --org ORG.")


def _check_port_number(port: int) -> None:
    if not 1 <= port <= MAX_PORT:
        raise InvalidInput(f"Poort {port} bestaat niet: kies met --port een getal van 1 tot en met "
                           f"{MAX_PORT}.")


def _check_port(host: str, port: int) -> None:
    """A clear Dutch message, naming the real cause, when we cannot listen there; before
    anything starts."""
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as error:
        raise _bind_error(host, port, error) from error


def _bind_error(host: str, port: int, error: OSError) -> AdviesError:
    """Address in use, no permission, an address this computer does not have, or a name that
    does not exist: each its own Dutch sentence."""
    if error.errno == errno.EADDRINUSE:
        return AdviesError(f"Poort {port} op {host} is al in gebruik. "
                           "Draait Adviestraject al? Kies anders een andere poort met --port.")
    if error.errno in (errno.EACCES, errno.EPERM):
        return AdviesError(f"Geen toestemming om op poort {port} te luisteren: poorten onder 1024 "
                           "vragen beheerrechten. Kies een poort vanaf 1024 met --port.")
    if error.errno == errno.EADDRNOTAVAIL:
        return InvalidInput(f"Het adres {host} hoort niet bij deze computer; kies met --host een "
                            "eigen adres, zoals 127.0.0.1 of 0.0.0.0.")
    if isinstance(error, socket.gaierror):
        return InvalidInput(f"Het adres {host} is onbekend; kies met --host een adres zoals 127.0.0.1.")
    return AdviesError(f"Luisteren op {host} poort {port} lukt niet ({error.strerror or error}).")


def _check_database(found: Service) -> None:
    """Fail at start, with the Dutch 'run advies init first', not at the first visitor."""
    with found.engine.connect() as connection:
        connection.execute(text("SELECT 1 FROM trajectory LIMIT 1"))


def _start_worker(settings: Settings, unblocked: set[int | signal.Signals]) -> Background:
    """Start the worker's threads with the stop signals blocked: they inherit the mask, so only
    this thread hears a stop, and never while the worker is half started. The caller unblocks
    once it holds the worker, so that a stop meanwhile still shuts the worker down."""
    from worker.main import start_background

    try:
        return start_background(settings)
    except BaseException:
        signal.pthread_sigmask(signal.SIG_SETMASK, unblocked)
        raise


def _server(found: Service, host: str, port: int) -> uvicorn.Server:
    import uvicorn

    from web.app import RedactLinks, create_app

    config = uvicorn.Config(create_app(found), host=host, port=port, server_header=False,
                            proxy_headers=False, log_level="info",
                            timeout_graceful_shutdown=GRACEFUL_SECONDS)
    logging.getLogger("uvicorn.access").addFilter(RedactLinks())  # after Config set up logging
    return uvicorn.Server(config)


class _Stopped(Exception):
    """A stop signal arrived; uvicorn has shut down (it re-raises the signal when it is done)."""


def _raise_stopped(_signum: int, _frame: FrameType | None) -> None:
    raise _Stopped


@contextmanager
def _stop_signals_end_quietly() -> Iterator[None]:
    previous = {sig: signal.signal(sig, _raise_stopped) for sig in STOP_SIGNALS}
    try:
        yield
    except _Stopped:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextmanager
def _stop_signals_ignored() -> Iterator[None]:
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

