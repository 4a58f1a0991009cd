"""One event per request: the answer to ``POST /v1/{system}/events``, whoever carries the HTTP.

Both the FastAPI route (:mod:`producers.rest.routes`) and the lean ASGI path in front of it
(:mod:`producers.rest.fastpath`) answer through :class:`SingleEventHandler`: the key is checked,
the body parsed, the event prepared (validated and encoded), published, and the answer is sent
only once the broker acknowledged it (``202``), or names what is wrong (``4xx``/``503``).
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from producers.rest.auth import ApiKeys
from producers.rest.events import Rejected, RestIngest
from producers.rest.limits import parse_json
from producers.rest.problems import RequestRefusedError, single_event_refused


@dataclass(frozen=True)
class Answer:
    """An HTTP answer: status and JSON body."""

    status: int
    body: bytes


def refused(exc: RequestRefusedError) -> Answer:
    """The answer to a refused request (its :class:`~producers.rest.bodies.ErrorBody`)."""
    return Answer(exc.status, orjson.dumps(exc.body.model_dump(mode="json")))


class SingleEventHandler:
    """Checks the key, then prepares and publishes one event; answers after the broker's ack."""

    def __init__(self, ingest: RestIngest, keys: ApiKeys) -> None:
        self.ingest = ingest
        self.keys = keys

    def owner(self, system: str, api_key: str | None) -> str:
        """The caller's system; :class:`RequestRefusedError` (401/403) for a wrong key."""
        return self.keys.caller_system(system, api_key)

    async def answer(self, owner: str, body: bytes) -> Answer:
        """Publish the event in ``body`` for ``owner``; the answer once it is settled."""
        try:
            prepared = self.ingest.prepare(0, parse_json(body), owner)
            if isinstance(prepared, Rejected):
                raise single_event_refused(prepared.status, prepared.problems)
            (settled,) = await self.ingest.publish([prepared])
            if isinstance(settled, Rejected):
                raise single_event_refused(settled.status, settled.problems)
        except RequestRefusedError as exc:
            return refused(exc)
        return Answer(202, orjson.dumps(settled.model_dump(mode="json")))
