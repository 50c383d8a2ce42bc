"""`call_participants` to 50 members, beside building the same 50 messages with `email` alone.

The organisation has 50 members; each event moves a trajectory from `requested` to `calling`,
starts the sign-up term and renders the call with a personal link into the outbox for every
member (50 rows), in one transaction (Service.fire, as the secretariat).

Reference, in the same run: the standard library building 50 `email.message.EmailMessage`s of
the same text and HTML (taken from a message the run made) and turning each into bytes; no
templates, no links, no database.
"""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from email.utils import format_datetime

from sqlalchemy import select

from app.service import Service
from benchmarks import bulk
from benchmarks.databases import NOW, clock, settings_for
from benchmarks.harness import Context, Figure, timed_each, value_at_least

NAME = "calls"
MEMBERS = 50
EVENT = "call_participants"


def run(ctx: Context) -> list[Figure]:
    events = ctx.mode.size(2, 10, 50)
    figures = []
    for kind in ctx.kinds:
        runs = [measure(ctx, kind, events) for _ in range(ctx.mode.runs)]
        figures.append(Figure(
            f"call_participants to {MEMBERS} members", kind, events, "events/s", runs,
            reference=f"email.message ×{MEMBERS} alone", command=ctx.command(NAME, kind),
            target=value_at_least(100, "≥ 100 events/s (and rendering outside the write lock)")))
    return figures


def measure(ctx: Context, kind: str, events: int) -> tuple[float, float]:
    """One run: (events/s of the product, the same count of 50-message builds per second)."""
    with ctx.dbs.engine(kind) as (url, engine):
        org = bulk.organisations(engine, 1, members=MEMBERS)[0]
        ids = bulk.trajectories(engine, [org], events + 1, "requested", (bulk.Term("advice_due"),),
                                data=bulk.requested_data)
        service = Service(engine, settings_for(url, ctx.folder), clock())
        service.fire(ids[0], EVENT, org.secretariat, report=False)  # warm-up: templates, statements
        seconds, _ = timed_each(ids[1:], lambda tid: service.fire(tid, EVENT, org.secretariat, report=False))
        t = bulk.outbox_table
        with engine.connect() as conn:
            raw = conn.execute(select(t.c.raw).where(t.c.template == "asked_advice/call")).scalars().first()
        assert raw is not None
    content = content_of(raw)
    recipients = [f"lid{n}@example.org" for n in range(MEMBERS)]
    build_all(content, recipients)  # warm-up
    reference, _ = timed_each(range(events), lambda _n: build_all(content, recipients))
    return events / seconds, events / reference


def content_of(raw: bytes) -> tuple[str, str, str, str]:
    """From, Subject, text and HTML of a message the product made."""
    sample = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(sample, EmailMessage)
    text, html = sample.get_body(("plain",)), sample.get_body(("html",))
    assert text is not None
    assert html is not None
    return str(sample["From"]), str(sample["Subject"]), text.get_content(), html.get_content()


def build_all(content: tuple[str, str, str, str], recipients: list[str]) -> list[bytes]:
    """The stdlib alone: one multipart/alternative (text and HTML) per recipient, as bytes."""
    sender, subject, text, html = content
    built = []
    for n, recipient in enumerate(recipients):
        message = EmailMessage(policy=email.policy.SMTP)
        message["From"] = sender
        message["To"] = f"Lid {n} <{recipient}>"
        message["Subject"] = subject
        message["Message-ID"] = f"<call-{n}@example.org>"
        message["Date"] = format_datetime(NOW)
        message.set_content(text)
        message.add_alternative(html, subtype="html")
        built.append(message.as_bytes())
    return built
