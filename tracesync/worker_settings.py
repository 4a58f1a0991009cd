"""The stream worker's settings, and the record size limit they keep under.

Part of :mod:`tracesync.settings` (which re-exports every name here); a module of its own only to
keep the settings module short.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field, model_validator

KAFKA_MESSAGE_LIMIT_BYTES = 1_000_000
"""The largest record any client of the pipeline may produce: librdkafka's ``message.max.bytes``
default (key, value and headers, before compression), below the broker's and topics' default
``message.max.bytes`` of 1,048,588 (deploy/ and :mod:`tracesync.topics` set no other)."""
RECORD_HEADROOM_BYTES = 64 * 1024
"""Room left in a record for its key and headers (dead-letter reasons, Quix changelog headers)."""


class WorkerSettings(BaseModel):
    """The stream worker: engine, identity, state, checkpoints, buffering and the domain rules."""

    engine: Literal["quix", "faust"] = Field(
        default="quix", description="stream engine: Quix Streams (default) or faust-streaming"
    )
    app_id: str = Field(default="tracesync-worker", description="consumer group and app id")
    output_prefix: str = Field(
        default="",
        pattern=r"^[A-Za-z0-9_.-]*$",
        description="put before trace.chain, trace.alerts and dlq.streams (after topic_prefix): "
        "a rebuilt worker writes to its own shadow topics; empty = the live topics",
    )
    internal_prefix: str = Field(
        default="",
        pattern=r"^[A-Za-z0-9_.-]*$",
        description="put before the worker's own trace.derived and trace.genealogy topics: a "
        "rebuilt worker keeps its own, also after the cutover; empty = the catalog's",
    )
    instance: str = Field(
        default="main",
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="names this process's state folder; give each worker on one host its own",
    )
    processing_guarantee: Literal["at-least-once", "exactly-once"] = Field(
        default="at-least-once",
        description="exactly-once (Kafka transactions) is for the quix engine only",
    )
    checkpoint_interval_s: float = Field(
        default=0.25,
        gt=0,
        description="quix: merge, write state and commit this often; faust: publish the "
        "latest chains and ack their records this often",
    )
    checkpoint_max_records: int = Field(
        default=20_000, gt=0, description="quix: or after this many records, whichever is first"
    )
    poll_timeout_s: float = Field(
        default=0.05, gt=0, description="quix: longest wait for a record before checkpointing"
    )
    session_timeout_ms: int = Field(
        default=45_000, ge=6_000, description="a dead worker's partitions move after this long"
    )
    fetch_wait_max_ms: int = Field(
        default=10,
        ge=1,
        le=500,
        description="quix: longest an idle fetch waits at the broker; the offset look-ups of a "
        "partition assignment queue behind it",
    )
    transaction_timeout_ms: int = Field(
        default=10_000,
        ge=1_000,
        description="quix exactly-once: a dead worker's open transaction is aborted after this",
    )
    store: str = Field(
        default="rocksdb://", description="faust table store: rocksdb:// or memory://"
    )
    replication_factor: int = Field(default=1, ge=1, description="of the worker's internal topics")
    take_max: int = Field(default=1000, gt=0, description="faust: records merged per buffer")
    take_within_s: float = Field(
        default=0.05, gt=0, description="faust: wait this long to fill a buffer"
    )
    cache_size: int = Field(default=2048, ge=0, description="chains kept decoded in memory")
    tolerance: Decimal = Field(
        default=Decimal("0.005"), ge=0, description="relative, MES vs WMS/ERP"
    )
    settle_s: float = Field(default=30.0, ge=0, description="wait this long for a missing side")
    settle_check_s: float = Field(
        default=1.0, gt=0, description="how often overdue sides are looked for"
    )
    max_field_bytes: int = Field(
        default=64 * 1024,
        gt=0,
        description="longest text value in an event (UTF-8 bytes); a longer one is dead-lettered",
    )
    max_event_bytes: int = Field(
        default=768 * 1024,
        gt=0,
        description="largest encoded event merged (REST answers 413 above); larger: dead letter",
    )
    max_chain_bytes: int = Field(
        default=900_000,
        gt=0,
        le=KAFKA_MESSAGE_LIMIT_BYTES - RECORD_HEADROOM_BYTES,
        description="largest encoded chain; an event that would grow it beyond is dead-lettered",
    )

    @model_validator(mode="after")
    def _limits_nest(self) -> WorkerSettings:
        if not self.max_field_bytes <= self.max_event_bytes <= self.max_chain_bytes:
            raise ValueError("need max_field_bytes <= max_event_bytes <= max_chain_bytes")
        return self
