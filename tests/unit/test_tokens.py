from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine import tokens

NOW = datetime(2026, 3, 24, 8, 0, tzinfo=UTC)


def test_a_genuine_link_carries_its_claims() -> None:
    token = tokens.issue("geheim", 7, "anna@example.org", NOW + timedelta(days=1))
    claims = tokens.verify("geheim", token, NOW)
    assert (claims.trajectory_id, claims.email) == (7, "anna@example.org")


def test_every_link_is_unique() -> None:
    expiry = NOW + timedelta(days=1)
    assert tokens.issue("k", 1, "a@example.org", expiry) != tokens.issue("k", 1, "a@example.org", expiry)


def test_expired_link_is_refused() -> None:
    token = tokens.issue("geheim", 7, "anna@example.org", NOW)
    with pytest.raises(tokens.TokenRefused) as refused:
        tokens.verify("geheim", token, NOW)
    assert refused.value.reason == "expired"


@pytest.mark.parametrize("change", ["flip", "other-key", "garbage"])
def test_tampered_link_is_refused(change: str) -> None:
    token = tokens.issue("geheim", 7, "anna@example.org", NOW + timedelta(days=1))
    if change == "flip":
        token = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    key = "ander-geheim" if change == "other-key" else "geheim"
    with pytest.raises(tokens.TokenRefused) as refused:
        tokens.verify(key, "zomaar-iets" if change == "garbage" else token, NOW)
    assert refused.value.reason == "tampered"
