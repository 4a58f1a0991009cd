"""Codecs for the worker's own state and internal topics (compact JSON via orjson).

Source events arrive as Avro with JSON-native payloads (decimals as strings, dates as ISO
strings, timestamps as epoch milliseconds; :mod:`tracesync.contracts.native` decodes them so), so
that a chain, a lot node or a derived event can be stored in a table or sent on an internal topic
cheaply. The domain reads decimals with ``Decimal(value)`` and dates through
:mod:`streams.domain.view`, so both forms work.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

import orjson

from streams.domain.chain import TraceChain
from streams.domain.events import Event
from streams.domain.genealogy import (
    ChildLinked,
    GenealogyMessage,
    HoldsChanged,
    HoldStatus,
    LotNode,
)
from tracesync.contracts.native import NativeEnvelope, json_native, to_millis

_FORMAT = 1
_ROW_CACHE = 32_768
_rows: dict[int, tuple[Event, orjson.Fragment]] = {}
"""The encoded row of each event encoded lately, by identity (the entry holds the event, so an
identity is never reused while cached): a chain is encoded whole at every change, and most of
its events are the same objects as the last time. Events are immutable."""


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EXACT_FLOAT_MS = 2**32 * 1000  # below, ``millis / 1000`` rounds to the right microsecond


def from_millis(millis: int) -> datetime:
    """The instant of epoch milliseconds, exactly (the inverse of ``to_millis``).

    ``datetime.fromtimestamp(millis / 1000)`` is a millisecond off for about half the instants
    after 2106 or before 1970 (float rounding): a chain recovered from state would then hold
    another time than the event it was made of, and the same event read again would look like
    other content (a conflicting ``source_seq``). Integer arithmetic there; the float path,
    exact and faster, for the years between.
    """
    if 0 <= millis < _EXACT_FLOAT_MS:
        return datetime.fromtimestamp(millis / 1000, tz=UTC)
    return _EPOCH + timedelta(milliseconds=millis)


def event_from_envelope(envelope: Mapping[str, Any]) -> Event:
    """A domain event from a decoded Avro envelope, with a JSON-native payload.

    A :class:`NativeEnvelope` (``EnvelopeSerde.decode(..., native=True)``) is taken as it is.
    """
    if type(envelope) is NativeEnvelope:
        e = envelope
        return Event(
            e["event_id"],
            e["event_type"],
            e["source_system"],
            e["source_ref"],
            e["source_seq"],
            e["batch_code"],
            e["occurred_at"],
            e["recorded_at"],
            e["plant"],
            e["payload"],
        )
    payload = envelope["payload"]
    return Event(
        event_id=str(envelope["event_id"]),
        event_type=str(envelope["event_type"]),
        source_system=str(envelope["source_system"]),
        source_ref=str(envelope["source_ref"]),
        source_seq=int(envelope["source_seq"]),
        batch_code=str(envelope["batch_code"]),
        occurred_at=envelope["occurred_at"],
        recorded_at=envelope["recorded_at"],
        plant=str(envelope["plant"]),
        payload=json_native(dict(payload)),
    )


def _event_row(e: Event) -> list[Any]:
    payload = e.payload
    return [
        e.event_id,
        e.event_type,
        e.source_system,
        e.source_ref,
        e.source_seq,
        e.batch_code,
        to_millis(e.occurred_at),
        to_millis(e.recorded_at),
        e.plant,
        payload if type(payload) is dict else dict(payload),
    ]


def _event_from_row(row: list[Any]) -> Event:
    return Event(
        event_id=row[0],
        event_type=row[1],
        source_system=row[2],
        source_ref=row[3],
        source_seq=row[4],
        batch_code=row[5],
        occurred_at=from_millis(row[6]),
        recorded_at=from_millis(row[7]),
        plant=row[8],
        payload=row[9],
    )


def encode_event(event: Event) -> bytes:
    return orjson.dumps(_event_row(event), default=_fallback)


def decode_event(data: bytes) -> Event:
    return _event_from_row(orjson.loads(data))


def _fallback(value: Any) -> Any:
    """orjson's hook for what it cannot encode itself (payloads built outside the worker)."""
    native = json_native(value)
    if native is value:
        raise TypeError(f"cannot encode {type(value).__name__}")
    return native


def encode_chain(chain: TraceChain) -> bytes:
    records = chain.records
    rows = [_encoded_row(records[k]) for k in sorted(records)]
    doc = {"f": _FORMAT, "b": chain.batch_code, "v": chain.version, "r": rows}
    return orjson.dumps(doc)


def _encoded_row(event: Event) -> orjson.Fragment:
    """``event``'s row as orjson would write it in place, from the cache when it is there."""
    cached = _rows.get(id(event))
    if cached is not None and cached[0] is event:
        return cached[1]
    # a copy: the bytes orjson returns keep its whole output buffer (4 KiB at least)
    row = orjson.Fragment(bytes(memoryview(orjson.dumps(_event_row(event), default=_fallback))))
    if len(_rows) >= _ROW_CACHE:
        _rows.clear()
    _rows[id(event)] = (event, row)
    return row


def decode_chain(data: bytes) -> TraceChain:
    doc = orjson.loads(data)
    events = (_event_from_row(row) for row in doc["r"])
    records = MappingProxyType({e.record_key: e for e in events})
    return TraceChain(batch_code=doc["b"], version=doc["v"], records=records)


def _status_row(s: HoldStatus) -> list[Any]:
    return [s.hold_id, s.origin_code, s.reason, s.active, to_millis(s.changed_at), s.plant]


def _status_from_row(row: list[Any]) -> HoldStatus:
    return HoldStatus(row[0], row[1], row[2], row[3], from_millis(row[4]), row[5])


def encode_node(node: LotNode) -> bytes:
    return orjson.dumps(
        {
            "l": node.lot_code,
            "c": sorted(node.children),
            "h": [_status_row(s) for s in node.holds.values()],
        }
    )


def decode_node(data: bytes) -> LotNode:
    doc = orjson.loads(data)
    statuses = (_status_from_row(r) for r in doc["h"])
    return LotNode(
        lot_code=doc["l"],
        children=frozenset(doc["c"]),
        holds=MappingProxyType({s.key: s for s in statuses}),
    )


def encode_message(message: GenealogyMessage) -> bytes:
    if isinstance(message, ChildLinked):
        return orjson.dumps({"t": "link", "l": message.lot_code, "c": message.child_code})
    rows = [_status_row(s) for s in message.statuses]
    return orjson.dumps({"t": "holds", "l": message.lot_code, "s": rows})


def decode_message(data: bytes) -> GenealogyMessage:
    doc = orjson.loads(data)
    if doc["t"] == "link":
        return ChildLinked(doc["l"], doc["c"])
    if doc["t"] == "holds":
        return HoldsChanged(doc["l"], tuple(_status_from_row(r) for r in doc["s"]))
    raise ValueError(f"unknown genealogy message type {doc['t']!r}")
