"""The dead-letter convention shared by every stage: header names, building and reading them.

A dead-lettered record keeps its original key and value; its headers say why (``dlq.reason``),
where it failed (``dlq.stage``) and where it was read (``dlq.topic``, ``dlq.partition``,
``dlq.offset``). Stages may add headers of their own under the ``dlq.`` prefix (the targets sink
adds ``dlq.route``). A redriven record carries ``dlq.redriven`` = how many times it was redriven.

:data:`CONVENTION` lists every header with its format, who sets it and whether every
dead letter has it; it is released with the schemas (``avro/released/v<n>/DeadLetterHeaders.json``,
checked by :mod:`tracesync.contracts.deadletter_contract`) and documented in docs/asyncapi.yaml.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from tracesync.errors import RecordOrigin

REASON = "dlq.reason"
STAGE = "dlq.stage"
TOPIC = "dlq.topic"
PARTITION = "dlq.partition"
OFFSET = "dlq.offset"
ROUTE = "dlq.route"
TARGET = "dlq.target"
NOTICE_KEY = "dlq.key"
REDRIVEN = "dlq.redriven"
PREFIX = "dlq."

_KAFKA_STAGES = ("streams", "sinks.store", "targets")
_ROW_STAGE = ("ingest",)


@dataclass(frozen=True)
class HeaderSpec:
    """One header of the dead-letter convention, as consumers of a ``dlq.*`` topic see it.

    ``format``: ``text`` (UTF-8), ``integer`` (decimal digits as UTF-8) or ``json`` (UTF-8 JSON).
    ``required``: every dead letter carries it, whatever its stage. ``set_by``: the stages (and
    ``redrive``) that write it.
    """

    name: str
    format: str
    required: bool
    set_by: tuple[str, ...]
    doc: str


CONVENTION: tuple[HeaderSpec, ...] = (
    HeaderSpec(REASON, "text", True, (*_ROW_STAGE, *_KAFKA_STAGES), "Why the record failed."),
    HeaderSpec(
        STAGE,
        "text",
        True,
        (*_ROW_STAGE, *_KAFKA_STAGES),
        "Where it failed: ingest, streams, sinks.store[.decode|.write] or targets.",
    ),
    HeaderSpec(
        TOPIC,
        "text",
        False,
        _KAFKA_STAGES,
        "Topic the record was read from (where a redrive sends it); absent for rows of a source "
        "database that never reached a topic.",
    ),
    HeaderSpec(PARTITION, "integer", False, _KAFKA_STAGES, "Partition it was read from."),
    HeaderSpec(OFFSET, "integer", False, _KAFKA_STAGES, "Offset it was read at."),
    HeaderSpec(
        REDRIVEN,
        "integer",
        False,
        ("redrive", "targets"),
        "How many times the record was redriven; `tracesync dlq redrive` sets it on the record it "
        "sends back to its topic, the targets sink keeps it on a record that fails again.",
    ),
    HeaderSpec(ROUTE, "text", False, ("targets",), "Route of the target-system call that failed."),
    HeaderSpec(TARGET, "text", False, ("targets",), "Target system of that route."),
    HeaderSpec(NOTICE_KEY, "text", False, ("targets",), "Idempotency key of the failed notice."),
    HeaderSpec(
        "dlq.adapter", "text", False, _ROW_STAGE, "Ingest adapter that refused the row (db)."
    ),
    HeaderSpec("dlq.field", "text", False, _ROW_STAGE, "First field of the row that was refused."),
    HeaderSpec(
        "dlq.errors", "json", False, _ROW_STAGE, "Every refused field: [[field, reason], ...]."
    ),
    HeaderSpec("dlq.mapping", "text", False, _ROW_STAGE, "Mapping the row was read with."),
    HeaderSpec("dlq.table", "text", False, _ROW_STAGE, "Source table of the row."),
    HeaderSpec("dlq.row", "text", False, _ROW_STAGE, "Key of the row in its table."),
    HeaderSpec("dlq.event_id", "text", False, _ROW_STAGE, "Event id the row would have had."),
)
"""Every ``dlq.*`` header a dead letter may carry. The value is the original record's value and the
key its original key (for a refused source-database row: the row as JSON, keyed by batch code)."""

Headers = list[tuple[str, bytes]]


class _Origin(Protocol):
    @property
    def topic(self) -> str: ...

    @property
    def partition(self) -> int: ...

    @property
    def offset(self) -> int: ...


class _Letter(Protocol):
    @property
    def record(self) -> _Origin: ...

    @property
    def reason(self) -> str: ...

    @property
    def stage(self) -> str: ...


def build_headers(
    reason: str, stage: str, origin: RecordOrigin, extra: Mapping[str, str] | None = None
) -> Headers:
    """The dead-letter headers of a record read at ``origin``; ``extra`` adds ``dlq.*`` ones."""
    headers = [
        (REASON, reason.encode()),
        (STAGE, stage.encode()),
        (TOPIC, (origin.topic or "").encode()),
        (PARTITION, str(origin.partition).encode()),
        (OFFSET, str(origin.offset).encode()),
    ]
    headers.extend((name, value.encode()) for name, value in (extra or {}).items())
    return headers


def dead_letter_headers(letter: _Letter) -> Headers:
    """The headers of a stream worker's dead letter (anything with record, reason and stage)."""
    read = letter.record
    origin = RecordOrigin(read.topic, read.partition, read.offset)
    return build_headers(letter.reason, letter.stage, origin)


@dataclass(frozen=True)
class DeadLetterInfo:
    """What the headers of a dead-lettered record say."""

    reason: str
    stage: str
    topic: str | None
    partition: int | None
    offset: int | None
    redriven: int = 0
    extra: Mapping[str, str] = field(default_factory=dict)
    passthrough: tuple[tuple[str, bytes], ...] = ()
    """Headers outside the ``dlq.`` convention, to be kept on a redriven record."""

    def origin(self) -> str:
        if self.topic is None:
            return "<no origin>"
        return f"{self.topic}[{self.partition}]@{self.offset}"


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


RawHeaders = Sequence[tuple[str, str | bytes | None]] | Mapping[str, str | bytes | None] | None


def normalize(headers: RawHeaders) -> Headers:
    """Headers as confluent-kafka hands them over (list, dict or None) as (name, bytes) pairs."""
    pairs = headers.items() if isinstance(headers, Mapping) else (headers or ())
    return [
        (name, value.encode() if isinstance(value, str) else (value or b""))
        for name, value in pairs
    ]


def parse_headers(headers: RawHeaders) -> DeadLetterInfo:
    """Read the dead-letter headers of a record (missing ones are empty or None)."""
    own: dict[str, str] = {}
    passthrough: list[tuple[str, bytes]] = []
    for name, value in normalize(headers):
        if name.startswith(PREFIX):
            own[name] = value.decode("utf-8", "replace")
        else:
            passthrough.append((name, value))
    known = {REASON, STAGE, TOPIC, PARTITION, OFFSET, REDRIVEN}
    return DeadLetterInfo(
        reason=own.get(REASON, ""),
        stage=own.get(STAGE, ""),
        topic=own.get(TOPIC) or None,
        partition=_int_or_none(own.get(PARTITION)),
        offset=_int_or_none(own.get(OFFSET)),
        redriven=_int_or_none(own.get(REDRIVEN)) or 0,
        extra={k: v for k, v in own.items() if k not in known},
        passthrough=tuple(passthrough),
    )


def redriven_count(headers: RawHeaders) -> int:
    """How many times a consumed record was redriven (0 when it never was)."""
    for name, value in normalize(headers):
        if name == REDRIVEN:
            return _int_or_none(value.decode("utf-8", "replace")) or 0
    return 0
