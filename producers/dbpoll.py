"""Database change capture: ``tracesync ingest db --mapping FILE`` as a Kafka source adapter.

Each mapping (:mod:`producers.mapping`) names one table of a source database, read through
SQLAlchemy, in one of two modes:

* ``poll``: rows whose ``watermark_column`` (an auto-increment id or a change sequence; strictly
  increasing and unique) is above the stored watermark, in that order. The watermark is kept in
  a SQLite file, ``<settings.home>/ingest/dbpoll-watermarks.db`` (one row per mapping name), and
  only advanced after the broker acknowledged every event of the batch. The column must be
  assigned in commit order: with concurrent writers whose ids commit out of order, use ``outbox``.
* ``outbox``: all rows of a transactional outbox table, oldest key first; after the broker
  acknowledged them they are deleted (``on_published = "delete"``) or stamped
  (``published_column`` set to now, ``on_published = "mark"``; only unstamped rows are read).

Every row becomes one Envelope with a deterministic event id, uuid5 of (system, table, row key,
source_seq): a crash between the broker's acknowledgement and the watermark/outbox update only
re-sends the same events, which the idempotent merge downstream ignores. A row that is not a valid
Envelope goes to ``dlq.ingest`` (value: the row as JSON; headers: reason, field, mapping, table,
row key) and the adapter goes on; it counts as handled, so the watermark moves past it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import (
    Engine,
    MetaData,
    Table,
    and_,
    bindparam,
    create_engine,
    delete,
    select,
    update,
)
from sqlalchemy.exc import SQLAlchemyError

from producers.base import Publisher, SourceAdapter
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
from tracesync.errors import ConfigurationError, InfrastructureError, TracesyncError
from tracesync.publisher import OutboundRecord
from tracesync.settings import Settings
from tracesync.topics import TopicCatalog

log = logging.getLogger(__name__)

WATERMARK_FILE = "dbpoll-watermarks.db"


# -- the durable watermark ------------------------------------------------------------------


class WatermarkStore:
    """Last handled watermark value per mapping, in a small SQLite file (committed per step)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # a committed watermark survives power loss
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS watermarks (source TEXT PRIMARY KEY, "
            "value TEXT NOT NULL, updated_at TEXT NOT NULL)"
        )

    def get(self, source: str) -> Any:
        row = self._db.execute(
            "SELECT value FROM watermarks WHERE source = ?", (source,)
        ).fetchone()
        return None if row is None else _decode_watermark(row[0])

    def set(self, source: str, value: Any) -> None:
        self._db.execute(
            "INSERT INTO watermarks (source, value, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (source) DO UPDATE SET value = excluded.value, "
            "updated_at = excluded.updated_at",
            (source, _encode_watermark(value), dt.datetime.now(dt.UTC).isoformat()),
        )

    def close(self) -> None:
        self._db.close()


def _encode_watermark(value: Any) -> str:
    if isinstance(value, bool):
        raise ConfigurationError(f"watermark column holds a boolean ({value!r})")
    if isinstance(value, int):
        return json.dumps({"int": value})
    if isinstance(value, Decimal):
        return json.dumps({"decimal": str(value)})
    if isinstance(value, dt.datetime):
        return json.dumps({"datetime": value.isoformat()})
    if isinstance(value, str):
        return json.dumps({"str": value})
    raise ConfigurationError(f"cannot keep a watermark of type {type(value).__name__}")


def _decode_watermark(text: str) -> Any:
    ((kind, value),) = json.loads(text).items()
    if kind == "decimal":
        return Decimal(value)
    if kind == "datetime":
        return dt.datetime.fromisoformat(value)
    return value


# -- the adapter ----------------------------------------------------------------------------


@dataclass(frozen=True)
class StepResult:
    """What one step did: rows read, published, dead-lettered."""

    rows: int
    published: int
    dead_lettered: int


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
        self.table = self._reflect()

    @property
    def state_key(self) -> str:
        return f"{self.mapping.name}:{self.source.table}:{self.source.watermark_column}"

    def _reflect(self) -> Table:
        try:
            table = Table(
                self.source.table, MetaData(), schema=self.source.schema, autoload_with=self.engine
            )
        except SQLAlchemyError as exc:
            raise InfrastructureError(
                f"cannot read table {self.source.table} for mapping {self.mapping.name}: {exc}"
            ) from exc
        needed = [*self.source.key_columns]
        needed += [c for c in (self.source.watermark_column, self.source.published_column) if c]
        missing = [c for c in needed if c not in table.c]
        if missing:
            raise ConfigurationError(
                f"mapping {self.mapping.path}: table {self.source.table} has no column(s) "
                f"{', '.join(missing)}"
            )
        return table

    def step(self) -> StepResult:
        """Read one batch, publish it (acknowledged), then advance the watermark / outbox."""
        rows = self._read()
        if not rows:
            return StepResult(0, 0, 0)
        records, published, dead = self._records(rows)
        self.publisher.publish(records)  # raises unless the broker acknowledged every record
        self._mark_done(rows)
        return StepResult(len(rows), published, dead)

    def drain(self, stop: threading.Event | None = None) -> StepResult:
        """Steps until the source has no unread rows (or ``stop`` is set)."""
        total = StepResult(0, 0, 0)
        while stop is None or not stop.is_set():
            result = self.step()
            if result.rows == 0:
                break
            total = StepResult(
                total.rows + result.rows,
                total.published + result.published,
                total.dead_lettered + result.dead_lettered,
            )
        return total

    # -- reading ------------------------------------------------------------------------------

    def _read(self) -> list[dict[str, Any]]:
        query = select(self.table)
        if self.source.mode == "poll":
            column = self.table.c[str(self.source.watermark_column)]
            mark = self.watermarks.get(self.state_key)
            if mark is not None:
                query = query.where(column > mark)
            query = query.order_by(column)
        else:
            if self.source.on_published == "mark":
                query = query.where(self.table.c[str(self.source.published_column)].is_(None))
            query = query.order_by(*(self.table.c[k] for k in self.source.key_columns))
        try:
            with self.engine.connect() as conn:
                return [dict(r._mapping) for r in conn.execute(query.limit(self.batch_size))]
        except SQLAlchemyError as exc:
            raise InfrastructureError(f"cannot read {self.source.table}: {exc}") from exc

    # -- converting ---------------------------------------------------------------------------

    def row_key(self, row: Mapping[str, Any]) -> str:
        return "/".join(str(row[k]) for k in self.source.key_columns)

    def event_id(self, row: Mapping[str, Any]) -> str:
        seq = evaluate(self.mapping.events.envelope["source_seq"], row, "source_seq", [])
        system = self.mapping.source_system
        return derived_event_id("db", system, self.source.table, self.row_key(row), seq)

    def _records(self, rows: Sequence[Mapping[str, Any]]) -> tuple[list[OutboundRecord], int, int]:
        records: list[OutboundRecord] = []
        dead = 0
        for row in rows:
            outcome = self.converter.convert(row, self.event_id(row))
            if isinstance(outcome, Converted):
                records.append(
                    self.record_for(
                        outcome.envelope, self.mapping.source_system, outcome.batch_code
                    )
                )
            else:
                records.append(self.dead_letter(row, outcome))
                dead += 1
        return records, len(rows) - dead, dead

    def dead_letter(self, row: Mapping[str, Any], rejected: RowRejected) -> OutboundRecord:
        """The ``dlq.ingest`` record of a bad row: the row as JSON, the reason in headers."""
        key = self.row_key(row)
        log.warning("row %s of %s dead-lettered: %s", key, self.source.table, rejected.reason())
        headers = (
            ("dlq.reason", rejected.reason().encode()),
            ("dlq.stage", b"ingest"),
            ("dlq.adapter", self.kind.encode()),
            ("dlq.field", rejected.errors[0][0].encode()),
            ("dlq.errors", orjson.dumps([list(e) for e in rejected.errors])),
            ("dlq.mapping", self.mapping.name.encode()),
            ("dlq.table", self.source.table.encode()),
            ("dlq.row", key.encode()),
            ("dlq.event_id", self.event_id(row).encode()),
        )
        value = orjson.dumps(dict(row), default=str, option=orjson.OPT_NON_STR_KEYS)
        return OutboundRecord(
            topic=self.dead_letter_topic,
            key=(rejected.batch_code or key).encode(),
            value=value,
            headers=headers,
        )

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


# -- running --------------------------------------------------------------------------------


def source_url(mapping: SourceMapping, settings: Settings, override: str | None) -> str:
    """The source database of a mapping: ``--url``, then settings, then the file's ``url``."""
    if override:
        return override
    configured = settings.ingest_db.source_urls.get(mapping.name)
    if configured is not None:
        return configured.get_secret_value()
    if mapping.db is not None and mapping.db.url:
        return mapping.db.url
    raise ConfigurationError(
        f"no database for mapping {mapping.name}: pass --url, set "
        f"TRACESYNC_INGEST_DB__SOURCE_URLS__{mapping.name} or [db] url in {mapping.path}"
    )


def run(
    adapters: Sequence[DbChangeCapture],
    stop: threading.Event,
    interval_s: float,
    backoff_s: float,
    once: bool = False,
) -> StepResult:
    """Poll every adapter until ``stop`` (or, with ``once``, until all are drained)."""
    total = StepResult(0, 0, 0)
    started = time.monotonic()
    while not stop.is_set():
        busy = False
        for adapter in adapters:
            try:
                result = adapter.step()
            except TracesyncError as exc:
                if once:
                    raise
                log.error("%s: step failed, retrying: %s", adapter.mapping.name, exc)
                stop.wait(backoff_s)
                continue
            busy = busy or result.rows > 0
            total = StepResult(
                total.rows + result.rows,
                total.published + result.published,
                total.dead_lettered + result.dead_lettered,
            )
        if not busy:
            if once:
                break
            stop.wait(interval_s)
    elapsed = time.monotonic() - started
    log.info(
        "db ingest: %d rows, %d published, %d dead-lettered in %.2fs (%.0f rows/s)",
        total.rows,
        total.published,
        total.dead_lettered,
        elapsed,
        total.rows / elapsed if elapsed > 0 else 0.0,
    )
    return total


def engine_for(url: str) -> Engine:
    try:
        return create_engine(url, pool_pre_ping=True)
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise ConfigurationError(f"bad source database URL: {exc}") from exc
