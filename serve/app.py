"""The FastAPI application of ``tracesync serve``: the ``/v1`` API, downloads and the console."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import Engine

from serve import api, console, downloads
from serve.auth import KeyRing
from tracesync import __version__
from tracesync.gs1.identifiers import MasterData
from tracesync.plant_time import zone_named
from tracesync.settings import ServeSettings


def create_app(
    engine: Engine,
    settings: ServeSettings,
    master: MasterData | None = None,
    time_zone: str = "UTC",
) -> FastAPI:
    """The app over a store ``engine`` (opened read-only by the caller); times are shown in
    ``time_zone`` (the plant's, ``Settings.time_zone``) with their offset."""
    app = FastAPI(title="tracesync query API", version=__version__)
    app.state.engine = engine
    app.state.serve = settings
    app.state.keys = KeyRing(settings.api_keys)
    app.state.master = master
    app.state.time_zone = zone_named(time_zone)
    app.include_router(api.router)
    app.include_router(downloads.router)
    app.include_router(console.router)
    return app
