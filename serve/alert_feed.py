"""The live alerts of the console: one consumer on the alerts topic, fanned out to every open page.

A thread of ``tracesync serve`` assigns itself every partition of the alerts topic at its end
(the high watermarks read at start: whatever is published afterwards is seen), decodes each record
with the pipeline's Alert serde and hands it to each subscriber's asyncio queue. It commits
nothing: the console is a viewer, a restart starts at the end again (the store has the history).

The last ``replay`` alerts are kept, numbered: a page that connects (or reconnects with
``Last-Event-ID``) gets those it has not seen first, so an alert raised while a page was loading
is not lost. A record that does not decode is logged and skipped; a broker that is down is retried
and reported to the pages as the feed's state.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from confluent_kafka import Consumer, KafkaException, TopicPartition

from serve.pipeline import AlertDecoder
from tracesync.errors import InfrastructureError, SerializationError
from tracesync.kafka_clients import consumer_config
from tracesync.settings import KafkaSettings

log = logging.getLogger(__name__)

_POLL_S = 0.5
_RETRY_S = 2.0
_TIMEOUT_S = 10.0
_CLOSE_S = 2.0
_QUEUE_MAX = 1000


@dataclass(frozen=True)
class LiveItem:
    """One server-sent event: an alert (numbered) or a change of the feed's state."""

    event: str
    data: dict[str, Any]
    id: str | None = None


@dataclass
class Subscription:
    """One open page: the items it missed, then its queue of new ones."""

    loop: asyncio.AbstractEventLoop
    backlog: list[LiveItem]
    queue: asyncio.Queue[LiveItem | None] = field(default_factory=lambda: asyncio.Queue(_QUEUE_MAX))
    """``None`` ends the stream (the server is shutting down)."""


def alert_json(alert: dict[str, Any]) -> dict[str, Any]:
    """An Alert record as JSON (times in ISO 8601 with their offset)."""
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in alert.items()}


def _offer(queue: asyncio.Queue[LiveItem | None], item: LiveItem | None) -> None:
    try:
        queue.put_nowait(item)
    except asyncio.QueueFull:
        log.warning("a live page is too slow: an alert was not sent to it")


class AlertFeed:
    """The consumer thread and its subscribers."""

    def __init__(
        self,
        kafka: KafkaSettings,
        topic: str,
        decoder: Callable[[], AlertDecoder],
        replay: int = 200,
    ) -> None:
        self.topic = topic
        self._kafka = kafka
        self._decoder = decoder
        self._epoch = uuid.uuid4().hex[:8]
        self._seq = 0
        self._recent: deque[LiveItem] = deque(maxlen=replay)
        self._state = LiveItem("status", {"state": "starting", "text": f"connecting to {topic}"})
        self._subscribers: list[Subscription] = []
        self._lock = threading.Lock()
        self._ending = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="alert-feed", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        """Stop the thread; one stuck in a call to a broker that is down is left to die with the
        process (a daemon), so that the server stops in time."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(_CLOSE_S)

    def end_streams(self) -> None:
        """End every open stream now, and each one opened later at once (the server stops:
        open streams would hold its shutdown up)."""
        with self._lock:
            self._ending = True
            subscribers = list(self._subscribers)
        for sub in subscribers:
            self._hand(sub, None)

    @property
    def state(self) -> str:
        return str(self._state.data["state"])

    def subscribe(self, last_event_id: str | None = None) -> Subscription:
        """A new page (call it on the event loop that serves the page)."""
        with self._lock:
            missed = [item for item in self._recent if _after(item, last_event_id, self._epoch)]
            sub = Subscription(asyncio.get_running_loop(), [self._state, *missed])
            self._subscribers.append(sub)
            if self._ending:
                sub.queue.put_nowait(None)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            if sub in self._subscribers:
                self._subscribers.remove(sub)

    def _send(self, item: LiveItem, *, keep: bool) -> None:
        with self._lock:
            if keep:
                self._recent.append(item)
            else:
                self._state = item
            subscribers = list(self._subscribers)
        for sub in subscribers:
            self._hand(sub, item)

    def _hand(self, sub: Subscription, item: LiveItem | None) -> None:
        try:
            sub.loop.call_soon_threadsafe(_offer, sub.queue, item)
        except RuntimeError:  # that page's event loop is closed
            self.unsubscribe(sub)

    def _set_state(self, state: str, text: str) -> None:
        if self._state.data != {"state": state, "text": text}:
            log.info("live alerts: %s", text)
            self._send(LiveItem("status", {"state": state, "text": text}), keep=False)

    def _alert(self, alert: dict[str, Any]) -> None:
        with self._lock:
            self._seq += 1
            seq = self._seq
        self._send(LiveItem("alert", alert_json(alert), f"{self._epoch}-{seq}"), keep=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._follow()
            except Exception as exc:  # the view must outlive a broker or registry outage
                self._set_state("waiting", f"waiting for {self.topic}: {exc}")
                self._stop.wait(_RETRY_S)

    def _follow(self) -> None:
        decode = self._decoder()
        consumer = Consumer(consumer_config(self._kafka, "tracesync-serve-live"))
        try:
            consumer.assign(_ends(consumer, self.topic))
            self._set_state("live", f"live: new alerts of {self.topic} appear here")
            while not self._stop.is_set():
                message = consumer.poll(_POLL_S)
                if message is None:
                    continue
                error = message.error()
                if error is not None:
                    if error.fatal():
                        raise InfrastructureError(str(error))
                    log.warning("live alerts: %s", error)
                    continue
                try:
                    self._alert(decode(message.value() or b""))
                except SerializationError as exc:
                    log.warning(
                        "live alerts: skipped %s[%s]@%s: %s",
                        self.topic,
                        message.partition(),
                        message.offset(),
                        exc,
                    )
        finally:
            consumer.close()


def _after(item: LiveItem, last_event_id: str | None, epoch: str) -> bool:
    """Whether a page that saw ``last_event_id`` has not seen ``item`` yet."""
    if not last_event_id or item.id is None:
        return True
    seen_epoch, _, seen = last_event_id.partition("-")
    if seen_epoch != epoch or not seen.isdigit():
        return True  # an id of an earlier process: it saw none of this one's
    return int(item.id.partition("-")[2]) > int(seen)


def _ends(consumer: Consumer, topic: str) -> list[TopicPartition]:
    """Every partition of ``topic`` at its current end."""
    try:
        metadata = consumer.list_topics(topic, timeout=_TIMEOUT_S).topics[topic]
        if metadata.error is not None:
            raise InfrastructureError(f"topic {topic}: {metadata.error}")
        ends = []
        for partition in sorted(metadata.partitions):
            _, high = consumer.get_watermark_offsets(
                TopicPartition(topic, partition), timeout=_TIMEOUT_S
            )
            ends.append(TopicPartition(topic, partition, high))
        return ends
    except KafkaException as exc:
        raise InfrastructureError(f"cannot read the end of {topic}: {exc}") from exc
