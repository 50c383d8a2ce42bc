from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine import tokens

NOW = datetime(2026, 3, 24, 8, 0, tzinfo=UTC)


def test_a_genuine_link_carries_its_claims() -> None:
    token = tokens.issue("geheim", 7, 42, NOW + timedelta(days=1))
    claims = tokens.verify("geheim", token, NOW)
    assert (claims.trajectory_id, claims.person_id) == (7, 42)


def test_every_link_is_unique() -> None:
    expiry = NOW + timedelta(days=1)
    assert tokens.issue("k", 1, 3, expiry) != tokens.issue("k", 1, 3, expiry)


def test_expired_link_is_refused() -> None:
    token = tokens.issue("geheim", 7, 42, NOW)
    with pytest.raises(tokens.TokenRefused) as refused:
        tokens.verify("geheim", token, NOW)
    assert refused.value.reason == "expired"


@pytest.mark.parametrize("change", ["flip", "other-key", "garbage"])
def test_tampered_link_is_refused(change: str) -> None:
    token = tokens.issue("geheim", 7, 42, NOW + timedelta(days=1))
    if change == "flip":
        token = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    key = "ander-geheim" if change == "other-key" else "geheim"
    with pytest.raises(tokens.TokenRefused) as refused:
        tokens.verify(key, "zomaar-iets" if change == "garbage" else token, NOW)
    assert refused.value.reason == "tampered"


def test_no_address_travels_in_the_link() -> None:
    import base64

    token = tokens.issue("geheim", 7, 42, NOW + timedelta(days=1))
    body = token.split(".")[0]
    decoded = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    assert b"@" not in decoded


def test_a_new_key_after_many_links_with_the_old_one_does_not_accept_them() -> None:
    """The serializer is kept per key: links of the old key stay refused once the key rotates."""
    expiry = NOW + timedelta(days=1)
    old = [tokens.issue("oude-sleutel", 1, n, expiry) for n in range(1, 20)]
    assert tokens.verify("oude-sleutel", old[-1], NOW).person_id == 19
    for token in old:
        with pytest.raises(tokens.TokenRefused):
            tokens.verify("nieuwe-sleutel", token, NOW)
    fresh = tokens.issue("nieuwe-sleutel", 1, 2, expiry)
    assert tokens.verify("nieuwe-sleutel", fresh, NOW).person_id == 2
    with pytest.raises(tokens.TokenRefused):
        tokens.verify("oude-sleutel", fresh, NOW)


def test_a_link_is_what_itsdangerous_signs_for_its_claims() -> None:
    """Links are signed without the serializer (its signer made once per link cost most of a
    call), in its format: itsdangerous reads them, and signs their claims to the same bytes."""
    from itsdangerous import Signer, URLSafeSerializer

    expiry = NOW + timedelta(days=3)
    for trajectory_id, person_id in [(7, 42), (1234567, 7654321), (2**62, 2**62 + 1)]:
        token = tokens.issue("geheim", trajectory_id, person_id, expiry)
        body = URLSafeSerializer("geheim", salt=tokens.SALT).loads(token)
        assert body == {"t": trajectory_id, "p": person_id, "x": expiry.isoformat(),
                        "j": tokens.read("geheim", token).jti}
        payload = token.rpartition(".")[0]
        assert Signer("geheim", salt=tokens.SALT).sign(payload).decode() == token


def test_the_key_kept_for_one_secret_never_signs_for_another() -> None:
    """With the first key's signing key kept (warm), a second key signs with its own: a link of
    either verifies only with its own key, and the first key keeps working after the second."""
    expiry = NOW + timedelta(days=1)
    first = tokens.issue("sleutel-een", 3, 4, expiry)
    second = tokens.issue("sleutel-twee", 3, 4, expiry)
    assert first.rpartition(".")[2] != second.rpartition(".")[2]
    for key, token in [("sleutel-twee", first), ("sleutel-een", second)]:
        with pytest.raises(tokens.TokenRefused):
            tokens.verify(key, token, NOW)
    again = tokens.issue("sleutel-een", 3, 5, expiry)
    assert tokens.verify("sleutel-een", again, NOW).person_id == 5
    assert tokens.verify("sleutel-twee", second, NOW).person_id == 4
