"""What every stream engine shares: the engine protocol, topics, codecs and the records' wire forms.

An engine is a thin adapter: it consumes :class:`~streams.processor.Incoming` records, lets
:class:`RecordIO` decode them for the processors (:mod:`streams.processor`, :mod:`streams.lineage`),
stores the state they return, and sends the :class:`Output` records :class:`RecordIO` encodes from
their results. What goes out — topics, keys, values, dead-letter headers — is therefore the same
whichever engine runs.

No record the worker sends may exceed what the broker takes (a ``MessageSizeTooLarge`` would stop
the engine): a dead letter whose original value is larger than ``worker.max_event_bytes`` is sent
without it (the reason says so, the headers say where it was read), and a chain record that would
not fit becomes a dead letter instead (:meth:`RecordIO.chain`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from streams import state
from streams.domain import genealogy as gen
from streams.domain.events import Event
from streams.domain.view import ChainView
from streams.processor import ChainLimits, DeadLetter, Incoming, StepResult
from streams.records import alert_record, chain_value
from tracesync.deadletter import Headers, dead_letter_headers
from tracesync.settings import (
    KAFKA_MESSAGE_LIMIT_BYTES,
    RECORD_HEADROOM_BYTES,
    Settings,
    WorkerSettings,
)

MAX_RECORD_BYTES = KAFKA_MESSAGE_LIMIT_BYTES - RECORD_HEADROOM_BYTES
"""The largest value the worker sends; key and headers have the headroom."""

log = logging.getLogger(__name__)

RecordEncoder = Callable[[dict[str, Any]], bytes]


@dataclass(frozen=True)
class WorkerTopics:
    """Names of the topics the worker reads and writes."""

    sources: tuple[str, ...]
    derived: str
    genealogy: str
    chain: str
    alerts: str
    dead_letter: str

    @property
    def merge_inputs(self) -> tuple[str, ...]:
        """What the merge reads: the source topics and the derived topic, co-partitioned."""
        return (*self.sources, self.derived)


@dataclass(frozen=True)
class WorkerCodecs:
    """How source envelopes are decoded and chain/alert records encoded on the wire."""

    decode_event: Callable[[Incoming], Event]
    """A source record's Envelope as a domain event (JSON-native payload)."""
    encode_chain: RecordEncoder
    encode_alert: RecordEncoder


@dataclass(frozen=True, slots=True)
class Output:
    """One record to send."""

    topic: str
    key: bytes | None
    value: bytes | None
    headers: Headers | None = None


class Engine(Protocol):
    """A stream engine running the worker until it is told to stop (SIGTERM/SIGINT)."""

    name: str

    def run(self) -> None: ...


def state_dir(settings: Settings) -> Path:
    """This worker process's local state: one folder per app, engine and instance."""
    ws = settings.worker
    return (settings.home / "worker" / ws.app_id / ws.engine / ws.instance).resolve()


def chain_limits(ws: WorkerSettings) -> ChainLimits:
    """The processor's size limits from the worker settings."""
    return ChainLimits(ws.max_field_bytes, ws.max_event_bytes, ws.max_chain_bytes)


def now_ms() -> int:
    return int(time.time() * 1000)


class RecordIO:
    """Decodes what the worker reads and encodes what it sends."""

    def __init__(
        self,
        topics: WorkerTopics,
        codecs: WorkerCodecs,
        plant: str,
        max_dead_letter_bytes: int = WorkerSettings().max_event_bytes,
    ) -> None:
        self.topics = topics
        self.codecs = codecs
        self.plant = plant
        self.max_dead_letter_bytes = max_dead_letter_bytes

    def decode(self, record: Incoming) -> Event:
        """A domain event from a source envelope or a derived event (the processor's decoder)."""
        if record.topic == self.topics.derived:
            return state.decode_event(record.value or b"")
        return self.codecs.decode_event(record)

    def outputs(self, result: StepResult) -> list[Output]:
        """Chains, alerts, genealogy messages and dead letters of one processed buffer."""
        out = [self.chain(view) for view in result.views]
        topics = self.topics
        for alert in result.alerts:
            value = self.codecs.encode_alert(alert_record(alert))
            out.append(Output(topics.alerts, alert.batch_code.encode(), value))
        for message in result.genealogy:
            value = state.encode_message(message)
            out.append(Output(topics.genealogy, message.lot_code.encode(), value))
        out.extend(self.dead_letter(letter) for letter in result.dead_letters)
        return out

    def chain(self, view: ChainView) -> Output:
        key = view.batch_code.encode()
        try:
            value = self.codecs.encode_chain(chain_value(view))
        except Exception as exc:  # a chain that cannot be encoded is a bug; keep going
            log.exception("cannot encode chain %s", view.batch_code)
            record = Incoming(key, None, self.topics.chain, -1, -1)
            return self.dead_letter(DeadLetter(record, f"chain not encodable: {exc}"))
        if len(value) > MAX_RECORD_BYTES:  # the chain limit should prevent it; never crash on it
            log.error("chain record of %s is %d bytes: not sent", view.batch_code, len(value))
            record = Incoming(key, None, self.topics.chain, -1, -1)
            reason = f"chain record of {len(value)} bytes exceeds {MAX_RECORD_BYTES} bytes"
            return self.dead_letter(DeadLetter(record, reason))
        return Output(self.topics.chain, key, value)

    def dead_letter(self, letter: DeadLetter) -> Output:
        record = letter.record
        value = record.value
        if value is not None and len(value) > self.max_dead_letter_bytes:
            reason = f"{letter.reason}; value of {len(value)} bytes not kept in the dead letter"
            letter = DeadLetter(record, reason, letter.stage)
            value = None
        log.warning("dead letter from %s: %s", record.origin.describe(), letter.reason)
        return Output(self.topics.dead_letter, record.key, value, dead_letter_headers(letter))

    def derived(self, event: Event) -> Output:
        """An event the worker derived for a batch (inherited hold, reconciliation due)."""
        return Output(self.topics.derived, event.batch_code.encode(), state.encode_event(event))

    def reconciliation_due(self, batch_code: str, at_ms: int) -> Output:
        due = gen.reconciliation_due_event(batch_code, self.plant, state.from_millis(at_ms))
        return self.derived(due)
