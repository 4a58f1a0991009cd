"""Filling a fresh trace store fast: the build phase of ``tracesync store rebuild``.

A rebuild writes into a store nobody else writes to, so most of what makes a live write safe is
work without effect there. :class:`BulkLoader`:

- drops the secondary indexes before the load and creates them once at the end (one sort per
  index instead of a B-tree insert per row);
- writes a batch seen for the first time with plain inserts (PostgreSQL: ``COPY`` straight into
  the table): there is no stored version to guard against and no child row to delete. A batch
  met again (an older or newer version later in the topic) goes through the store's own
  version-guarded write, so the newest version wins whatever the order of the records;
- on SQLite, commits without waiting for the disk (``synchronous=OFF``): the file is switched in
  only after a completed build, so a crash mid-build loses nothing but the build.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Index, Table

from sinks.store import schema
from sinks.store import statements as sql
from sinks.store.bulk import ValuesWriter, child_rows
from sinks.store.database import TraceStore
from sinks.store.pgcopy import CopyWriter
from sinks.store.rows import ChainRows, latest_per_batch

LOADED: tuple[Table, ...] = (schema.batches, *schema.CHILD_TABLES)
SECONDARY: tuple[Index, ...] = tuple(i for t in LOADED for i in sorted(t.indexes, key=str))


class BulkLoader:
    """Writes chains into a fresh store: :meth:`start`, :meth:`write` ..., :meth:`finish`."""

    def __init__(self, store: TraceStore) -> None:
        self.store = store
        dialect = store.engine.dialect
        self.sqlite = dialect.name == "sqlite"
        self.values = ValuesWriter(dialect)
        self.copy = None if self.sqlite else CopyWriter(dialect)
        self._seen: set[str] = set()

    def start(self) -> None:
        """Drop the secondary indexes (created again by :meth:`finish`)."""
        with self.store.transaction() as conn:
            for index in SECONDARY:
                conn.exec_driver_sql(f'DROP INDEX IF EXISTS "{index.name}"')

    def finish(self) -> None:
        """Create the secondary indexes and refresh the planner's statistics."""
        with self.store.transaction() as conn:
            for index in SECONDARY:
                index.create(conn)
            conn.exec_driver_sql("ANALYZE")

    def write(self, chains: Sequence[ChainRows]) -> int:
        """Store ``chains`` in one transaction; how many batch rows were written."""
        chosen = latest_per_batch(chains)
        fresh = [c for c in chosen if c.batch_code not in self._seen]
        again = [c for c in chosen if c.batch_code in self._seen]
        with self.store.transaction() as conn:
            if self.sqlite:
                conn.exec_driver_sql("PRAGMA synchronous=OFF")
            self._insert_fresh(conn, fresh)
            written = len(fresh) + (self.store.write_on(conn, again)[0] if again else 0)
        self._seen.update(c.batch_code for c in fresh)
        return written

    def _insert_fresh(self, conn: Connection, fresh: Sequence[ChainRows]) -> None:
        if not fresh:
            return
        if self.copy is not None:
            self._copy_fresh(conn, self.copy, fresh)
            return
        self.values.insert(conn, schema.batches, [c.batch for c in fresh])
        for table in schema.CHILD_TABLES:
            suffix = sql.TRACE_CODE_SUFFIX if table is schema.trace_codes else ""
            self.values.insert(conn, table, child_rows(fresh, table), suffix)

    @staticmethod
    def _copy_fresh(conn: Connection, copy: CopyWriter, fresh: Sequence[ChainRows]) -> None:
        copy.copy(conn, schema.batches, [c.batch for c in fresh], schema.batches.name)
        for table in schema.CHILD_TABLES:
            if table is schema.trace_codes:
                copy.merge_trace_codes(conn, child_rows(fresh, table))
            else:
                copy.copy(conn, table, child_rows(fresh, table), table.name)
