"""Session and stream tokens of the console: signed, expiring, bound to a purpose and a key."""

from __future__ import annotations

from pydantic import SecretStr

from serve.auth import SESSION, STREAM, Caller, KeyRing
from serve.tokens import TokenSigner
from tracesync.settings import ServeKey, ServeSettings


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def ring(clock: Clock, role: str = "viewer") -> KeyRing:
    keys = {"alice": ServeKey(key=SecretStr("alice-secret-key"), role=role)}  # type: ignore[arg-type]
    return KeyRing(ServeSettings(api_keys=keys), TokenSigner(b"k" * 32, clock))


def test_a_token_stands_for_its_key_until_it_expires() -> None:
    clock = Clock()
    token = ring(clock).token(Caller("alice", "viewer"), 60, SESSION)

    assert "alice-secret-key" not in token
    assert ring(clock).from_token(token, SESSION) == (Caller("alice", "viewer"), "")
    clock.now += 61
    assert ring(clock).from_token(token, SESSION) == (None, "the session token has expired")


def test_a_tampered_token_or_another_purpose_is_refused() -> None:
    clock = Clock()
    token = ring(clock).token(Caller("alice", "viewer"), 60, STREAM)
    body, _, signature = token.partition(".")
    forged = TokenSigner(b"x" * 32, clock).issue("alice", "operator", 60, STREAM)

    assert ring(clock).from_token(token, SESSION) == (None, "a stream token is not valid here")
    assert ring(clock).from_token(f"{body}.{signature[::-1]}", STREAM)[1] == "invalid token"
    assert ring(clock).from_token(forged, STREAM)[1] == "invalid token"
    assert ring(clock).from_token("garbage", STREAM)[1] == "invalid token"


def test_a_token_of_a_key_whose_role_changed_is_refused() -> None:
    clock = Clock()
    token = ring(clock, "operator").token(Caller("alice", "operator"), 60, SESSION)

    caller, why = ring(clock, "viewer").from_token(token, SESSION)

    assert caller is None
    assert "no longer configured" in why
