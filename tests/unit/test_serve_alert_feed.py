"""The live alerts' fan-out without a broker: what a (re)connecting page gets, and the end of the
streams when the server stops. The consumer side runs against the real broker in
tests/integration/test_serve_live.py."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from serve.alert_feed import AlertFeed, LiveItem
from tracesync.settings import KafkaSettings


def _feed() -> AlertFeed:
    return AlertFeed(KafkaSettings(), "trace.alerts", lambda: lambda data: {}, replay=2)


def _alert(n: int) -> dict[str, Any]:
    at = datetime(2026, 11, 2, 6, n, tzinfo=UTC)
    return {"alert_id": f"A-{n}", "batch_code": "B", "kind": "HOLD_PLACED", "occurred_at": at}


async def _drain(queue: asyncio.Queue[LiveItem | None]) -> list[LiveItem | None]:
    await asyncio.sleep(0)  # let the call_soon_threadsafe hand-overs run
    items = []
    while not queue.empty():
        items.append(queue.get_nowait())
    return items


def test_a_page_gets_the_state_then_the_kept_alerts_it_has_not_seen() -> None:
    async def scenario() -> None:
        feed = _feed()
        for n in (1, 2, 3):
            feed._alert(_alert(n))  # what the consumer thread does per record
        fresh = feed.subscribe()
        kept_ids = [item.id for item in fresh.backlog[1:]]
        again = feed.subscribe(kept_ids[0])
        stranger = feed.subscribe("0123abcd-1")  # an id of an earlier server process

        assert fresh.backlog[0].event == "status"
        assert [item.data["alert_id"] for item in fresh.backlog[1:]] == ["A-2", "A-3"]
        assert fresh.backlog[1].data["occurred_at"] == "2026-11-02T06:02:00+00:00"
        assert [item.id for item in again.backlog[1:]] == kept_ids[1:]
        assert len(stranger.backlog) == 3

        feed._alert(_alert(4))
        (pushed,) = await _drain(fresh.queue)
        assert pushed is not None and pushed.data["alert_id"] == "A-4"

    asyncio.run(scenario())


def test_ending_the_streams_ends_open_and_later_pages() -> None:
    async def scenario() -> None:
        feed = _feed()
        open_page = feed.subscribe()
        feed.end_streams()
        later = feed.subscribe()

        assert await _drain(open_page.queue) == [None]
        assert await _drain(later.queue) == [None]
        feed.unsubscribe(open_page)
        feed.unsubscribe(later)
        feed._alert(_alert(1))  # no page left to hand it to
        assert await _drain(open_page.queue) == []

    asyncio.run(scenario())
