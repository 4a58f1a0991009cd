"""The ingest endpoints: one event, or a batch of them, per request; and liveness."""

from __future__ import annotations

from fastapi import APIRouter, Request, Security
from fastapi.responses import JSONResponse, Response

from producers.rest.auth import API_KEY_HEADER, ApiKeys
from producers.rest.bodies import BATCH_RESPONSES, ERRORS, AcceptedEvent, BatchResult
from producers.rest.events import Prepared, Rejected, RestIngest
from producers.rest.limits import batch_items, batch_status, parse_json, read_limited_body
from producers.rest.openapi import request_body
from producers.rest.single import SingleEventHandler
from producers.rest.systems import SourceSystem
from tracesync.settings import IngestSettings


def ops_router() -> APIRouter:
    """``GET /healthz``."""
    router = APIRouter(tags=["ops"])

    @router.get("/healthz", summary="Liveness")
    async def healthz() -> dict[str, str]:
        """`{"status": "ok"}` while the server runs."""
        return {"status": "ok"}

    return router


def single_event_router(handler: SingleEventHandler, limits: IngestSettings) -> APIRouter:
    """``POST /v1/{system}/events``: one event, answered after the broker's acknowledgement.

    The lean ASGI path (:mod:`producers.rest.fastpath`) serves these requests in front of
    FastAPI; this route documents them and answers through the same handler.
    """
    router = APIRouter(tags=["ingest"])

    @router.post(
        "/v1/{system}/events",
        status_code=202,
        response_model=AcceptedEvent,
        responses=ERRORS,
        summary="Publish one event",
        openapi_extra=request_body(batch=False),
    )
    async def publish_one(
        system: SourceSystem,
        request: Request,
        api_key: str | None = Security(API_KEY_HEADER),
    ) -> Response:
        """Validate one event and publish it; `202` with its topic, partition and offset once the
        broker acknowledged it. A bad event gets `422` listing every bad field."""
        owner = handler.owner(system.value.upper(), api_key)
        answer = await handler.answer(
            owner, await read_limited_body(request, limits.max_body_bytes)
        )
        return Response(answer.body, status_code=answer.status, media_type="application/json")

    return router


def batch_router(ingest: RestIngest, keys: ApiKeys, limits: IngestSettings) -> APIRouter:
    """``POST /v1/{system}/events/batch``: the valid events published, the others named."""
    router = APIRouter(tags=["ingest"])

    @router.post(
        "/v1/{system}/events/batch",
        status_code=202,
        response_model=BatchResult,
        responses=BATCH_RESPONSES,
        summary="Publish a batch of events",
        openapi_extra=request_body(batch=True),
    )
    async def publish_batch(
        system: SourceSystem,
        request: Request,
        api_key: str | None = Security(API_KEY_HEADER),
    ) -> JSONResponse:
        """Validate each event; publish the valid ones; answer once the broker acknowledged them."""
        owner = keys.caller_system(system.value.upper(), api_key)
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

    return router
