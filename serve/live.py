"""The live holds and alerts view: the server-sent event stream and its page.

``GET /v1/alerts/stream`` (``text/event-stream``) sends ``status`` events (the feed's state) and
``alert`` events (an Alert as JSON, numbered for ``Last-Event-ID``). A browser authenticates it
with the session cookie; another client with ``X-API-Key`` or with ``?token=`` from
``POST /v1/stream-token`` (valid ``serve.stream_token_s`` seconds). ``/live`` renders the active
holds and the latest alerts from the store, and ``static/live.js`` adds what the stream pushes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Request, Response
from fastapi.sse import EventSourceResponse, ServerSentEvent

from serve import reads
from serve.alert_feed import AlertFeed, LiveItem
from serve.auth import STREAM, Caller, KeyRing, requires
from serve.pages import guard, page
from serve.reads import Page

router = APIRouter()
_RECONNECT_MS = 3000


def _feed(request: Request) -> AlertFeed:
    feed: AlertFeed | None = request.app.state.alert_feed
    if feed is None:
        raise HTTPException(503, "this console is not connected to Kafka: no live alerts")
    return feed


def _event(item: LiveItem) -> ServerSentEvent:
    return ServerSentEvent(data=item.data, event=item.event, id=item.id, retry=_RECONNECT_MS)


@router.get(
    "/v1/alerts/stream",
    response_class=EventSourceResponse,
    dependencies=[Depends(requires("read", stream_token=True))],
)
async def alert_stream(
    feed: Annotated[AlertFeed, Depends(_feed)],
    last_event_id: Annotated[str | None, Header()] = None,
) -> AsyncIterator[ServerSentEvent]:
    """Alerts as the stream worker raises them (server-sent events: ``status``, ``alert``)."""
    sub = feed.subscribe(last_event_id)
    try:
        for missed in sub.backlog:
            yield _event(missed)
        while (item := await sub.queue.get()) is not None:
            yield _event(item)
    finally:
        feed.unsubscribe(sub)


def end_streams(app: FastAPI) -> None:
    """End the open live streams: call it when the server begins to shut down."""
    feed: AlertFeed | None = app.state.alert_feed
    if feed is not None:
        feed.end_streams()


@router.post("/v1/stream-token")
def stream_token(
    request: Request, caller: Annotated[Caller, Depends(requires("read"))]
) -> dict[str, Any]:
    """A short-lived token for ``/v1/alerts/stream?token=`` (EventSource cannot set headers)."""
    ring: KeyRing = request.app.state.keys
    ttl_s = request.app.state.serve.stream_token_s
    return {"token": ring.token(caller, ttl_s, STREAM), "expires_in_s": ttl_s}


@router.get("/live", include_in_schema=False)
def live_page(request: Request) -> Response:
    """Active holds and the latest alerts, kept up to date by the stream."""
    refused = guard(request)
    if refused:
        return refused
    limit = request.app.state.serve.page_limit
    with request.app.state.engine.connect() as conn:
        holds = reads.holds(conn, True, Page(limit, 0))
        alerts = reads.alerts(conn, None, Page(limit, 0))
    feed: AlertFeed | None = request.app.state.alert_feed
    return page("live.html.j2", holds=holds, alerts=alerts, connected=feed is not None)
