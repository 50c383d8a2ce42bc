"""`advies serve`: the web pages behind the personal links and the background worker, one process.

SIGTERM and Ctrl-C stop the web server gracefully, then the worker, and the process exits 0.
"""

from __future__ import annotations

import logging
import signal
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Annotated, Any

import typer
import uvicorn
from sqlalchemy import text

from app.service import Service
from cli.context import err, out, reports, service
from engine.errors import AdviesError
from settings import Settings
from web.app import RedactLinks, create_app

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@reports
def serve(host: Annotated[str, typer.Option("--host", help="Adres om op te luisteren.")] = "127.0.0.1",
          port: Annotated[int, typer.Option("--port", help="Poort om op te luisteren.")] = 8000,
          ) -> None:
    """Start de webpagina's achter de persoonlijke links, met het achtergrondwerk erbij."""
    found = service()
    _check_database(found)
    _check_port(host, port)
    found.settings.signing_key()  # no forgeable links: refuse to start without a strong key
    worker = _start_worker(found.settings)
    try:
        _run(_server(found, host, port))
    finally:
        if worker is not None:
            worker.shutdown()
    out.print("Adviestraject is gestopt.")


def _check_port(host: str, port: int) -> None:
    """A clear Dutch message when the address is taken, before anything starts."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise AdviesError(f"Poort {port} op {host} is al in gebruik. "
                              "Draait Adviestraject al? Kies anders een andere poort met --port.") from error


def _check_database(found: Service) -> None:
    """Fail at start, with the Dutch 'run advies init first', not at the first visitor."""
    with found.engine.connect() as connection:
        connection.execute(text("SELECT 1 FROM trajectory LIMIT 1"))


def _start_worker(settings: Settings) -> Any | None:
    try:
        from worker.main import start_background  # optional until the worker lands
    except ImportError as error:
        if error.name not in ("worker", "worker.main"):
            raise
        err.print("Het achtergrondwerk (termijnen en mail) draait niet: worker.main ontbreekt nog. "
                  "De webpagina's werken wel.")
        return None
    return start_background(settings)


def _server(found: Service, host: str, port: int) -> uvicorn.Server:
    config = uvicorn.Config(create_app(found), host=host, port=port, server_header=False,
                            proxy_headers=False, log_level="info")
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


def _run(server: uvicorn.Server) -> None:
    with _stop_signals_end_quietly():
        server.run()
