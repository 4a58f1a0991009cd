"""The ``dlq.ingest`` record of a source row that is not a valid Envelope."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import orjson

from producers.mapping import RowRejected, SourceMapping
from tracesync.publisher import OutboundRecord

log = logging.getLogger(__name__)


def dead_letter(
    row: Mapping[str, Any],
    rejected: RowRejected,
    *,
    topic: str,
    mapping: SourceMapping,
    row_key: str,
    event_id: str,
) -> OutboundRecord:
    """The dead letter of a bad row: the row as JSON, the reason and the field in headers."""
    table = mapping.db.table if mapping.db is not None else ""
    log.warning("row %s of %s dead-lettered: %s", row_key, table, rejected.reason())
    headers = (
        ("dlq.reason", rejected.reason().encode()),
        ("dlq.stage", b"ingest"),
        ("dlq.adapter", b"db"),
        ("dlq.field", rejected.errors[0][0].encode()),
        ("dlq.errors", orjson.dumps([list(e) for e in rejected.errors])),
        ("dlq.mapping", mapping.name.encode()),
        ("dlq.table", table.encode()),
        ("dlq.row", row_key.encode()),
        ("dlq.event_id", event_id.encode()),
    )
    value = orjson.dumps(dict(row), default=str, option=orjson.OPT_NON_STR_KEYS)
    return OutboundRecord(
        topic=topic, key=(rejected.batch_code or row_key).encode(), value=value, headers=headers
    )
