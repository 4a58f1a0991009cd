"""The targets sink tells an unreadable record from an unreachable registry.

The same rule as the worker's (found by the fault tier, issue 15, where a worker started while the
schema registry was down dead-lettered good events): a record that cannot be decoded is
dead-lettered; an infrastructure error while decoding escapes (nothing committed, the record comes
again after the restart). The chain decoder of today knows its schema from start-up, so this
guards the decoder port rather than a failure seen in a run.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, cast

import pytest
from confluent_kafka import Consumer, Message

from sinks.targets.config import load_routes
from sinks.targets.ledger import SentLedger
from sinks.targets.routing import Source
from sinks.targets.sink import TargetSink
from sinks.topics import SinkTopics
from tracesync.contracts.registry_client import RegistryError
from tracesync.errors import RecordOrigin, SerializationError
from tracesync.publisher import KafkaPublisher

ROUTES = Path(__file__).resolve().parents[2] / "deploy" / "routes" / "example.toml"
TOPICS = SinkTopics(chain="trace.chain", alerts="trace.alerts", dead_letter="dlq.sinks")


class FakeMessage:
    """What the sink reads off a consumed record."""

    def __init__(self, offset: int) -> None:
        self._offset = offset

    def topic(self) -> str:
        return TOPICS.chain

    def partition(self) -> int:
        return 0

    def offset(self) -> int:
        return self._offset

    def key(self) -> bytes:
        return b"B1"

    def value(self) -> bytes:
        return b"\x00\x00\x00\x00\x03body"

    def headers(self) -> list[tuple[str, bytes]]:
        return []


class RecordingPublisher:
    def __init__(self) -> None:
        self.published: list[Any] = []

    def publish(self, records: list[Any], *_: Any, **__: Any) -> None:
        self.published.extend(records)


def _sink(error: Exception, publisher: RecordingPublisher, ledger: SentLedger) -> TargetSink:
    def decode(_value: bytes, _origin: RecordOrigin) -> dict[str, Any]:
        raise error

    return TargetSink(
        load_routes(ROUTES),
        targets={},
        ledger=ledger,
        topics=TOPICS,
        decoders={Source.CHAIN: decode, Source.ALERTS: decode},
        consumer=cast(Consumer, object()),
        publisher=cast(KafkaPublisher, publisher),
        stop=threading.Event(),
    )


@pytest.fixture
def ledger() -> Any:
    opened = SentLedger(Path(":memory:"))
    yield opened
    opened.close()


def test_a_registry_outage_while_decoding_is_not_a_dead_letter(ledger: SentLedger) -> None:
    publisher = RecordingPublisher()
    outage = RegistryError("registry at http://127.0.0.1:1 unreachable (get schema id 3)")
    sink = _sink(outage, publisher, ledger)
    with pytest.raises(RegistryError):
        sink.process([cast(Message, FakeMessage(7))])
    assert publisher.published == []


def test_a_record_that_cannot_be_decoded_is_dead_lettered(ledger: SentLedger) -> None:
    publisher = RecordingPublisher()
    bad = SerializationError("not Avro", origin=RecordOrigin(TOPICS.chain, 0, 7))
    sink = _sink(bad, publisher, ledger)
    sink.process([cast(Message, FakeMessage(7))])
    (letter,) = publisher.published
    assert letter.topic == TOPICS.dead_letter
