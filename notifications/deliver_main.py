"""Deliver mail in a loop: `python -m notifications.deliver_main [--until-empty]`.

Reads the same ADVIES_* settings as `advies` (database, SMTP or mail folder), and refuses to
start (exit 2) with mail settings that cannot work, like `advies worker`. Keeps one pool of
SMTP connections open for the whole run. Stops on SIGTERM or SIGINT: the mail in hand finishes
(or is handed back after a few seconds), the rest of the round is handed back; or, with
`--until-empty`, once no mail is waiting or being sent.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from datetime import timedelta

from sqlalchemy import Engine

from engine.errors import InvalidInput
from notifications import outbox
from notifications.delivery import BATCH, check_mail_settings, deliver_due, sender_from_settings
from settings import Settings
from storage.db import make_engine_without_pool, transaction

log = logging.getLogger("notifications.deliver_main")


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m notifications.deliver_main",
                                     description="Verstuur de uitgaande post in een lus.")
    parser.add_argument("--pool", type=int, default=4, help="aantal SMTP-verbindingen")
    parser.add_argument("--batch", type=int, default=BATCH, help="berichten per ronde")
    parser.add_argument("--lease", type=float, default=300.0, help="seconden dat een claim geldt")
    parser.add_argument("--poll", type=float, default=1.0, help="seconden wachten als er niets is")
    parser.add_argument("--until-empty", action="store_true", help="stop als alles weg is")
    return parser.parse_args(argv)


def _pending(engine: Engine) -> int:
    with transaction(engine) as session:
        return outbox.pending(session)


async def run(engine: Engine, settings: Settings, args: argparse.Namespace) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    sender = sender_from_settings(settings, pool_size=args.pool)
    try:
        while not stop.is_set():
            report = await deliver_due(engine, sender, settings.clock.now, batch=args.batch,
                                       lease=timedelta(seconds=args.lease), stop=stop)
            if report.claimed and not report.paused:
                continue
            if args.until_empty and not await asyncio.to_thread(_pending, engine):
                break
            try:
                await asyncio.wait_for(stop.wait(), args.poll)
            except TimeoutError:
                pass
    finally:
        await sender.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = _arguments(argv)
    settings = Settings()
    try:
        check_mail_settings(settings)
    except InvalidInput as error:
        sys.stderr.write(f"Fout: {error.message}\n")
        return error.exit_code
    engine = make_engine_without_pool(settings.database_url)
    try:
        return asyncio.run(run(engine, settings, args))
    finally:
        engine.dispose()


if __name__ == "__main__":
    raise SystemExit(main())
