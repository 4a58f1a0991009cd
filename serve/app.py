"""The FastAPI application of ``tracesync serve``: the ``/v1`` API, downloads and the console."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import Engine

from serve import api, console, downloads
from serve.auth import KeyRing
from serve.hostile import refuse_nul
from tracesync import __version__
from tracesync.gs1.identifiers import MasterData
from tracesync.settings import ServeSettings


def create_app(
    engine: Engine, settings: ServeSettings, master: MasterData | None = None
) -> FastAPI:
    """The app over a store ``engine`` (opened read-only by the caller)."""
    app = FastAPI(title="tracesync query API", version=__version__)
    app.state.engine = engine
    app.state.serve = settings
    app.state.keys = KeyRing(settings.api_keys)
    app.state.master = master
    app.middleware("http")(refuse_nul)
    app.include_router(api.router)
    app.include_router(downloads.router)
    app.include_router(console.router)
    return app
