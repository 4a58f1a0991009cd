"""Response bodies of the REST ingest (also its OpenAPI document) and the documented errors."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


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
        description="what a single-event request would have got: 403, 413 (too large), 422 or 503 "
        "(broker)"
    )
    errors: list[FieldProblem] = Field(description="each offending field with the reason")


class BatchResult(BaseModel):
    """Outcome of a batch: every event is either accepted (acknowledged) or rejected."""

    accepted: list[AcceptedEvent]
    rejected: list[RejectedEvent]


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "The body is not JSON."},
    401: {"model": ErrorBody, "description": "Missing or unknown `X-API-Key`."},
    403: {
        "model": ErrorBody,
        "description": "The key belongs to another source system than the path or the event "
        "(`source_system` / `event_type` named in `errors`).",
    },
    404: {"model": ErrorBody, "description": "No such source system."},
    413: {
        "model": ErrorBody,
        "description": "Body or encoded event larger than the limit, or too many events; a "
        "retry cannot succeed.",
    },
    408: {
        "model": ErrorBody,
        "description": "The request's headers or body did not arrive within the server's "
        "deadline (`ingest.http.header_timeout_s` / `body_timeout_s`); nothing was published "
        "and the connection is closed.",
    },
    422: {"model": ErrorBody, "description": "The event breaks the Avro schema; each field named."},
    431: {
        "model": ErrorBody,
        "description": "The request's headers are larger than the server accepts.",
    },
    503: {
        "model": ErrorBody,
        "description": "The broker did not acknowledge; safe to retry. Also, with `Retry-After` "
        "and the connection closed, while the server holds its connection limit "
        "(`ingest.http.max_connections`).",
    },
}
"""The error answers every ingest endpoint documents."""

BATCH_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    202: {
        "description": "At least one event was accepted and acknowledged; `rejected` lists the "
        "others (index, status, field and reason). Valid events of a batch are published even "
        "when others are rejected.",
    },
    403: {"model": BatchResult, "description": "Every event belongs to another system."},
    422: {
        "model": BatchResult,
        "description": "No event of the batch was valid (an `ErrorBody` instead when the body is "
        "not a batch at all: not an array, or empty).",
    },
    503: {
        "model": BatchResult,
        "description": "No event was acknowledged by the broker (an `ErrorBody` with "
        "`Retry-After` while the server holds its connection limit).",
    },
}
"""The answers of the batch endpoint (a :class:`BatchResult` where events were judged)."""
