"""The ``dlq.ingest`` record of a source row that is not a valid Envelope.

Headers follow :mod:`tracesync.deadletter` (``dlq.reason``, ``dlq.stage``); a row read from a
database has no Kafka origin, so ``dlq.topic``/``partition``/``offset`` are absent (the re-drive
counts such records as having no origin: a fixed row is re-read from the source, not re-driven).
The adapter adds ``dlq.field`` (the first bad Envelope field), ``dlq.column`` (the source
column(s) behind it), ``dlq.errors`` (every ``[field, reason]`` as JSON) and where the row is
(``dlq.mapping``, ``dlq.table``, ``dlq.row`` = its key, ``dlq.event_id``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from producers.mapping import RowRejected, SourceMapping
from tracesync import deadletter
from tracesync.publisher import OutboundRecord

log = logging.getLogger(__name__)

STAGE = "ingest"


@dataclass(frozen=True)
class DeadLetterContext:
    """Where a bad row goes and what it was: the DLQ topic, its mapping, the bad column(s)."""

    topic: str
    mapping: SourceMapping
    columns: Sequence[str]


def is_oversize(reason: str) -> bool:
    """Whether a delivery failure says the record exceeds the broker's size limit (a retry can
    never succeed; librdkafka names the error code in its message, client- or broker-side)."""
    return "MSG_SIZE_TOO_LARGE" in reason


def oversize_letter(
    identity: Mapping[str, Any],
    reason: str,
    context: DeadLetterContext,
    *,
    row_key: str,
    event_id: str,
    batch_code: str | None,
) -> OutboundRecord:
    """The dead letter of a row whose record the broker refused as too large: the row's key
    columns only (the full row stays in the source table), the broker's reason in headers."""
    mapping = context.mapping
    table = mapping.db.table if mapping.db is not None else ""
    text = f"record too large for the broker ({reason}); the full row is in the source table"
    log.warning("row %s of %s dead-lettered: %s", row_key, table, text)
    headers = (
        (deadletter.REASON, text.encode()),
        (deadletter.STAGE, STAGE.encode()),
        ("dlq.adapter", b"db"),
        ("dlq.field", b"<event>"),
        ("dlq.mapping", mapping.name.encode()),
        ("dlq.table", table.encode()),
        ("dlq.row", row_key.encode()),
        ("dlq.event_id", event_id.encode()),
    )
    value = orjson.dumps(dict(identity), default=str, option=orjson.OPT_NON_STR_KEYS)
    return OutboundRecord(
        topic=context.topic, key=(batch_code or row_key).encode(), value=value, headers=headers
    )


def dead_letter(
    row: Mapping[str, Any],
    rejected: RowRejected,
    context: DeadLetterContext,
    *,
    row_key: str,
    event_id: str,
) -> OutboundRecord:
    """The dead letter of a bad row: the row as JSON, the reason, field and column in headers."""
    mapping = context.mapping
    table = mapping.db.table if mapping.db is not None else ""
    log.warning("row %s of %s dead-lettered: %s", row_key, table, rejected.reason())
    headers = (
        (deadletter.REASON, rejected.reason().encode()),
        (deadletter.STAGE, STAGE.encode()),
        ("dlq.adapter", b"db"),
        ("dlq.field", rejected.errors[0][0].encode()),
        ("dlq.column", ",".join(context.columns).encode()),
        ("dlq.errors", orjson.dumps([list(e) for e in rejected.errors])),
        ("dlq.mapping", mapping.name.encode()),
        ("dlq.table", table.encode()),
        ("dlq.row", row_key.encode()),
        ("dlq.event_id", event_id.encode()),
    )
    value = orjson.dumps(dict(row), default=str, option=orjson.OPT_NON_STR_KEYS)
    return OutboundRecord(
        topic=context.topic,
        key=(rejected.batch_code or row_key).encode(),
        value=value,
        headers=headers,
    )
