"""One mapping's table -> acknowledged events, then the watermark or outbox update.

A step reads one batch of rows (:mod:`producers.dbpoll.reading`), converts each to an envelope
or a dead letter (:mod:`producers.dbpoll.deadletters`), publishes them all and waits for the
broker's acknowledgement, and only then advances the watermark or deletes/stamps the outbox rows.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Table, and_, bindparam, delete, update
from sqlalchemy.exc import SQLAlchemyError

from producers.base import Publisher, SourceAdapter
from producers.dbpoll.deadletters import (
    DeadLetterContext,
    dead_letter,
    is_oversize,
    oversize_letter,
)
from producers.dbpoll.reading import SourceRow, identity_columns, read_batch, reflect_table
from producers.dbpoll.watermarks import WatermarkStore
from producers.mapping import (
    Converted,
    DbSource,
    RowConverter,
    RowRejected,
    SourceMapping,
    derived_event_id,
    evaluate,
)
from tracesync.contracts.serde import EnvelopeSerde
from tracesync.errors import ConfigurationError, InfrastructureError
from tracesync.publisher import OutboundRecord, PartialDeliveryError
from tracesync.topics import TopicCatalog


@dataclass(frozen=True)
class StepResult:
    """What one step did: rows read, published, dead-lettered."""

    rows: int
    published: int
    dead_lettered: int

    def __add__(self, other: StepResult) -> StepResult:
        return StepResult(
            self.rows + other.rows,
            self.published + other.published,
            self.dead_lettered + other.dead_lettered,
        )


class DbChangeCapture(SourceAdapter):
    """One mapping's table -> acknowledged events, then watermark / outbox update."""

    kind = "db"

    def __init__(
        self,
        mapping: SourceMapping,
        engine: Engine,
        publisher: Publisher,
        serde: EnvelopeSerde,
        topics: TopicCatalog,
        *,
        watermarks: WatermarkStore,
        plant: str,
        batch_size: int = 500,
    ) -> None:
        super().__init__(publisher, serde, topics.source_topic)
        if mapping.db is None:
            raise ConfigurationError(f"mapping {mapping.path} has no [db] table")
        self.mapping = mapping
        self.source: DbSource = mapping.db
        self.engine = engine
        self.watermarks = watermarks
        self.batch_size = batch_size
        self.dead_letter_topic = topics.dlq("ingest")
        self.converter = RowConverter(mapping.events, serde, plant)
        self.table: Table = reflect_table(mapping, engine)

    @property
    def state_key(self) -> str:
        return f"{self.mapping.name}:{self.source.table}:{self.source.watermark_column}"

    def step(self) -> StepResult:
        """Read one batch, publish it (acknowledged), then advance the watermark / outbox."""
        mark = self.watermarks.get(self.state_key) if self.source.mode == "poll" else None
        rows = read_batch(self.engine, self.table, self.source, mark, self.batch_size)
        if not rows:
            return StepResult(0, 0, 0)
        records, published, dead = self._records(rows)
        try:
            self.publisher.publish(records)  # raises unless the broker acknowledged every record
        except PartialDeliveryError as exc:
            too_large = self._set_aside_oversize(exc, rows, records)
            published, dead = published - too_large, dead + too_large
        self._mark_done([row.values for row in rows])
        return StepResult(len(rows), published, dead)

    def drain(self, stop: threading.Event | None = None) -> StepResult:
        """Steps until the source has no unread rows (or ``stop`` is set)."""
        total = StepResult(0, 0, 0)
        while stop is None or not stop.is_set():
            result = self.step()
            if result.rows == 0:
                break
            total = total + result
        return total

    # -- converting ---------------------------------------------------------------------------

    def row_key(self, row: Mapping[str, Any]) -> str:
        return "/".join(str(row[k]) for k in self.source.key_columns)

    def event_id(self, row: Mapping[str, Any]) -> str:
        seq = evaluate(self.mapping.events.envelope["source_seq"], row, "source_seq", [])
        system = self.mapping.source_system
        return derived_event_id("db", system, self.source.table, self.row_key(row), seq)

    def _records(self, rows: Sequence[SourceRow]) -> tuple[list[OutboundRecord], int, int]:
        records: list[OutboundRecord] = []
        dead = 0
        system = self.mapping.source_system
        for row in rows:
            outcome = self._unreadable(row) or self.converter.convert(
                row.values, self.event_id(row.values)
            )
            if isinstance(outcome, Converted):
                records.append(self.record_for(outcome.envelope, system, outcome.batch_code))
                continue
            columns = [c for c, _ in row.unreadable if c in row.values]
            columns = columns or self.mapping.events.columns_for(outcome.errors[0][0])
            records.append(
                dead_letter(
                    row.values,
                    outcome,
                    DeadLetterContext(self.dead_letter_topic, self.mapping, columns),
                    row_key=self.row_key(row.values),
                    event_id=self.event_id(row.values),
                )
            )
            dead += 1
        return records, len(rows) - dead, dead

    def _unreadable(self, row: SourceRow) -> RowRejected | None:
        """The rejection of a row whose cells the mapping reads are not of their column's type
        (an unreadable cell the mapping does not read is left out of the row)."""
        used = self.mapping.events.columns()
        bad = [(column, reason) for column, reason in row.unreadable if column in used]
        for column, _ in row.unreadable:
            if column not in used:
                row.values.pop(column, None)
        if not bad:
            return None
        errors = []
        for column, reason in bad:
            fields = self.mapping.events.fields_reading(column) or [column]
            errors += [(f, f"column {column}: {reason}") for f in fields]
        code = evaluate(self.mapping.events.envelope["batch_code"], row.values, "batch_code", [])
        return RowRejected(tuple(errors), code if isinstance(code, str) and code else None)

    def _set_aside_oversize(
        self,
        failed: PartialDeliveryError,
        rows: Sequence[SourceRow],
        records: Sequence[OutboundRecord],
    ) -> int:
        """Dead-letter the rows whose records the broker refused as too large (re-raise when any
        failure could succeed on a retry); how many events became dead letters."""
        if not all(is_oversize(failure.reason) for _, failure in failed.failures):
            raise failed
        letters, events = [], 0
        identity = identity_columns(self.source)
        for index, failure in failed.failures:
            values = rows[index].values
            code = evaluate(self.mapping.events.envelope["batch_code"], values, "batch_code", [])
            letters.append(
                oversize_letter(
                    {name: values[name] for name in identity},
                    failure.reason,
                    DeadLetterContext(self.dead_letter_topic, self.mapping, ()),
                    row_key=self.row_key(values),
                    event_id=self.event_id(values),
                    batch_code=code if isinstance(code, str) and code else None,
                )
            )
            if records[index].topic != self.dead_letter_topic:
                events += 1
        self.publisher.publish(letters)
        return events

    # -- after the acknowledgement ------------------------------------------------------------

    def _mark_done(self, rows: Sequence[Mapping[str, Any]]) -> None:
        if self.source.mode == "poll":
            column = str(self.source.watermark_column)
            self.watermarks.set(self.state_key, rows[-1][column])
            return
        keys = self.source.key_columns
        match = and_(*(self.table.c[k] == bindparam(f"key_{k}") for k in keys))
        params = [{f"key_{k}": row[k] for k in keys} for row in rows]
        if self.source.on_published == "delete":
            statement: Any = delete(self.table).where(match)
        else:
            now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
            statement = (
                update(self.table).where(match).values({str(self.source.published_column): now})
            )
        try:
            with self.engine.begin() as conn:
                conn.execute(statement, params)
        except SQLAlchemyError as exc:
            raise InfrastructureError(f"cannot update outbox {self.source.table}: {exc}") from exc
