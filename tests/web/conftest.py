"""A browser-less client of the signed-in web interface, and signing in the way a person does:
the sign-in link from the mail, then its button."""

from __future__ import annotations

import email
import email.policy
import re
import warnings
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from app.service import Service
from storage.tables import OutboxMessage
from web.app import create_app

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
def web(service: Service) -> Iterator[TestClient]:
    with TestClient(create_app(service), base_url="http://testserver", follow_redirects=False) as client:
        yield client


def sign_in_mail_link(engine: Engine, address: str) -> str:
    """The path of the newest sign-in link mailed to `address`."""
    with Session(engine) as session:
        row = session.exec(select(OutboxMessage).where(OutboxMessage.recipient == address,
                                                       OutboxMessage.template == "common/sign_in")
                           .order_by(col(OutboxMessage.id).desc())).first()
    assert row is not None, f"geen inlogmail aan {address}"
    message = email.message_from_bytes(row.raw, policy=email.policy.default)
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    found = re.search(r"http://testserver(/inloggen/\S+)", body.get_content())
    assert found is not None
    return found.group(1)


def sign_in(client: TestClient, engine: Engine, address: str) -> str:
    """Ask for a link, open it, press its button; returns the CSRF token of the session's forms."""
    assert client.post("/inloggen", data={"email": address}).status_code == 200
    path = sign_in_mail_link(engine, address)
    assert client.get(path).status_code == 200
    used = client.post(path)
    assert used.status_code == 303, used.text
    return csrf_of(client.get(used.headers["location"], follow_redirects=True).text)


def csrf_of(page: str) -> str:
    found = CSRF.search(page)
    assert found is not None, "geen CSRF-token op de pagina"
    return found.group(1)
