"""The Envelope checked and converted field by field, the payload picked by ``event_type``.

:class:`EnvelopeShape` reports every problem of an envelope with its field path (an event type
from the wrong source system, an empty batch code, a missing payload ...) and converts between
Avro-ready values and what travels over REST (decimal and timestamp strings).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tracesync.contracts.avro_values import FieldErrors, RecordNode, compile_schema
from tracesync.contracts.schemas import ENVELOPE, EVENT_TYPES, SchemaSet

PAYLOAD = "payload"
"""The Envelope field holding the event's payload record (a union over the event types)."""


@dataclass(frozen=True)
class EnvelopeShape:
    """The Envelope's field nodes, with the payload record picked by ``event_type``."""

    envelope: RecordNode  # every field but the payload
    payloads: Mapping[str, RecordNode]

    @classmethod
    def of(cls, schemas: SchemaSet) -> EnvelopeShape:
        envelope = compile_schema(schemas.expanded(ENVELOPE))
        if not isinstance(envelope, RecordNode):
            raise TypeError(f"the {ENVELOPE} schema does not compile to a record")
        payloads = {
            event_type: _payload_node(envelope, info.payload_record)
            for event_type, info in EVENT_TYPES.items()
        }
        head = RecordNode(envelope.name)
        head.fields = {k: v for k, v in envelope.fields.items() if k != PAYLOAD}
        return cls(head, payloads)

    def check(self, envelope: Any) -> FieldErrors:
        """Every problem of an Avro-ready envelope dict, by field path."""
        errors: FieldErrors = []
        self._walk(envelope, errors, convert=False)
        return errors

    def from_json(self, obj: Any) -> tuple[dict[str, Any], FieldErrors]:
        errors: FieldErrors = []
        return self._walk(obj, errors, convert=True), errors

    def to_json(self, envelope: Mapping[str, Any]) -> dict[str, Any]:
        obj: dict[str, Any] = self.envelope.to_json(_without_payload(envelope))
        payload_node = self.payloads.get(envelope.get("event_type", ""))
        payload = envelope.get(PAYLOAD)
        obj[PAYLOAD] = payload_node.to_json(payload) if payload_node else payload
        return obj

    def _walk(self, obj: Any, errors: FieldErrors, *, convert: bool) -> dict[str, Any]:
        if not isinstance(obj, Mapping):
            errors.append(("<root>", f"expected an Envelope object, got {type(obj).__name__}"))
            return {}
        head = _without_payload(obj)
        if convert:
            out: dict[str, Any] = self.envelope.from_json(head, "", errors)
        else:
            self.envelope.check(head, "", errors)
            out = dict(obj)
        payload_node = self._payload_node(obj, errors)
        if PAYLOAD not in obj:
            errors.append((PAYLOAD, "missing"))
        elif payload_node is not None and convert:
            out[PAYLOAD] = payload_node.from_json(obj[PAYLOAD], PAYLOAD, errors)
        elif payload_node is not None:
            payload_node.check(obj[PAYLOAD], PAYLOAD, errors)
        _check_keys(obj, errors)
        return out

    def _payload_node(self, obj: Mapping[str, Any], errors: FieldErrors) -> RecordNode | None:
        event_type = obj.get("event_type")
        info = EVENT_TYPES.get(event_type) if isinstance(event_type, str) else None
        if info is None:
            if event_type == "UNKNOWN":
                errors.append(("event_type", "UNKNOWN cannot be published; name the event type"))
            return None  # other bad event types are reported by the enum check
        system = obj.get("source_system")
        if system != info.source_system and isinstance(system, str):
            errors.append(
                ("source_system", f"{event_type} comes from {info.source_system}, not {system}")
            )
        return self.payloads[str(event_type)]


def _payload_node(envelope: RecordNode, record_name: str) -> RecordNode:
    """The payload record node for ``record_name`` inside the Envelope's payload union."""
    union = envelope.fields[PAYLOAD][0]
    for branch in getattr(union, "branches", ()):
        if isinstance(branch, RecordNode) and branch.name == record_name:
            return branch
    raise LookupError(f"payload union of the Envelope lacks {record_name}")


def _without_payload(obj: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k != PAYLOAD}


CODE_FIELDS = ("batch_code", "source_ref")
"""Identifiers people read in reports and logs: printable text only."""


def code_problem(value: Any) -> str | None:
    """Why ``value`` is no usable code: empty, blank, or with control or format characters.

    Format characters (category Cf) include the bidirectional overrides (U+202A-U+202E,
    U+2066-U+2069) and zero-width characters that make a code look like another in a report.
    """
    if not isinstance(value, str):
        return None  # the type check names it
    if value == "":
        return "must not be empty"
    if value.isascii() and value.isprintable() and not value.isspace():  # most codes
        return None
    if value.isspace():
        return "must not be blank"
    for char in value:
        if unicodedata.category(char) in _UNPRINTABLE:
            return f"contains the control or format character U+{ord(char):04X}"
    return None


_UNPRINTABLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def _check_keys(obj: Mapping[str, Any], errors: FieldErrors) -> None:
    for key in CODE_FIELDS:
        problem = code_problem(obj.get(key))
        if problem is not None:
            errors.append((key, problem))
