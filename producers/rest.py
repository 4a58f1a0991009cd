"""REST ingest: source systems push events over HTTP; ``202`` only once the broker has them.

``POST /v1/{system}/events`` takes one Envelope as JSON, ``POST /v1/{system}/events/batch`` a JSON
array of them (or ``{"events": [...]}``). Each request carries the API key of one source system in
``X-API-Key``; a key may publish only its own system's events. Every event is validated against the
Avro Envelope (:mod:`tracesync.contracts.serde`), encoded, and published through the producer core
to its
system's source topic, keyed by batch code. The response is sent after the broker acknowledged the
events; bad events get a 4xx body naming each offending field path and the reason.
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import orjson
from fastapi import FastAPI, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, Field, SecretStr

from producers.base import EnvelopeEncoder, Publisher, SourceAdapter, TopicForSystem
from producers.rest_openapi import request_body
from tracesync.contracts.schemas import EVENT_TYPES
from tracesync.contracts.serde import EnvelopeSerde
from tracesync.errors import InvalidFieldsError, TracesyncError
from tracesync.publisher import Acknowledgement, DeliveryFailure
from tracesync.settings import IngestSettings, Settings

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]


class SourceSystem(StrEnum):
    """Source systems that may push events (lower case in the path)."""

    mes = "mes"
    erp = "erp"
    wms = "wms"
    qms = "qms"


# -- response bodies (also the OpenAPI document) ---------------------------------------------


class FieldProblem(BaseModel):
    """One thing wrong with a request, by field path."""

    field: str = Field(description="path of the field, e.g. `payload.planned_quantity.value`")
    reason: str = Field(description="what is wrong with it")


class ErrorBody(BaseModel):
    """Body of every 4xx/5xx answer."""

    detail: str = Field(description="summary of the problem")
    errors: list[FieldProblem] = Field(default_factory=list, description="each offending field")


class AcceptedEvent(BaseModel):
    """An event the broker acknowledged."""

    index: int = Field(description="position of the event in the request (0 for a single event)")
    event_id: str = Field(description="the event's id (generated when the request had none)")
    topic: str = Field(description="Kafka topic the event was written to")
    partition: int = Field(description="partition (murmur2 of the batch code)")
    offset: int = Field(description="offset of the event in that partition")


class RejectedEvent(BaseModel):
    """An event of a batch that was not published, and why."""

    index: int = Field(description="position of the event in the batch")
    event_id: str | None = Field(description="the event's id, when it had a usable one")
    status: int = Field(
        description="what a single-event request would have got: 403, 422 or 503 (broker)"
    )
    errors: list[FieldProblem] = Field(description="each offending field with the reason")


class BatchResult(BaseModel):
    """Outcome of a batch: every event is either accepted (acknowledged) or rejected."""

    accepted: list[AcceptedEvent]
    rejected: list[RejectedEvent]


# -- preparing one event -------------------------------------------------------------------


@dataclass(frozen=True)
class Prepared:
    """A valid event, encoded and ready to publish."""

    index: int
    event_id: str
    record: Any  # tracesync.publisher.OutboundRecord


@dataclass(frozen=True)
class Rejected:
    """An event refused before publishing (403 / 422) or not acknowledged (503)."""

    index: int
    event_id: str | None
    status: int
    problems: tuple[tuple[str, str], ...]

    def as_model(self) -> RejectedEvent:
        return RejectedEvent(
            index=self.index,
            event_id=self.event_id,
            status=self.status,
            errors=[FieldProblem(field=f, reason=r) for f, r in self.problems],
        )


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def fill_defaults(
    obj: Mapping[str, Any], system: str, plant: str, now: dt.datetime
) -> dict[str, Any]:
    """The event with what the server may fill: event_id, recorded_at, plant, source_system."""
    filled = dict(obj)
    filled.setdefault("event_id", str(uuid.uuid4()))
    filled.setdefault("recorded_at", now.isoformat(timespec="milliseconds"))
    filled.setdefault("plant", plant)
    filled.setdefault("source_system", system)
    return filled


def authorization_problems(obj: Mapping[str, Any], system: str) -> list[tuple[str, str]]:
    """Why a key of ``system`` may not publish this event (empty: it may)."""
    problems = []
    claimed = obj.get("source_system")
    if isinstance(claimed, str) and claimed != system:
        problems.append(
            ("source_system", f"the API key of {system} may not publish {claimed} events")
        )
    event_type = obj.get("event_type")
    info = EVENT_TYPES.get(event_type) if isinstance(event_type, str) else None
    if info is not None and info.source_system != system:
        problems.append(
            (
                "event_type",
                f"{event_type} is a {info.source_system} event; "
                f"the API key of {system} may not publish it",
            )
        )
    return problems


class RestIngest(SourceAdapter):
    """The REST adapter: JSON events of one source system -> acknowledged Kafka records."""

    kind = "rest"

    def __init__(
        self,
        publisher: Publisher,
        serde: EnvelopeSerde,
        topic_for: TopicForSystem,
        plant: str,
        clock: Clock = utc_now,
    ) -> None:
        encoder: EnvelopeEncoder = serde
        super().__init__(publisher, encoder, topic_for)
        self.serde = serde
        self.plant = plant
        self.clock = clock

    def prepare(self, index: int, obj: Any, system: str) -> Prepared | Rejected:
        """Fill defaults, check the key may publish it, validate and encode one event."""
        if not isinstance(obj, Mapping):
            return Rejected(index, None, 422, (("<root>", "expected a JSON object (an Envelope)"),))
        event = fill_defaults(obj, system, self.plant, self.clock())
        event_id = event["event_id"] if isinstance(event["event_id"], str) else None
        forbidden = authorization_problems(event, system)
        if forbidden:
            return Rejected(index, event_id, 403, tuple(forbidden))
        try:
            envelope = self.serde.from_json(event)
            record = self.record_for(envelope, system, envelope["batch_code"])
        except InvalidFieldsError as exc:
            return Rejected(index, event_id, 422, tuple(exc.errors))
        except TracesyncError as exc:
            return Rejected(index, event_id, 422, (("<envelope>", str(exc)),))
        return Prepared(index, str(envelope["event_id"]), record)

    async def publish(self, prepared: Sequence[Prepared]) -> list[AcceptedEvent | Rejected]:
        """Publish the prepared events; each comes back acknowledged or rejected with 503."""
        outcomes = await self.publisher.publish_async([p.record for p in prepared])
        return [_settled(p, o) for p, o in zip(prepared, outcomes, strict=True)]


def _settled(
    prepared: Prepared, outcome: Acknowledgement | DeliveryFailure
) -> AcceptedEvent | Rejected:
    if isinstance(outcome, DeliveryFailure):
        reason = f"not acknowledged by the broker: {outcome.reason}"
        return Rejected(prepared.index, prepared.event_id, 503, (("<event>", reason),))
    return AcceptedEvent(
        index=prepared.index,
        event_id=prepared.event_id,
        topic=outcome.topic,
        partition=outcome.partition,
        offset=outcome.offset,
    )


# -- HTTP plumbing ---------------------------------------------------------------------------


class RequestRefusedError(TracesyncError):
    """Ends a request with ``status`` and an :class:`ErrorBody`."""

    def __init__(self, status: int, detail: str, problems: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(detail)
        self.status = status
        self.body = ErrorBody(
            detail=detail, errors=[FieldProblem(field=f, reason=r) for f, r in problems]
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
        for system, key in self._keys:
            if hmac.compare_digest(given, key):
                found = system
        return found


async def read_limited_body(request: Request, limit: int) -> bytes:
    """The request body, or 413 as soon as it is longer than ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise RequestRefusedError(
            413, f"request body of {declared} bytes exceeds the limit of {limit}"
        )
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise RequestRefusedError(413, f"request body exceeds the limit of {limit} bytes")
    return bytes(body)


def parse_json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RequestRefusedError(
            400, "request body is not valid JSON", [("<body>", str(exc))]
        ) from exc


def batch_items(document: Any, max_events: int) -> list[Any]:
    """The events of a batch request: a JSON array, or an object with an ``events`` array."""
    if isinstance(document, dict) and set(document) == {"events"}:
        document = document["events"]
    if not isinstance(document, list):
        raise RequestRefusedError(
            422,
            'a batch is a JSON array of events or {"events": [...]}',
            [("<body>", f"expected an array, got {type(document).__name__}")],
        )
    if not document:
        raise RequestRefusedError(422, "the batch is empty", [("<body>", "no events")])
    if len(document) > max_events:
        raise RequestRefusedError(
            413, f"batch of {len(document)} events exceeds the limit of {max_events}"
        )
    return document


def batch_status(accepted: int, rejected: Sequence[Rejected]) -> int:
    """202 when anything was accepted; else the status all rejections share, or 422."""
    if accepted:
        return 202
    statuses = {r.status for r in rejected}
    return statuses.pop() if len(statuses) == 1 else 422


# -- the application ------------------------------------------------------------------------

_API_KEY_HEADER = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    description="API key of one source system; it may publish only that system's events.",
)

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "The body is not JSON."},
    401: {"model": ErrorBody, "description": "Missing or unknown `X-API-Key`."},
    403: {
        "model": ErrorBody,
        "description": "The key belongs to another source system than the path or the event "
        "(`source_system` / `event_type` named in `errors`).",
    },
    404: {"model": ErrorBody, "description": "No such source system."},
    413: {"model": ErrorBody, "description": "Body larger than the limit, or too many events."},
    422: {"model": ErrorBody, "description": "The event breaks the Avro schema; each field named."},
    503: {"model": ErrorBody, "description": "The broker did not acknowledge; safe to retry."},
}


def create_app(
    settings: Settings, ingest: RestIngest, on_shutdown: Callable[[], object] | None = None
) -> FastAPI:
    """The FastAPI application; ``ingest`` carries the publisher (tests pass a recorder).

    ``on_shutdown`` runs when the server stops, after the last request finished (uvicorn
    re-raises SIGTERM after its graceful shutdown, so code after ``Server.run`` may never run).
    """
    limits: IngestSettings = settings.ingest
    keys = ApiKeys(limits.api_keys)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        if on_shutdown is not None:
            on_shutdown()

    app = FastAPI(
        lifespan=lifespan,
        title="tracesync ingest",
        version="1",
        description=(
            "Push batch-traceability events from MES, ERP, WMS and QMS into Kafka. A `202` is sent "
            "only after the broker acknowledged every accepted event (idempotent producer, "
            "acks=all); the topic of an event is its source system's topic, the key its batch "
            f"code. Limits: {limits.max_body_bytes} bytes per request, {limits.max_batch_events} "
            "events per batch."
        ),
    )
    _install_error_handlers(app)

    def caller_system(system: SourceSystem, presented: str | None) -> str:
        owner = keys.system_of(presented)
        if owner is None:
            raise RequestRefusedError(401, "missing or unknown API key (header X-API-Key)")
        wanted = system.value.upper()
        if owner != wanted:
            raise RequestRefusedError(
                403,
                f"the API key of {owner} may not publish {wanted} events",
                [("source_system", f"path names {wanted}, the key belongs to {owner}")],
            )
        return owner

    @app.get("/healthz", summary="Liveness", tags=["ops"])
    async def healthz() -> dict[str, str]:
        """`{"status": "ok"}` while the server runs."""
        return {"status": "ok"}

    @app.post(
        "/v1/{system}/events",
        status_code=202,
        response_model=AcceptedEvent,
        responses=_ERRORS,
        summary="Publish one event",
        tags=["ingest"],
        openapi_extra=request_body(batch=False),
    )
    async def publish_one(
        system: SourceSystem,
        request: Request,
        api_key: str | None = Security(_API_KEY_HEADER),
    ) -> AcceptedEvent:
        """Validate one event and publish it; `202` with its topic, partition and offset once the
        broker acknowledged it. A bad event gets `422` listing every bad field."""
        owner = caller_system(system, api_key)
        document = parse_json(await read_limited_body(request, limits.max_body_bytes))
        prepared = ingest.prepare(0, document, owner)
        if isinstance(prepared, Rejected):
            raise _single_problem(prepared)
        (settled,) = await ingest.publish([prepared])
        if isinstance(settled, Rejected):
            raise _single_problem(settled)
        return settled

    @app.post(
        "/v1/{system}/events/batch",
        status_code=202,
        response_model=BatchResult,
        responses={
            **_ERRORS,
            202: {
                "description": "At least one event was accepted and acknowledged; `rejected` "
                "lists the others (index, status, field and reason). Valid events of a batch are "
                "published even when others are rejected.",
            },
            403: {"model": BatchResult, "description": "Every event belongs to another system."},
            422: {
                "model": BatchResult,
                "description": "No event of the batch was valid (an `ErrorBody` instead when the "
                "body is not a batch at all: not an array, or empty).",
            },
            503: {"model": BatchResult, "description": "No event was acknowledged by the broker."},
        },
        summary="Publish a batch of events",
        tags=["ingest"],
        openapi_extra=request_body(batch=True),
    )
    async def publish_batch(
        system: SourceSystem,
        request: Request,
        api_key: str | None = Security(_API_KEY_HEADER),
    ) -> JSONResponse:
        """Validate each event; publish the valid ones; answer once the broker acknowledged them."""
        owner = caller_system(system, api_key)
        document = parse_json(await read_limited_body(request, limits.max_body_bytes))
        items = batch_items(document, limits.max_batch_events)
        checked = [ingest.prepare(i, item, owner) for i, item in enumerate(items)]
        prepared = [c for c in checked if isinstance(c, Prepared)]
        rejected = [c for c in checked if isinstance(c, Rejected)]
        settled = await ingest.publish(prepared) if prepared else []
        accepted = [s for s in settled if isinstance(s, AcceptedEvent)]
        rejected += [s for s in settled if isinstance(s, Rejected)]
        rejected.sort(key=lambda r: r.index)
        result = BatchResult(accepted=accepted, rejected=[r.as_model() for r in rejected])
        return JSONResponse(
            result.model_dump(mode="json"), status_code=batch_status(len(accepted), rejected)
        )

    return app


def _single_problem(rejected: Rejected) -> RequestRefusedError:
    details = {
        403: "event refused for this API key",
        422: "event rejected",
        503: "event not stored",
    }
    return RequestRefusedError(
        rejected.status, details.get(rejected.status, "event rejected"), rejected.problems
    )


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestRefusedError)
    async def on_problem(_: Request, exc: RequestRefusedError) -> JSONResponse:
        return JSONResponse(exc.body.model_dump(mode="json"), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def on_invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [(".".join(str(p) for p in e["loc"]), str(e["msg"])) for e in exc.errors()]
        status = 404 if any(f == "path.system" for f, _ in problems) else 422
        detail = "no such source system" if status == 404 else "request rejected"
        body = ErrorBody(
            detail=detail, errors=[FieldProblem(field=f, reason=r) for f, r in problems]
        )
        return JSONResponse(body.model_dump(mode="json"), status_code=status)


# -- running it -----------------------------------------------------------------------------
