"""API keys: each belongs to one source system and may publish only that system's events."""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from fastapi.security import APIKeyHeader
from pydantic import SecretStr

from producers.rest.problems import RequestRefusedError

API_KEY_HEADER = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    description="API key of one source system; it may publish only that system's events.",
)


class ApiKeys:
    """Resolves an API key to the source system it belongs to (constant-time compare)."""

    def __init__(self, keys: Mapping[str, SecretStr]) -> None:
        self._keys = [
            (system.upper(), key.get_secret_value().encode()) for system, key in keys.items()
        ]

    def system_of(self, presented: str | None) -> str | None:
        if not presented:
            return None
        given = presented.encode()
        found = None
        for system, key in self._keys:  # no early exit: the time does not tell which key matched
            if hmac.compare_digest(given, key):
                found = system
        return found

    def caller_system(self, wanted: str, presented: str | None) -> str:
        """The system of the presented key, which must be ``wanted`` (else 401 / 403)."""
        owner = self.system_of(presented)
        if owner is None:
            raise RequestRefusedError(401, "missing or unknown API key (header X-API-Key)")
        if owner != wanted:
            raise RequestRefusedError(
                403,
                f"the API key of {owner} may not publish {wanted} events",
                [("source_system", f"path names {wanted}, the key belongs to {owner}")],
            )
        return owner
