"""Signed, expiring tokens that stand for an API key: the console's session and stream tokens.

A browser cannot set headers on an ``EventSource``, so the console authenticates it by cookie; the
cookie holds a token (key name, role, expiry, HMAC-SHA256 signature), never the long-lived key
itself. A client on another origin asks ``POST /v1/stream-token`` for a token valid a minute and
passes it as ``?token=``: a URL may land in logs, so only short-lived tokens go there.

The signing secret is ``serve.session_secret``, or a random one per process (then a restart of
``tracesync serve`` ends every session).
"""

from __future__ import annotations

import base64
import hmac
import json
import secrets
import time
from collections.abc import Callable
from hashlib import sha256


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenSigner:
    """Issues and checks tokens; ``clock`` (epoch seconds) is injectable for tests."""

    def __init__(self, secret: bytes | None = None, clock: Callable[[], float] = time.time) -> None:
        self._secret = secret or secrets.token_bytes(32)
        self._clock = clock

    def _sign(self, body: str) -> str:
        return _b64(hmac.new(self._secret, body.encode("ascii"), sha256).digest())

    def issue(self, name: str, role: str, ttl_s: float, purpose: str) -> str:
        """A token for the key ``name`` with ``role``, valid ``ttl_s`` seconds for ``purpose``."""
        claims = {"n": name, "r": role, "p": purpose, "e": self._clock() + ttl_s}
        body = _b64(json.dumps(claims, separators=(",", ":")).encode())
        return f"{body}.{self._sign(body)}"

    def check(self, token: str, purpose: str) -> tuple[tuple[str, str] | None, str]:
        """The (key name, role) a token stands for, or ``None`` and why not."""
        body, _, signature = token.partition(".")
        if not signature or not hmac.compare_digest(self._sign(body), signature):
            return None, "invalid token"
        try:
            claims = json.loads(_unb64(body))
            name, role, wanted, expires = claims["n"], claims["r"], claims["p"], claims["e"]
        except (ValueError, KeyError, TypeError):
            return None, "invalid token"
        if wanted != purpose:
            return None, f"a {wanted} token is not valid here"
        if float(expires) < self._clock():
            return None, f"the {purpose} token has expired"
        return (str(name), str(role)), ""
