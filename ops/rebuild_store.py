"""Rebuild the trace store from the compacted chain topic, then switch over in one transaction.

1. **Build** a fresh store beside the live one (SQLite: a new file; PostgreSQL: a new schema in
   the same database) from the chain topic, read to the end offsets taken at the start, as a
   bulk load (:mod:`sinks.store.bulk_load`: secondary indexes created after the load, plain
   inserts or COPY for batches met the first time, the version guard for those met again). A
   first, cheap read of the records' heads (batch code and version) finds every batch's newest
   record, so only those are decoded and written.
2. **Keep** the live content for rollback (SQLite: ``VACUUM INTO`` a named file; PostgreSQL: a
   named schema with a copy of every table).
3. **Switch**: one transaction replaces the live tables' rows with the rebuilt ones. A live store
   sink keeps running: it waits for the transaction's lock (on SQLite it backs off and retries),
   then goes on writing into the same tables. The alerts table is not derived from the chain
   topic and is left as it is.
4. **Catch up**: what the chain topic received since the build's end offsets is written to the
   live store, so nothing the live sink wrote between the build and the switch is lost (writes
   are version-guarded, so writing a chain twice changes nothing).

``rollback`` switches the kept content back in with the same transaction.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, Engine, Table, make_url, text

from ops.chain_topic import ChainTopicReader, Decoder, newest_positions
from sinks.store import schema
from sinks.store.bulk_load import BulkLoader
from sinks.store.database import TraceStore, create_store_engine, migrate, open_store
from sinks.store.rows import ChainRows, chain_rows
from tracesync.errors import ConfigurationError
from tracesync.settings import KafkaSettings

Progress = Callable[[int, int, float], None]
"""Called with (records read, records to read, seconds since the start)."""

_CHUNK = 5000
Write = Callable[[list[ChainRows]], int]
"""Writes chain rows in one transaction; how many batch rows it wrote."""
DERIVED_TABLES: tuple[Table, ...] = tuple(
    t for t in schema.metadata.sorted_tables if t.name != schema.alerts.name
)


@dataclass
class RebuildResult:
    chains_written: int = 0
    records_read: int = 0
    caught_up: int = 0
    seconds: float = 0.0
    build_seconds: float = 0.0
    kept_as: str = ""
    undecodable: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.records_read / self.seconds if self.seconds else 0.0

    @property
    def build_rate(self) -> float:
        """Records read per second of the build alone (no keeping, switching, catching up)."""
        return self.records_read / self.build_seconds if self.build_seconds else 0.0


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%d%H%M%S")


class StoreLocation:
    """The live store and where its rebuilt and kept copies live, per dialect."""

    def __init__(self, live_url: str, stamp: str) -> None:
        self.live_url = live_url
        self.url = make_url(live_url)
        self.dialect = self.url.get_backend_name()
        if self.dialect not in ("sqlite", "postgresql"):
            raise ConfigurationError(
                f"store rebuild supports SQLite and PostgreSQL, not {self.dialect}"
            )
        self.stamp = stamp

    def side(self, kind: str) -> str:
        """A file path (SQLite) or schema name (PostgreSQL) for ``kind`` (rebuild, kept)."""
        if self.dialect == "sqlite":
            live = Path(self.url.database or "")
            return str(live.with_name(f"{live.stem}.{kind}-{self.stamp}{live.suffix}"))
        return f"tracesync_{kind}_{self.stamp}"

    def side_engine(self, name: str) -> Engine:
        if self.dialect == "sqlite":
            return create_store_engine(f"sqlite:///{name}")
        _execute(self.live_url, f'CREATE SCHEMA IF NOT EXISTS "{name}"')
        url = self.url.update_query_dict({"options": f"-csearch_path={name}"})
        return create_store_engine(url.render_as_string(hide_password=False))


def _write_all(write: Write, reader: ChainTopicReader, progress: Progress | None) -> int:
    """Write what ``reader`` reads, chunk by chunk, in order; one chunk is written (by a thread:
    the database or SQLite's C code runs without the GIL) while the next is read and decoded."""
    began = time.monotonic()
    written = 0
    pending: Future[int] | None = None
    with ThreadPoolExecutor(1, thread_name_prefix="rebuild-writer") as writer:
        for batch in reader.batches():
            for start in range(0, len(batch), _CHUNK):
                stored_at = datetime.now(UTC)
                rows = [chain_rows(r, stored_at) for r in batch[start : start + _CHUNK]]
                if pending is not None:
                    written += pending.result()
                pending = writer.submit(write, rows)
            if progress is not None:
                progress(reader.read, reader.total, time.monotonic() - began)
        if pending is not None:
            written += pending.result()
    return written


@contextmanager
def _attached(conn: Connection, location: StoreLocation, source: str) -> Iterator[str]:
    """The qualifier of ``source``'s tables inside ``conn`` (SQLite attaches the file)."""
    if location.dialect == "sqlite":
        # outside a transaction: SQLite refuses to attach or detach inside one
        conn.exec_driver_sql(f"ATTACH DATABASE '{source}' AS side")
        conn.commit()
        try:
            yield "side"
        finally:
            conn.exec_driver_sql("DETACH DATABASE side")
            conn.commit()
    else:
        yield f'"{source}"'


def switch_in(live: Engine, location: StoreLocation, source: str) -> None:
    """One transaction: every derived table's live rows replaced by ``source``'s."""
    with live.connect() as conn, _attached(conn, location, source) as side, conn.begin():
        for table in reversed(DERIVED_TABLES):
            conn.execute(table.delete())
        for table in DERIVED_TABLES:
            columns = ", ".join(f'"{c.name}"' for c in table.columns)
            # names from the store's own schema, never from input
            insert = f'INSERT INTO "{table.name}" ({columns}) SELECT {columns} FROM {side}.'  # noqa: S608
            conn.exec_driver_sql(insert + f'"{table.name}"')


def keep_live(live: Engine, location: StoreLocation) -> str:
    """Copy the live store aside for rollback; returns the copy's name."""
    kept = location.side("before-rebuild" if location.dialect == "sqlite" else "kept")
    with live.connect() as conn:
        if location.dialect == "sqlite":
            conn.exec_driver_sql(f"VACUUM INTO '{kept}'")
            conn.commit()
            return kept
        with conn.begin():
            conn.exec_driver_sql(f'CREATE SCHEMA "{kept}"')
            for table in schema.metadata.sorted_tables:
                conn.exec_driver_sql(
                    f'CREATE TABLE "{kept}"."{table.name}" AS TABLE "{table.name}"'
                )
    return kept


def drop_side(location: StoreLocation, name: str) -> None:
    if location.dialect == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(name + suffix).unlink(missing_ok=True)
        return
    _execute(location.live_url, f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def _execute(url: str, statement: str) -> None:
    """One statement on its own short-lived engine (disposed: no connection left open)."""
    engine = create_store_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


def rebuild_store(
    kafka: KafkaSettings,
    topic: str,
    decode: Decoder,
    live_url: str,
    progress: Progress | None = None,
    *,
    head: Decoder | None = None,
) -> RebuildResult:
    """Build from ``topic``, keep the live content, switch over, catch up. See the module doc.

    With ``head`` (a decoder of ``batch_code`` and ``version`` alone), a first read of the topic
    finds every batch's newest record, and only those are decoded and written."""
    location = StoreLocation(live_url, _stamp())
    live = open_store(live_url)
    rebuilt_name = location.side("rebuild")
    side = location.side_engine(rebuilt_name)
    result = RebuildResult()
    began = time.monotonic()
    try:
        migrate(side)
        source = ChainSource(kafka, topic, decode, head)
        result.chains_written, reader = _build(source, TraceStore(side), progress)
        result.records_read, result.undecodable = reader.read, reader.undecodable
        result.build_seconds = time.monotonic() - began
        side.dispose()  # SQLite: checkpoint and close the file before it is attached
        result.kept_as = keep_live(live.engine, location)
        switch_in(live.engine, location, rebuilt_name)
        result.caught_up = _catch_up(kafka, topic, decode, live, reader.ends)
    finally:
        side.dispose()
        drop_side(location, rebuilt_name)
        live.engine.dispose()
    result.seconds = time.monotonic() - began
    return result


@dataclass(frozen=True)
class ChainSource:
    """The chain topic and its decoders: the whole record, and (optionally) its head only."""

    kafka: KafkaSettings
    topic: str
    decode: Decoder
    head: Decoder | None = None

    def reader(self) -> ChainTopicReader:
        """A reader of the topic to its current end; with ``head``, it decodes only the records
        a first read of the heads found to be their batch's newest."""
        if self.head is None:
            return ChainTopicReader(self.kafka, self.topic, self.decode)
        ends, wanted = newest_positions(self.kafka, self.topic, self.head)
        return ChainTopicReader(
            self.kafka, self.topic, self.decode, ends=ends, keep=lambda p, o: (p, o) in wanted
        )


def _build(
    source: ChainSource, side: TraceStore, progress: Progress | None
) -> tuple[int, ChainTopicReader]:
    """Bulk-load the topic into the fresh ``side`` store; chains written, and the reader."""
    loader = BulkLoader(side)
    loader.start()
    reader = source.reader()
    try:
        written = _write_all(loader.write, reader, progress)
    finally:
        reader.close()
    loader.finish()
    return written, reader


def _catch_up(
    kafka: KafkaSettings, topic: str, decode: Decoder, live: TraceStore, ends: dict[int, int]
) -> int:
    reader = ChainTopicReader(kafka, topic, decode, start=ends)
    try:
        return _write_all(lambda rows: live.write(rows).written, reader, None)
    finally:
        reader.close()


def rollback(live_url: str, kept: str) -> None:
    """Switch the content kept by a rebuild back in (the rebuilt content is discarded)."""
    location = StoreLocation(live_url, _stamp())
    if location.dialect == "sqlite" and not Path(kept).is_file():
        raise ConfigurationError(f"no kept store at {kept}")
    live = create_store_engine(live_url)
    try:
        switch_in(live, location, kept)
    finally:
        live.dispose()
