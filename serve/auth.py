"""API keys and roles: who may read, who may download exports and reports.

A key comes in the ``X-API-Key`` header, or (for the console) in the ``tracesync_key`` cookie.
A missing key is 401, an unknown key 401, a known key without the needed role 403; each body
names the problem.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from fastapi import HTTPException, Request

from tracesync.settings import ServeKey

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
    """The configured keys, compared in constant time."""

    def __init__(self, keys: Mapping[str, ServeKey]) -> None:
        self._keys = dict(keys)

    def caller(self, given: str) -> Caller | None:
        """Who ``given`` is, or ``None`` for an unknown key."""
        found = None
        for name, entry in self._keys.items():
            if hmac.compare_digest(entry.key.get_secret_value().encode(), given.encode()):
                found = Caller(name, entry.role)
        return found


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
