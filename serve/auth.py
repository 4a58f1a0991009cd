"""API keys and roles: who may read, who may download exports and reports.

A key comes in the ``X-API-Key`` header, or (for the console) in the ``tracesync_key`` cookie.
A missing key is 401, an unknown key 401, a known key without the needed role 403; each body
names the problem. Keys are hashed and matched in :mod:`tracesync.apikeys` (settings plus a keys
file re-read on change).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from fastapi import HTTPException, Request

from tracesync import apikeys
from tracesync.settings import ServeSettings

KEY_HEADER = "X-API-Key"
KEY_COOKIE = "tracesync_key"
ROLES_ALLOWED: Mapping[str, frozenset[str]] = {
    "read": frozenset({"viewer", "compliance", "operator"}),
    "export": frozenset({"compliance"}),
}
"""What a caller wants to do -> the roles that may do it."""


@dataclass(frozen=True)
class Caller:
    """The key's name and role of an authenticated request."""

    name: str
    role: str


class KeyRing:
    """The configured keys with their roles, compared in constant time."""

    def __init__(self, settings: ServeSettings) -> None:
        fixed = [
            apikeys.entry(name, key.key.get_secret_value(), key.role)
            for name, key in settings.api_keys.items()
        ]
        self._ring = apikeys.key_ring("tracesync serve", fixed, settings.api_keys_file)

    def caller(self, given: str) -> Caller | None:
        """Who ``given`` is, or ``None`` for an unknown key (or one without a known role)."""
        found = self._ring.match(given)
        if found is None or found.role not in ROLES_ALLOWED["read"]:
            return None
        return Caller(found.name, found.role)


def presented_key(request: Request) -> str | None:
    """The key a request carries (header first, then the console's cookie)."""
    return request.headers.get(KEY_HEADER) or request.cookies.get(KEY_COOKIE)


def authenticate(ring: KeyRing, given: str | None, action: str) -> Caller:
    """The caller of a request that wants ``action``; raises 401/403 naming the problem."""
    if not given:
        raise HTTPException(401, f"missing API key: send it in the {KEY_HEADER} header")
    caller = ring.caller(given)
    if caller is None:
        raise HTTPException(401, "unknown API key")
    allowed = ROLES_ALLOWED[action]
    if caller.role not in allowed:
        raise HTTPException(
            403,
            f"role {caller.role!r} (key {caller.name!r}) may not {action}; "
            f"needs one of {', '.join(sorted(allowed))}",
        )
    return caller


def requires(action: str) -> Callable[[Request], Caller]:
    """A FastAPI dependency admitting callers whose role may do ``action``."""

    def dependency(request: Request) -> Caller:
        ring: KeyRing = request.app.state.keys
        return authenticate(ring, presented_key(request), action)

    return dependency
