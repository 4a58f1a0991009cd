"""The FastAPI application of the REST ingest: its description, routers and error handlers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI

from producers.rest.auth import ApiKeys, ingest_key_ring
from producers.rest.epcis_capture import epcis_router
from producers.rest.events import RestIngest
from producers.rest.fastpath import SingleEventFastPath
from producers.rest.problems import install_error_handlers
from producers.rest.routes import batch_router, ops_router, single_event_router
from producers.rest.single import SingleEventHandler
from tracesync.gs1.identifiers import Identifiers, master_data
from tracesync.settings import Settings


def create_app(
    settings: Settings, ingest: RestIngest, on_shutdown: Callable[[], object] | None = None
) -> FastAPI:
    """The FastAPI application; ``ingest`` carries the publisher (tests pass a recorder).

    ``on_shutdown`` runs when the server stops, after the last request finished (uvicorn
    re-raises SIGTERM after its graceful shutdown, so code after ``Server.run`` may never run).
    """
    limits = settings.ingest
    keys = ApiKeys(ingest_key_ring(limits))

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
    install_error_handlers(app)
    single = SingleEventHandler(ingest, keys)
    app.include_router(ops_router())
    app.include_router(single_event_router(single, limits))
    app.include_router(batch_router(ingest, keys, limits))
    ids = Identifiers(master_data(settings.exports))
    app.include_router(epcis_router(ingest, keys, limits, ids, settings.plant))
    app.add_middleware(SingleEventFastPath, handler=single, max_body_bytes=limits.max_body_bytes)
    return app
