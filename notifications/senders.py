"""The mail port: a `Sender` ships the stored bytes of one mail to one recipient.

Three adapters: `SmtpSender` (aiosmtplib, a small pool of long-lived connections; aiosmtplib is
imported only once a pool is made, so a pass that sends no SMTP mail never loads it),
`FileSender` (.eml files, for the embedded default without SMTP settings) and `MemorySender`
(a fake for tests). Every failure is raised as one of three classes:

- `TemporaryFailure`: try again later (4xx, timeouts, dropped or refused connections);
- `PermanentFailure`: this mail will not get through (5xx for this message or recipient);
- `SetupFailure`: the settings are wrong (login, TLS, our sender address refused, a mail folder
  that cannot be written); pause the queue, do not count it against the mail. A subclass of
  `TemporaryFailure`.

Messages carry a Dutch `reason` and the server's `reply`; logs get only `log_text` (class and
code), since a server's reply may quote an address.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import re
import ssl
import tempfile
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from hashlib import sha256
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, cast

from notifications import smtp_wire
from notifications.smtp_url import SmtpConfig
from notifications.smtp_wire import Ready

if TYPE_CHECKING:
    import aiosmtplib
    from aiosmtplib.protocol import SMTPProtocol
    from aiosmtplib.response import SMTPResponse

log = logging.getLogger(__name__)

IDLE_CHECK = 30.0  # seconds; a connection idle this long gets a NOOP before it is trusted
QUIT_WAIT = 3.0  # seconds the server gets to answer QUIT when we hang up


class DeliveryFailure(Exception):
    """A mail could not be sent this time."""

    def __init__(self, reason: str, reply: str = "", code: int | None = None) -> None:
        super().__init__(_describe(reason, reply, code))
        self.reason = reason
        self.reply = reply
        self.code = code

    @property
    def log_text(self) -> str:
        return f"{type(self).__name__} {self.code or ''}".strip()


def _describe(reason: str, reply: str, code: int | None) -> str:
    if not reply:
        return reason
    return f"{reason} (antwoord van de server: {reply})" if code else f"{reason} ({reply})"


class TemporaryFailure(DeliveryFailure):
    """Try again later."""


class PermanentFailure(DeliveryFailure):
    """This mail will not get through; trying again does not help."""


class SetupFailure(TemporaryFailure):
    """The mail settings are wrong; no mail can be sent until someone fixes them."""


class Sender(Protocol):
    concurrency: int

    async def send(self, envelope_from: str, recipient: str, raw: bytes) -> None:
        """Deliver `raw` to one recipient, or raise a `DeliveryFailure`."""
        ...

    async def close(self) -> None: ...


class _HookFailed(Exception):
    """The `ready` hook of a send raised: its error is ours, not the mail server's."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


if TYPE_CHECKING:
    class _Client(aiosmtplib.SMTP):
        """What `_client_class` makes (for the type checker)."""

        ready: Ready | None

        async def send_one(self, envelope_from: str, recipient: str, raw: bytes) -> None: ...

        async def settle(self, wait: float) -> None: ...


class _HangsUpCleanly:
    """Mixed into aiosmtplib's client. A connection we hang up on is gone only once its goodbye
    (a TLS close_notify) is through; until then the socket beneath stays open, and it would
    outlive an event loop that stops first. `settle` waits for that goodbye."""

    protocol: SMTPProtocol | None
    closing: dict[SMTPProtocol, tuple[asyncio.BaseTransport, asyncio.Future[None]]]

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.closing = {}

    def close(self) -> None:
        protocol = self.protocol
        if protocol is not None and protocol.transport is not None:
            lost = asyncio.get_running_loop().create_future()
            self.closing[protocol] = (protocol.transport, lost)
        super().close()  # type: ignore[misc]

    def _on_connection_lost(self, protocol: SMTPProtocol) -> None:
        _, lost = self.closing.pop(protocol, (None, None))
        if lost is not None and not lost.done():
            lost.set_result(None)
        super()._on_connection_lost(protocol)  # type: ignore[misc]

    async def settle(self, wait: float) -> None:
        """Wait up to `wait` seconds for every hung-up connection to be gone; cut off the
        ones the server leaves hanging, so no socket outlives the event loop."""
        closing = list(self.closing.values())
        if not closing:
            return
        _, pending = await asyncio.wait([lost for _, lost in closing], timeout=wait)
        for transport, lost in closing:
            if lost in pending:
                cast(asyncio.Transport, transport).abort()
        if pending:
            await asyncio.wait(pending, timeout=wait)


@functools.cache
def _client_class() -> type[_Client]:
    """aiosmtplib's client, with a hook (`ready`) that holds back the dot that ends DATA
    (`smtp_wire.data_ending_when_ready`): the envelope, the DATA command and the mail itself are
    on their way meanwhile; and `send_one`, which skips aiosmtplib's parsing where it would
    change nothing (`smtp_wire`). Made on first use."""
    import aiosmtplib
    from aiosmtplib.typing import Default

    class Client(_HangsUpCleanly, aiosmtplib.SMTP):
        ready: Ready | None = None

        async def send_one(self, envelope_from: str, recipient: str, raw: bytes) -> None:
            """`sendmail` to one recipient; the short way when `smtp_wire` allows it."""
            if not smtp_wire.takes_short_way(self, envelope_from, recipient, raw):
                await self.sendmail(envelope_from, [recipient], raw)
                return
            await smtp_wire.send_one(self, envelope_from, recipient, raw, self._checked_ready(),
                                     self.timeout)

        async def data(self, message: str | bytes, /, *,
                       timeout: float | Literal[Default.token] | None = Default.token) -> SMTPResponse:
            if self.ready is None:
                return await super().data(message, timeout=timeout)
            raw = message.encode("ascii") if isinstance(message, str) else message
            return await smtp_wire.data_ending_when_ready(
                self, raw, self._checked_ready(), self.timeout if timeout is Default.token else timeout)

        def _checked_ready(self) -> Ready:
            """The hook, its errors told apart from the server's (`_HookFailed`)."""
            ready = self.ready

            async def checked() -> None:
                if ready is None:
                    return
                try:
                    await ready()
                except Exception as error:
                    raise _HookFailed(error) from error

            return checked

    return cast("type[_Client]", Client)


# --- classifying aiosmtplib's errors (notes/libraries.md §3.3) ---------------------------------


def _temporary_connection() -> tuple[type[Exception], ...]:
    import aiosmtplib

    return (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPConnectError,
            aiosmtplib.SMTPTimeoutError, TimeoutError, ConnectionError)


def classify(error: Exception, *, connecting: bool = False) -> DeliveryFailure:
    """Turn an exception from connecting or sending into one of our three failures."""
    import aiosmtplib

    if isinstance(error, DeliveryFailure):
        return error
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        return _recipients(error)
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return _response(error, connecting=connecting)
    if _tls_failed(error):  # before the connection errors: aiosmtplib wraps it in one
        return SetupFailure("De beveiligde verbinding (TLS) met de mailserver lukt niet: klopt het "
                            "certificaat, en spreekt de server TLS op deze poort (smtps:// of "
                            "smtp+starttls:// in ADVIES_SMTP_URL)?", type(error).__name__)
    if isinstance(error, _temporary_connection()):
        return TemporaryFailure("De verbinding met de mailserver lukte niet of viel weg.",
                                type(error).__name__)
    if connecting:
        return SetupFailure("De mailserver kan zo niet gebruikt worden: kijk de instellingen na.",
                            f"{type(error).__name__}: {error}")
    if isinstance(error, aiosmtplib.SMTPNotSupported | ValueError):
        return PermanentFailure("Deze mail kan zo niet verstuurd worden.", str(error))
    return TemporaryFailure("Er ging iets onverwachts mis bij het versturen.", type(error).__name__)


def _tls_failed(error: BaseException) -> bool:
    """An SSL error, itself or as the cause of a connection error (e.g. smtps:// to a plain server)."""
    seen: BaseException | None = error
    for _ in range(5):  # a short chain; never loop on a cycle
        if seen is None:
            return False
        if isinstance(seen, ssl.SSLError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _reply(code: int, message: str) -> str:
    return f"{code} {message}".strip()


def _recipients(error: aiosmtplib.SMTPRecipientsRefused) -> DeliveryFailure:
    refusals = error.recipients or []
    code = max((r.code for r in refusals), default=550)
    reply = "; ".join(_reply(r.code, r.message) for r in refusals)
    if code >= 500:
        return PermanentFailure("De mailserver neemt dit adres niet aan.", reply, code)
    return TemporaryFailure("De mailserver neemt dit adres nu even niet aan.", reply, code)


def _response(error: aiosmtplib.SMTPResponseException, *, connecting: bool) -> DeliveryFailure:
    import aiosmtplib

    code, reply = error.code, _reply(error.code, error.message)
    if 400 <= code < 500:
        return TemporaryFailure("De mailserver vraagt het later nog eens te proberen.", reply, code)
    if isinstance(error, aiosmtplib.SMTPAuthenticationError):
        return SetupFailure("Inloggen bij de mailserver lukt niet: kijk gebruikersnaam en wachtwoord "
                            "in ADVIES_SMTP_URL na.", reply, code)
    if connecting or isinstance(error, aiosmtplib.SMTPSenderRefused | aiosmtplib.SMTPHeloError):
        return SetupFailure("De mailserver weigert onze mail helemaal (afzender, beveiliging of "
                            "instellingen).", reply, code)
    return PermanentFailure("De mailserver weigert deze mail.", reply, code)


# --- SMTP ---------------------------------------------------------------------------------------


class SmtpSender:
    """A pool of `pool_size` long-lived SMTP connections; each send takes one, and gives it back.

    A connection that dropped, timed out or got a 421 is closed and opened again on its next
    use. Every send has a total deadline (`send_timeout`), on top of aiosmtplib's per-read one.
    """

    def __init__(self, config: SmtpConfig, *, pool_size: int = 4, timeout: float = 30.0,
                 send_timeout: float = 120.0, tls_context: ssl.SSLContext | None = None,
                 quit_wait: float = QUIT_WAIT) -> None:
        self.config = config
        self.quit_wait = quit_wait
        self.concurrency = max(1, pool_size)
        self.timeout = timeout
        self.send_timeout = send_timeout
        self.tls_context = tls_context
        self._idle: asyncio.LifoQueue[_Connection] | None = None

    def _new_client(self) -> _Client:
        mode = self.config.mode
        return _client_class()(
            hostname=self.config.host,
            port=self.config.port,
            username=self.config.username,
            password=self.config.password,
            use_tls=mode == "tls",
            start_tls=mode == "starttls",
            timeout=self.timeout,
            tls_context=self.tls_context,
        )

    def _pool(self) -> asyncio.LifoQueue[_Connection]:
        if self._idle is None:
            self._idle = asyncio.LifoQueue()
            for _ in range(self.concurrency):
                self._idle.put_nowait(_Connection(self._new_client()))
        return self._idle

    async def send(self, envelope_from: str, recipient: str, raw: bytes) -> None:
        await self.send_when_ready(envelope_from, recipient, raw, None)

    async def send_when_ready(self, envelope_from: str, recipient: str, raw: bytes,
                              ready: Ready | None) -> None:
        """`send`, but the server takes the mail only once `ready()` returned: the envelope
        (MAIL, RCPT), DATA and the mail itself go out meanwhile; only the dot that ends the mail
        waits. An error of `ready` is raised as it is (the connection is hung up first)."""
        pool = self._pool()
        connection = await pool.get()
        try:
            async with asyncio.timeout(self.send_timeout):
                await self._ready(connection)
                await self._ship(connection, envelope_from, recipient, raw, ready)
        except asyncio.CancelledError:
            connection.drop()
            raise
        except TimeoutError as error:  # the total deadline; the connection is in an unknown state
            connection.drop()
            raise TemporaryFailure("De mailserver reageerde niet op tijd.", "timeout") from error
        finally:
            pool.put_nowait(connection)

    async def _ready(self, connection: _Connection) -> None:
        await connection.check_if_idle()
        if connection.client.is_connected:
            return
        connection.drop()
        try:
            await connection.client.connect()
        except Exception as error:
            connection.drop()
            raise classify(error, connecting=True) from error
        connection.touch()

    async def _ship(self, connection: _Connection, envelope_from: str, recipient: str,
                    raw: bytes, ready: Ready | None) -> None:
        connection.client.ready = ready
        try:
            await connection.client.send_one(envelope_from, recipient, raw)
        except _HookFailed as failed:  # mid-mail: hung up, so the server keeps nothing of it
            connection.drop()
            raise failed.error from None
        except Exception as error:
            failure = classify(error)
            if _spoils_connection(error, failure):
                connection.drop()
            raise failure from error
        finally:
            connection.client.ready = None
        connection.touch()

    async def close(self) -> None:
        """Say goodbye to the server on every open connection, all at once: a server that does
        not answer costs at most twice `quit_wait` (its answer, then its goodbye), however many
        connections there are."""
        if self._idle is None:
            return
        connections = []
        while not self._idle.empty():
            connections.append(self._idle.get_nowait())
        self._idle = None
        await asyncio.gather(*(connection.quit(self.quit_wait) for connection in connections))


def _spoils_connection(error: Exception, failure: DeliveryFailure) -> bool:
    """A reply about this one mail leaves the connection usable; anything else does not."""
    import aiosmtplib

    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        return False
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return error.code == 421
    return not isinstance(failure, PermanentFailure)


@dataclass
class _Connection:
    client: _Client
    last_used: float = field(default=0.0)

    def touch(self) -> None:
        self.last_used = asyncio.get_running_loop().time()

    def drop(self) -> None:
        self.client.close()

    async def check_if_idle(self) -> None:
        """A server may have hung up on a connection that sat idle; ask before trusting it."""
        import aiosmtplib

        idle = asyncio.get_running_loop().time() - self.last_used
        if not self.client.is_connected or idle < IDLE_CHECK:
            return
        try:
            await self.client.noop()
        except aiosmtplib.SMTPException:
            self.drop()

    async def quit(self, wait: float) -> None:
        import aiosmtplib

        if self.client.is_connected:
            try:
                async with asyncio.timeout(wait):
                    await self.client.quit()
            except (aiosmtplib.SMTPException, TimeoutError, OSError):
                pass
        self.drop()
        await self.client.settle(wait)


# --- files ----------------------------------------------------------------------------------------

UNSAFE = re.compile(r"[^A-Za-z0-9._@+-]")


def message_id_of(raw: bytes) -> str | None:
    """The Message-ID header of a stored mail, without the angle brackets."""
    value = BytesHeaderParser().parsebytes(raw).get("Message-ID")
    found = str(value or "").strip().strip("<>")
    return found or None


def eml_name(raw: bytes) -> str:
    """A safe file name from the Message-ID (or a hash of the bytes when there is none)."""
    message_id = message_id_of(raw) or sha256(raw).hexdigest()
    return UNSAFE.sub("_", message_id).lstrip(".")[:200] + ".eml"


class FileSender:
    """Writes each mail to `<mail_dir>/<message-id>.eml`: whole or not at all.

    Sending the same mail twice overwrites the same file, so a retry never makes a copy.
    """

    concurrency = 1

    def __init__(self, mail_dir: Path) -> None:
        self.mail_dir = Path(mail_dir)

    async def send(self, envelope_from: str, recipient: str, raw: bytes) -> None:
        try:
            await asyncio.to_thread(self.write, raw)
        except OSError as error:  # the folder, not this mail: pause until someone fixes it
            raise SetupFailure(f"De map voor mail ({self.mail_dir}) kan niet worden beschreven: kijk "
                               "ADVIES_MAIL_DIR, de rechten en de vrije ruimte na.",
                               type(error).__name__) from error

    def write(self, raw: bytes) -> Path:
        self.mail_dir.mkdir(parents=True, exist_ok=True)
        target = self.mail_dir / eml_name(raw)
        handle, temp = tempfile.mkstemp(dir=self.mail_dir, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(raw)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
        return target

    async def close(self) -> None:
        return None


# --- memory (a fake for tests) --------------------------------------------------------------------


@dataclass(frozen=True)
class SentMail:
    envelope_from: str
    recipient: str
    raw: bytes

    @property
    def message_id(self) -> str | None:
        return message_id_of(self.raw)


class MemorySender:
    """Keeps what it sends in `.sent`; `fail(recipient, error, ...)` makes the next sends raise."""

    def __init__(self, concurrency: int = 1) -> None:
        self.concurrency = concurrency
        self.sent: list[SentMail] = []
        self.failures: dict[str, list[DeliveryFailure]] = {}
        self.closed = False

    def fail(self, recipient: str, *errors: DeliveryFailure) -> None:
        self.failures.setdefault(recipient, []).extend(errors)

    async def send(self, envelope_from: str, recipient: str, raw: bytes) -> None:
        waiting = self.failures.get(recipient)
        if waiting:
            raise waiting.pop(0)
        self.sent.append(SentMail(envelope_from, recipient, raw))

    async def close(self) -> None:
        self.closed = True
