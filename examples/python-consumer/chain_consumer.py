"""An example downstream consumer of tracesync's chain topic, in Python.

It reads the compacted chain topic from the start of every partition up to the end the topic had
when it started, keeps the record with the highest ``version`` of each batch code (a lower version
is stale: a redelivery or a redriven record), and prints one JSON object per batch, sorted by batch
code. With ``--follow`` it then goes on printing every newer version as it arrives.

Values are decoded with confluent-kafka's own ``AvroDeserializer``: the Confluent wire format
(byte 0, 4-byte schema id, Avro body), the writer schema fetched from the registry's
Confluent-compatible API by that id. Only confluent-kafka is needed (requirements.txt); nothing of
tracesync is imported.

    python chain_consumer.py --bootstrap-servers 127.0.0.1:19092 \\
        --registry-url http://127.0.0.1:18081/apis/ccompat/v7 --topic trace.chain

JSON conventions (the same as the Java example's): decimals as plain strings ("12.500"),
timestamps as epoch milliseconds, dates as days since 1970-01-01.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, Message, TopicPartition
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext

EPOCH = date(1970, 1, 1)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    registry = SchemaRegistryClient({"url": args.registry_url})
    decode = AvroDeserializer(registry)  # no reader schema: each record as its writer wrote it
    consumer = Consumer(
        {
            "bootstrap.servers": args.bootstrap_servers,
            "group.id": args.group,  # required by the client; no offset is ever committed
            "enable.auto.commit": False,
            # should the worker write in transactions (exactly-once), skip aborted records
            "isolation.level": "read_committed",
        }
    )
    try:
        latest: dict[str, dict[str, Any]] = {}
        for message in read_to_end(consumer, args.topic, args.timeout_s):
            keep_newest(latest, message, decode)
        for code in sorted(latest):
            print(json.dumps(latest[code], default=_json_value), flush=False)
        sys.stdout.flush()
        if args.follow:
            follow(consumer, latest, decode)
    finally:
        consumer.close()
    return 0


def read_to_end(consumer: Consumer, topic: str, timeout_s: float) -> Iterator[Message]:
    """Every message of ``topic`` from the start up to the end offsets it had when called."""
    metadata = consumer.list_topics(topic, timeout=timeout_s).topics[topic]
    if metadata.error is not None:
        raise SystemExit(f"cannot read {topic}: {metadata.error}")
    partitions = [TopicPartition(topic, p, OFFSET_BEGINNING) for p in sorted(metadata.partitions)]
    ends = {
        tp.partition: consumer.get_watermark_offsets(tp, timeout=timeout_s)[1] for tp in partitions
    }
    consumer.assign(partitions)
    pending = {p for p, end in ends.items() if end > 0}
    deadline = time.monotonic() + timeout_s
    while pending:
        if time.monotonic() > deadline:
            raise SystemExit(f"not at the end of {topic} after {timeout_s:.0f}s")
        for message in consumer.consume(500, timeout=0.5):
            if message.error() is not None:
                raise SystemExit(f"consume failed: {message.error()}")
            yield message
            if message.offset() + 1 >= ends[message.partition()]:
                pending.discard(message.partition())
        # a transaction marker or a compacted-away tail leaves no message at end - 1
        for tp in consumer.position([TopicPartition(topic, p) for p in list(pending)]):
            if tp.offset >= ends[tp.partition]:
                pending.discard(tp.partition)


def keep_newest(
    latest: dict[str, dict[str, Any]], message: Message, decode: AvroDeserializer
) -> bool:
    """Keep the message's chain when it is newer than the one known; True when it was."""
    code = message.key().decode("utf-8")
    if message.value() is None:  # a tombstone: the batch is gone
        return latest.pop(code, None) is not None
    chain = decode(message.value(), SerializationContext(message.topic(), MessageField.VALUE))
    known = latest.get(code)
    if known is not None and known["version"] >= chain["version"]:
        return False  # stale: an older or the same version again
    latest[code] = chain
    return True


def follow(consumer: Consumer, latest: dict[str, dict[str, Any]], decode: AvroDeserializer) -> None:
    """Print each newer version as it arrives, until interrupted."""
    try:
        while True:
            for message in consumer.consume(500, timeout=1.0):
                if message.error() is None and keep_newest(latest, message, decode):
                    code = message.key().decode("utf-8")
                    print(json.dumps(latest.get(code), default=_json_value), flush=True)
    except KeyboardInterrupt:
        pass


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return round(value.timestamp() * 1000)
    if isinstance(value, date):
        return (value - EPOCH).days
    raise TypeError(f"no JSON form for {type(value).__name__}")


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--bootstrap-servers", default="127.0.0.1:19092")
    parser.add_argument("--registry-url", default="http://127.0.0.1:18081/apis/ccompat/v7")
    parser.add_argument("--topic", default="trace.chain")
    parser.add_argument("--group", default="chain-consumer-example")
    parser.add_argument("--timeout-s", type=float, default=120.0)
    parser.add_argument("--follow", action="store_true", help="keep printing newer versions")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main())
