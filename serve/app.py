"""The FastAPI application of ``tracesync serve``: the ``/v1`` API, downloads, the console and its
assessment page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine

from serve import api, assess_page, console, dashboard, dead_letters, downloads, live
from serve.alert_feed import AlertFeed
from serve.auth import KeyRing
from serve.hostile import refuse_nul
from serve.pipeline import Pipeline
from serve.tokens import TokenSigner
from tracesync import __version__
from tracesync.assess.edges import EdgeTimings
from tracesync.gs1.identifiers import MasterData
from tracesync.plant_time import zone_named
from tracesync.settings import ServeSettings


def create_app(
    engine: Engine,
    settings: ServeSettings,
    master: MasterData | None = None,
    *,
    time_zone: str = "UTC",
    assess_timings: EdgeTimings | None = None,
    pipeline: Pipeline | None = None,
) -> FastAPI:
    """The app over a store ``engine`` (opened read-only by the caller); times are shown in
    ``time_zone`` (the plant's, ``Settings.time_zone``) with their offset; the assessment page
    estimates the edges' latency with ``assess_timings`` (the settings', as the CLI does); with a
    ``pipeline``, also the live alerts (a consumer thread while the app runs) and the dead
    letters."""
    feed = None
    if pipeline is not None:
        feed = AlertFeed(
            pipeline.kafka, pipeline.alerts_topic, pipeline.alert_decoder, settings.live_replay
        )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if feed is not None:
            feed.start()
        try:
            yield
        finally:
            if feed is not None:
                feed.close()

    app = FastAPI(title="tracesync query API", version=__version__, lifespan=lifespan)
    app.state.engine = engine
    app.state.serve = settings
    secret = settings.session_secret
    signer = TokenSigner(secret.get_secret_value().encode() if secret else None)
    app.state.keys = KeyRing(settings, signer)
    app.state.master = master
    app.state.time_zone = zone_named(time_zone)
    app.state.assess_timings = assess_timings or EdgeTimings()
    app.state.pipeline = pipeline
    app.state.alert_feed = feed
    app.include_router(live.router)  # before api: /v1/alerts/stream is not an alert
    app.middleware("http")(refuse_nul)
    app.include_router(api.router)
    app.include_router(dead_letters.router)
    app.include_router(downloads.router)
    app.include_router(console.router)
    app.include_router(assess_page.router)
    app.include_router(assess_page.api_router)
    app.include_router(dashboard.router)
    app.mount("/static", StaticFiles(packages=[("serve", "static")]), name="static")
    return app
