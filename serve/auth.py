"""API keys and roles: who may read, download exports and reports, or redrive dead letters.

A request is identified by the key in the ``X-API-Key`` header, else by the console's session
cookie (``tracesync_key``: a signed, expiring token set at login, never the key itself), else, on
the live stream only, by a short-lived ``?token=`` (:mod:`serve.tokens`). A missing or unknown key
or token is 401, a known one without the needed role 403; each body names the problem. Keys are
hashed and matched in :mod:`tracesync.apikeys` (settings plus a keys file re-read on change), so
a rotated key works at once and a token of a removed key stops working.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from fastapi import HTTPException, Request

from serve.tokens import TokenSigner
from tracesync import apikeys
from tracesync.settings import ServeSettings

KEY_HEADER = "X-API-Key"
KEY_COOKIE = "tracesync_key"
TOKEN_QUERY = "token"  # noqa: S105 - the query parameter's name, not a secret
SESSION = "session"
STREAM = "stream"
ROLES_ALLOWED: Mapping[str, frozenset[str]] = {
    "read": frozenset({"viewer", "compliance", "operator"}),
    "export": frozenset({"compliance"}),
    "redrive": frozenset({"operator"}),
}
"""What a caller wants to do -> the roles that may do it."""


@dataclass(frozen=True)
class Caller:
    """The key's name and role of an authenticated request."""

    name: str
    role: str


class KeyRing:
    """The configured keys with their roles, compared in constant time, and the tokens that
    stand for them."""

    def __init__(self, settings: ServeSettings, signer: TokenSigner | None = None) -> None:
        fixed = [
            apikeys.entry(name, key.key.get_secret_value(), key.role)
            for name, key in settings.api_keys.items()
        ]
        self._ring = apikeys.key_ring("tracesync serve", fixed, settings.api_keys_file)
        self._signer = signer or TokenSigner()

    def caller(self, given: str) -> Caller | None:
        """Who ``given`` is, or ``None`` for an unknown key (or one without a known role)."""
        found = self._ring.match(given)
        if found is None or found.role not in ROLES_ALLOWED["read"]:
            return None
        return Caller(found.name, found.role)

    def token(self, caller: Caller, ttl_s: float, purpose: str) -> str:
        """A signed token standing for ``caller`` for ``ttl_s`` seconds."""
        return self._signer.issue(caller.name, caller.role, ttl_s, purpose)

    def from_token(self, token: str, purpose: str) -> tuple[Caller | None, str]:
        """Who a token stands for (its key must still be configured with that role)."""
        claims, why = self._signer.check(token, purpose)
        if claims is None:
            return None, why
        name, role = claims
        if not any(e.name == name and e.role == role for e in self._ring.entries()):
            return None, f"the key {name!r} of this {purpose} token is no longer configured"
        return Caller(name, role), ""


def authenticate(ring: KeyRing, given: str | None, action: str) -> Caller:
    """The caller presenting the key ``given`` for ``action``; 401/403 naming the problem."""
    if not given:
        raise HTTPException(401, f"missing API key: send it in the {KEY_HEADER} header")
    caller = ring.caller(given)
    if caller is None:
        raise HTTPException(401, "unknown API key")
    return authorize(caller, action)


def authorize(caller: Caller, action: str) -> Caller:
    """``caller`` when its role may do ``action``; 403 naming the role otherwise."""
    allowed = ROLES_ALLOWED[action]
    if caller.role not in allowed:
        raise HTTPException(
            403,
            f"role {caller.role!r} (key {caller.name!r}) may not {action}; "
            f"needs one of {', '.join(sorted(allowed))}",
        )
    return caller


def identify(request: Request, action: str, *, stream_token: bool = False) -> Caller:
    """The caller of a request (header key, session cookie, or a stream token) for ``action``."""
    ring: KeyRing = request.app.state.keys
    key = request.headers.get(KEY_HEADER)
    if key:
        return authenticate(ring, key, action)
    tokens = [(SESSION, request.cookies.get(KEY_COOKIE))]
    if stream_token:
        tokens.append((STREAM, request.query_params.get(TOKEN_QUERY)))
    for purpose, token in tokens:
        if token:
            caller, why = ring.from_token(token, purpose)
            if caller is None:
                raise HTTPException(401, why)
            return authorize(caller, action)
    raise HTTPException(401, f"missing API key: send it in the {KEY_HEADER} header")


def requires(action: str, *, stream_token: bool = False) -> Callable[[Request], Caller]:
    """A FastAPI dependency admitting callers whose role may do ``action``."""

    def dependency(request: Request) -> Caller:
        return identify(request, action, stream_token=stream_token)

    return dependency
