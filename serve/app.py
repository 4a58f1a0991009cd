"""The FastAPI application of ``tracesync serve``: the ``/v1`` API, downloads, the console and its
assessment page."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import Engine

from serve import api, assess_page, console, downloads
from serve.auth import KeyRing
from tracesync import __version__
from tracesync.assess.edges import EdgeTimings
from tracesync.gs1.identifiers import MasterData
from tracesync.plant_time import zone_named
from tracesync.settings import ServeSettings


def create_app(
    engine: Engine,
    settings: ServeSettings,
    master: MasterData | None = None,
    time_zone: str = "UTC",
    assess_timings: EdgeTimings | None = None,
) -> FastAPI:
    """The app over a store ``engine`` (opened read-only by the caller); times are shown in
    ``time_zone`` (the plant's, ``Settings.time_zone``) with their offset; the assessment page
    estimates the edges' latency with ``assess_timings`` (the settings', as the CLI does)."""
    app = FastAPI(title="tracesync query API", version=__version__)
    app.state.engine = engine
    app.state.serve = settings
    app.state.keys = KeyRing(settings.api_keys)
    app.state.master = master
    app.state.time_zone = zone_named(time_zone)
    app.state.assess_timings = assess_timings or EdgeTimings()
    app.include_router(api.router)
    app.include_router(downloads.router)
    app.include_router(console.router)
    app.include_router(assess_page.router)
    app.include_router(assess_page.api_router)
    return app
