"""``/metrics``, ``/healthz``, ``/readyz`` and request metrics for the FastAPI components.

:func:`instrument` adds the three endpoints to an application (``/healthz`` only where the app
has none) and wraps it in :class:`RequestMetrics`, a plain ASGI middleware outside every other
one, so requests answered by a lean path in front of the routers are counted too. A request is
labelled with its route template (``/v1/{system}/events``, never the raw path), its method and
its status.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tracesync.observability.health import Health
from tracesync.observability.metrics import Metrics

UNMATCHED = "<unmatched>"
_KNOWN_PATHS = 1024
"""Paths remembered with their route template (requests a lean path answered before routing)."""


class RequestMetrics:
    """Counts requests and times them by route template, method and status."""

    def __init__(self, app: ASGIApp, metrics: Metrics, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = routes
        self._flat: list[BaseRoute] | None = None
        self._known: dict[tuple[str, str], str] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # an exception before the response started is answered 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            route, method = self.template(scope), str(scope.get("method", ""))
            self.metrics.http_requests.labels(route, method, str(status)).inc()
            self.metrics.http_seconds.labels(route, method).observe(time.perf_counter() - started)

    def template(self, scope: Scope) -> str:
        """The route template the router chose, else the first route matching the path."""
        path = getattr(scope.get("route"), "path", None)
        if isinstance(path, str):
            return path
        key = (str(scope.get("method", "")), str(scope.get("path", "")))
        known = self._known.get(key)
        if known is None:
            known = self._match(scope)
            if len(self._known) < _KNOWN_PATHS:  # bounded: paths may carry codes
                self._known[key] = known
        return known

    def _match(self, scope: Scope) -> str:
        if self._flat is None:  # on the first request: every route is added by then
            self._flat = list(_flatten(self.routes))
        for route in self._flat:
            match, _ = route.matches(scope)
            if match is Match.FULL:
                return str(getattr(route, "path", UNMATCHED))
        return UNMATCHED


def _flatten(routes: Sequence[BaseRoute]) -> Iterator[BaseRoute]:
    """The routes, with those of included routers in their place (FastAPI wraps them)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _flatten(inner.routes)
        else:
            yield route


def instrument(app: Starlette, metrics: Metrics, health: Health) -> None:
    """Add ``/metrics``, ``/readyz`` (and ``/healthz`` if missing) and the request metrics."""

    async def metrics_endpoint(_: Request) -> Response:
        # off the event loop: collecting runs the readiness checks (tracesync_ready)
        body = await run_in_threadpool(generate_latest, metrics.registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> Response:
        readiness = await run_in_threadpool(health.readiness)  # checks may block (a database)
        return JSONResponse(readiness.as_json(), status_code=200 if readiness.ready else 503)

    paths = {getattr(route, "path", None) for route in app.router.routes}
    endpoints: list[tuple[str, Any]] = [("/metrics", metrics_endpoint), ("/readyz", readyz)]
    if "/healthz" not in paths:
        endpoints.append(("/healthz", healthz))
    for path, endpoint in endpoints:
        app.router.add_route(path, endpoint, methods=["GET"], include_in_schema=False)
    app.add_middleware(RequestMetrics, metrics=metrics, routes=app.router.routes)
