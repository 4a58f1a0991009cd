"""Rows to envelopes: evaluate every spec, coerce towards the Avro types, validate with the serde.

:class:`RowConverter` gives :class:`Converted` (an Avro-ready envelope) or :class:`RowRejected`
(every ``(field path, reason)`` wrong with the row); :func:`derived_event_id` gives the
deterministic event ids the DB and file adapters use, so a re-read row is the same event.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from producers.mapping.coerce import ANY_NODE, coerce
from producers.mapping.evaluate import evaluate
from producers.mapping.model import EventSpec
from tracesync.contracts.avro_values import FieldErrors, RecordNode, compile_schema
from tracesync.contracts.schemas import ENVELOPE, EVENT_TYPES, current
from tracesync.contracts.serde import EnvelopeSerde
from tracesync.errors import InvalidFieldsError

INGEST_NAMESPACE = uuid.UUID("6f1c2d0e-5b7a-4c1e-9a53-7d2f4e8b9c10")
"""uuid5 namespace of the event ids the DB and file adapters derive."""

_EPOCH_ISO = "1970-01-01T00:00:00+00:00"


@dataclass(frozen=True)
class Converted:
    """A row that became a valid, Avro-ready envelope."""

    envelope: dict[str, Any]

    @property
    def batch_code(self) -> str:
        return str(self.envelope["batch_code"])


@dataclass(frozen=True)
class RowRejected:
    """A row that did not; ``errors`` names every field and the reason."""

    errors: tuple[tuple[str, str], ...]
    batch_code: str | None = None

    def reason(self) -> str:
        return "; ".join(f"{f}: {r}" for f, r in self.errors)


@dataclass
class RowConverter:
    """Turns rows into envelopes with one mapping; validation by the envelope serde."""

    events: EventSpec
    serde: EnvelopeSerde
    plant: str
    _envelope_node: RecordNode = field(init=False)
    _payloads: dict[str, RecordNode] = field(init=False)

    def __post_init__(self) -> None:
        node = compile_schema(current().expanded(ENVELOPE))
        if not isinstance(node, RecordNode):  # the Envelope is a record by its .avsc
            raise TypeError(f"{ENVELOPE} compiled to {type(node).__name__}, not a record")
        self._envelope_node = node
        union = node.fields["payload"][0]
        branches = {b.name: b for b in getattr(union, "branches", ()) if isinstance(b, RecordNode)}
        self._payloads = {t: branches[i.payload_record] for t, i in EVENT_TYPES.items()}

    def convert(self, row: Mapping[str, Any], event_id: str) -> Converted | RowRejected:
        """One row -> envelope, or every (field, reason) that is wrong with it."""
        errors: FieldErrors = []
        zone = self.events.timezone
        obj: dict[str, Any] = {"event_id": event_id, "source_system": self.events.source_system}
        for key, spec in self.events.envelope.items():
            raw = evaluate(spec, row, key, errors)
            obj[key] = coerce(raw, self._envelope_node.fields[key][0], key, errors, zone)
        if "recorded_at" not in obj:  # not mapped: the source recorded it when it happened
            bad_occurred = any(f == "occurred_at" for f, _ in errors)
            obj["recorded_at"] = _EPOCH_ISO if bad_occurred else obj.get("occurred_at")
        obj.setdefault("plant", self.plant)
        raw_payload = evaluate(self.events.payload, row, "payload", errors)
        node = self._payloads.get(str(obj.get("event_type")), ANY_NODE)
        obj["payload"] = coerce(raw_payload, node, "payload", errors, zone)
        code = obj.get("batch_code")
        batch = code if isinstance(code, str) and code else None
        try:
            envelope = self.serde.from_json(obj)
        except InvalidFieldsError as exc:
            errors.extend(e for e in exc.errors if e[0] not in {f for f, _ in errors})
        if errors:
            return RowRejected(tuple(errors), batch)
        return Converted(envelope)


def derived_event_id(*parts: object) -> str:
    """A deterministic event id (uuid5) from the parts that identify one row version."""
    return str(uuid.uuid5(INGEST_NAMESPACE, "|".join(str(p) for p in parts)))
