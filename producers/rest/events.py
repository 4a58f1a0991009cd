"""The REST adapter proper: a JSON event of one source system -> an acknowledged Kafka record.

:meth:`RestIngest.prepare` fills what the server may fill, checks that the caller's key may
publish the event, validates it against the Avro Envelope and encodes it; :meth:`RestIngest.publish`
sends prepared events and settles each as accepted (with topic, partition and offset) or
rejected with 503.

Size limits are the stream worker's (``worker.max_field_bytes``, ``worker.max_event_bytes``,
docs/streams.md): a text value longer than the field limit is a 422 naming the field, an encoded
event larger than the event limit (or one the broker refuses as too large) a 413. Neither can
succeed on a retry, so neither is answered 503.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from producers.base import Publisher, SourceAdapter, TopicForSystem
from producers.rest.bodies import AcceptedEvent, FieldProblem, RejectedEvent
from producers.rest.fast_convert import FastEnvelopeConverter
from tracesync.contracts.schemas import EVENT_TYPES
from tracesync.contracts.serde import EnvelopeSerde
from tracesync.errors import InvalidFieldsError, TracesyncError
from tracesync.publisher import Acknowledgement, DeliveryFailure, OutboundRecord
from tracesync.settings import WorkerSettings

Clock = Callable[[], dt.datetime]


@dataclass(frozen=True)
class Prepared:
    """A valid event, encoded and ready to publish."""

    index: int
    event_id: str
    record: OutboundRecord


@dataclass(frozen=True)
class Rejected:
    """An event refused before publishing (403 / 422) or not acknowledged (503)."""

    index: int
    event_id: str | None
    status: int
    problems: tuple[tuple[str, str], ...]

    def as_model(self) -> RejectedEvent:
        return RejectedEvent(
            index=self.index,
            event_id=self.event_id,
            status=self.status,
            errors=[FieldProblem(field=f, reason=r) for f, r in self.problems],
        )


_TOO_LARGE = "too large"  # librdkafka's "Message size too large" / "Broker: Message size too large"


def oversized_fields(value: Any, max_bytes: int, path: str = "") -> list[tuple[str, str]]:
    """The text values of an envelope longer than ``max_bytes`` UTF-8 bytes, by field path."""
    if isinstance(value, str):
        if len(value) * 4 <= max_bytes:  # at most 4 bytes a code point: no need to encode
            return []
        size = len(value.encode("utf-8", "surrogatepass"))
        if size <= max_bytes:
            return []
        return [(path or "<root>", f"{size} bytes exceeds the limit of {max_bytes} bytes")]
    found: list[tuple[str, str]] = []
    if isinstance(value, Mapping):
        for key, item in value.items():
            found += oversized_fields(item, max_bytes, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            found += oversized_fields(item, max_bytes, f"{path}[{i}]")
    return found


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def fill_defaults(
    obj: Mapping[str, Any], system: str, plant: str, now: dt.datetime
) -> dict[str, Any]:
    """The event with what the server may fill: event_id, recorded_at, plant, source_system."""
    filled = dict(obj)
    filled.setdefault("event_id", str(uuid.uuid4()))
    filled.setdefault("recorded_at", now.isoformat(timespec="milliseconds"))
    filled.setdefault("plant", plant)
    filled.setdefault("source_system", system)
    return filled


def authorization_problems(obj: Mapping[str, Any], system: str) -> list[tuple[str, str]]:
    """Why a key of ``system`` may not publish this event (empty: it may)."""
    problems = []
    claimed = obj.get("source_system")
    if isinstance(claimed, str) and claimed != system:
        problems.append(
            ("source_system", f"the API key of {system} may not publish {claimed} events")
        )
    event_type = obj.get("event_type")
    info = EVENT_TYPES.get(event_type) if isinstance(event_type, str) else None
    if info is not None and info.source_system != system:
        problems.append(
            (
                "event_type",
                f"{event_type} is a {info.source_system} event; "
                f"the API key of {system} may not publish it",
            )
        )
    return problems


class _Converted:
    """Encodes envelopes that came through ``from_json`` (or its lean path), which checked every
    field already: the serde's field-by-field check is not run a second time. fastavro still
    refuses a value that does not fit its type (a SerializationError, answered 422)."""

    def __init__(self, serde: EnvelopeSerde) -> None:
        self.encode = serde.encode_checked


class RestIngest(SourceAdapter):
    """The REST adapter: JSON events of one source system -> acknowledged Kafka records."""

    kind = "rest"

    def __init__(
        self,
        publisher: Publisher,
        serde: EnvelopeSerde,
        topic_for: TopicForSystem,
        plant: str,
        *,
        clock: Clock = utc_now,
        limits: WorkerSettings = WorkerSettings(),  # noqa: B008 (read only)
    ) -> None:
        super().__init__(publisher, _Converted(serde), topic_for)
        self.serde = serde
        self.lean = FastEnvelopeConverter()
        self.plant = plant
        self.clock = clock
        self.max_field_bytes = limits.max_field_bytes
        self.max_event_bytes = limits.max_event_bytes

    def prepare(self, index: int, obj: Any, system: str) -> Prepared | Rejected:
        """Fill defaults, check the key may publish it, validate and encode one event."""
        if not isinstance(obj, Mapping):
            return Rejected(index, None, 422, (("<root>", "expected a JSON object (an Envelope)"),))
        event = fill_defaults(obj, system, self.plant, self.clock())
        event_id = event["event_id"] if isinstance(event["event_id"], str) else None
        forbidden = authorization_problems(event, system)
        if forbidden:
            return Rejected(index, event_id, 403, tuple(forbidden))
        try:
            envelope = self.lean.convert(event)
            if envelope is None:  # a bad event (or one the lean path was unsure of)
                envelope = self.serde.from_json(event)
            too_long = oversized_fields(envelope, self.max_field_bytes)
            if too_long:
                return Rejected(index, event_id, 422, tuple(too_long))
            record = self.record_for(envelope, system, envelope["batch_code"])
        except InvalidFieldsError as exc:
            return Rejected(index, event_id, 422, tuple(exc.errors))
        except TracesyncError as exc:
            return Rejected(index, event_id, 422, (("<envelope>", str(exc)),))
        size = len(record.value or b"")
        if size > self.max_event_bytes:
            reason = f"encoded event of {size} bytes exceeds the limit of {self.max_event_bytes}"
            return Rejected(index, event_id, 413, (("<event>", reason),))
        return Prepared(index, str(envelope["event_id"]), record)

    async def publish(self, prepared: Sequence[Prepared]) -> list[AcceptedEvent | Rejected]:
        """Publish the prepared events; each comes back acknowledged or rejected with 503."""
        outcomes = await self.publisher.publish_async([p.record for p in prepared])
        return [settled(p, o) for p, o in zip(prepared, outcomes, strict=True)]


def settled(
    prepared: Prepared, outcome: Acknowledgement | DeliveryFailure
) -> AcceptedEvent | Rejected:
    """A prepared event's answer once its delivery report is in."""
    if isinstance(outcome, DeliveryFailure):
        reason = f"not acknowledged by the broker: {outcome.reason}"
        status = 413 if _TOO_LARGE in outcome.reason.lower() else 503
        return Rejected(prepared.index, prepared.event_id, status, (("<event>", reason),))
    return AcceptedEvent(
        index=prepared.index,
        event_id=prepared.event_id,
        topic=outcome.topic,
        partition=outcome.partition,
        offset=outcome.offset,
    )
