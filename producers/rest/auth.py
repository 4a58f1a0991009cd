"""API keys: each belongs to one source system and may publish only that system's events.

The keys are hashed and matched in :mod:`tracesync.apikeys` (settings plus a keys file re-read
on change, so keys rotate without a restart).
"""

from __future__ import annotations

from fastapi.security import APIKeyHeader

from producers.rest.problems import RequestRefusedError
from tracesync.apikeys import KeyRing, entry, key_ring
from tracesync.settings import IngestSettings

API_KEY_HEADER = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    description="API key of one source system; it may publish only that system's events.",
)


def ingest_key_ring(settings: IngestSettings) -> KeyRing:
    """The ingest's keys (settings and keys file); ConfigurationError when there are none."""
    fixed = [entry(system, key.get_secret_value()) for system, key in settings.api_keys.items()]
    return key_ring("the REST ingest", fixed, settings.api_keys_file)


class ApiKeys:
    """Resolves an API key to the source system it belongs to (constant-time compare)."""

    def __init__(self, ring: KeyRing) -> None:
        self._ring = ring

    def system_of(self, presented: str | None) -> str | None:
        found = self._ring.match(presented)
        return None if found is None else found.name.upper()

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
