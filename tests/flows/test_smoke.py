from __future__ import annotations

from engine.runtime.service import Service
from tests.helpers import start


def test_start_sends_receipt(service: Service) -> None:
    view = start(service)
    assert view["state"] == "requested"
