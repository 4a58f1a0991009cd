"""Hostile records produced straight to the source topics (past every ingest check).

Each is dead-lettered to ``dlq.streams`` with a reason that says what is wrong; the worker and
the store sink stay up, and the good batches produced before and after them reach the store.
Kinds (docs/hostile-inputs.md): no key, a key that is not the batch code, a key that is not
UTF-8, a tombstone, an unknown schema fingerprint, a truncated body, bytes after the body, a NUL
in a field, a blank batch code, a bidi override in a batch code, a field over the field limit.
"""

from __future__ import annotations

from typing import Any

from tests.integration.hostile.conftest import Pipeline
from tests.integration.test_worker_pipeline import Plant
from tracesync import bootstrap
from tracesync.publisher import KafkaPublisher, OutboundRecord


def _envelope(code: str, **payload: Any) -> dict[str, Any]:
    plant = Plant()
    plant.batch(code, "10", [])
    event = plant.events[0]
    event["payload"] = {**event["payload"], **payload}
    return event


def test_bad_records_on_a_source_topic_are_dead_lettered_and_good_ones_stored(
    hostile_pipeline: Pipeline,
) -> None:
    p = hostile_pipeline
    settings = p.settings
    serde = bootstrap.envelope_serde(settings)
    mes = bootstrap.catalog(settings).source_topic("MES")
    good = serde.encode(_envelope("K-CTRL-0"))

    def unchecked(code: str, **changes: Any) -> bytes:  # what a foreign producer could send
        event = _envelope("K-X") | {"batch_code": code, **changes.pop("top", {})}
        event["payload"] |= changes
        return serde.encode_checked(event)

    bad: dict[bytes | None, tuple[bytes | None, str]] = {
        # key -> (value, a part of the reason)
        None: (good, "does not match batch_code"),
        b"K-WRONG-KEY": (good, "does not match batch_code"),
        b"K-\xff\xfe": (good, "does not match batch_code"),
        b"K-TOMBSTONE": (None, "empty record value"),
        b"K-FINGERPRINT": (good[:2] + b"\x00" * 8 + good[10:], "fingerprint"),
        b"K-TRUNCATED": (good[: len(good) // 2], ""),
        b"K-TRAILING": (good + b"\x00\x01", "left after"),
        b"K-NUL": (unchecked("K-NUL", order_id="PO\x00-1"), "payload.order_id contains a NUL"),
        b"   ": (unchecked("   "), "field batch_code is blank"),
        "K-\u202e1".encode(): (unchecked("K-\u202e1"), "U+202E"),
        b"K-LONG": (unchecked("K-LONG", order_id="o" * 5000), "of 5000 bytes exceeds the limit"),
    }
    before, after = Plant(), Plant()
    before.batch("K-GOOD-1", "10", [])
    after.batch("K-GOOD-2", "20", [])
    records = [
        OutboundRecord.keyed_by_batch(mes, e["batch_code"], serde.encode(e))
        for e in before.events
        if e["source_system"] == "MES"
    ]
    records += [OutboundRecord(mes, key, value) for key, (value, _) in bad.items()]
    records += [
        OutboundRecord.keyed_by_batch(mes, e["batch_code"], serde.encode(e))
        for e in after.events
        if e["source_system"] == "MES"
    ]
    with KafkaPublisher(settings.kafka, settings.producer) as publisher:
        publisher.publish(records)

    letters = p.wait_dead_letters("streams", set(bad))
    for key, (_, want) in bad.items():
        assert any(want in reason for reason in letters[key]), (key, letters[key])
    p.wait_stored({"K-GOOD-1", "K-GOOD-2"})
    assert not p.stored() & {"K-X", "K-NUL", "   ", "K-\u202e1", "K-LONG"}
    assert p.all_alive(), p.log_tails()
