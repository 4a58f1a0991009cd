"""One store write as a few set-based statements on an open transaction (SQLite and PostgreSQL).

:class:`ValuesWriter` sends every table's rows as multi-row ``INSERT ... VALUES`` statements:

1. the batch rows in one upsert per chunk, guarded by version
   (``ON CONFLICT (batch_code) DO UPDATE ... WHERE batches.version < excluded.version``), which
   returns the codes it actually wrote: the chains whose version won;
2. the child rows of exactly those chains are replaced: one ``DELETE`` per child table for the
   winners' codes, then their new rows (trace codes by upsert: a code claimed again moves to the
   batch written last);
3. new alerts (``ON CONFLICT (alert_id) DO NOTHING``).

The caller has already kept one version per batch (:func:`sinks.store.rows.latest_per_batch`), so
no statement meets the same batch twice; the guard in the statement decides against what is
stored. On PostgreSQL the upsert also holds the row lock of every winner until the commit, so a
concurrent writer of the same batch waits and then sees the newer version.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, Dialect, Table

from sinks.store import schema
from sinks.store import statements as sql
from sinks.store.rows import ChainRows, Row
from sinks.store.writer import StoreRejectedError, StoreUnavailableError


@contextlib.contextmanager
def driver_errors(conn: Connection, what: str) -> Iterator[None]:
    """Errors of the driver used directly (raw cursor, COPY), mapped as SQLAlchemy's are."""
    dbapi: Any = conn.dialect.loaded_dbapi
    try:
        yield
    except (dbapi.OperationalError, dbapi.InterfaceError) as exc:
        raise StoreUnavailableError(f"trace store unavailable during {what}: {exc}") from exc
    except dbapi.Error as exc:
        raise StoreRejectedError(f"trace store rejected {what}: {exc}") from exc


def execute_numbered(conn: Connection, text: str, params: Sequence[Any]) -> list[Any]:
    """Run a ``$n`` statement through a raw psycopg cursor; the first column of what it returns."""
    driver: Any = conn.connection.driver_connection
    with driver_errors(conn, "a multi-row statement"):
        cursor = conn.dialect.loaded_dbapi.RawCursor(driver)
        try:
            cursor.execute(text, params)
            return [row[0] for row in cursor.fetchall()] if cursor.description else []
        finally:
            cursor.close()


def unique_trace_codes(rows: Sequence[Row]) -> list[Row]:
    """One row per trace code: the one written last wins."""
    return list({r["trace_code"]: r for r in rows}.values())


def child_rows(chains: Sequence[ChainRows], table: Table) -> list[Row]:
    rows = [row for c in chains for row in c.children.get(table.name, ())]
    return unique_trace_codes(rows) if table is schema.trace_codes else rows


class ValuesWriter:
    """Writes one batch of chains and alerts with multi-row VALUES statements."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.numbered = sql.numbered(dialect)
        self.codecs = {t.name: sql.TableCodec.of(t, dialect) for t in schema.metadata.sorted_tables}
        self._batch_suffix = sql.batch_upsert_suffix()

    # -- statements ------------------------------------------------------------------------
    def insert(
        self, conn: Connection, table: Table, rows: Sequence[Row], suffix: str = ""
    ) -> list[Any]:
        """Insert ``rows`` in as few statements as fit; what ``RETURNING`` gave, if any."""
        if not rows:
            return []
        codec = self.codecs[table.name]
        encoded = codec.encode_all(rows)
        returned: list[Any] = []
        size = sql.rows_per_statement(self.dialect, len(codec.columns))
        for part in sql.chunked(encoded, size):
            text = sql.insert_values(table.name, codec.columns, len(part), self.numbered, suffix)
            if self.numbered:
                returned.extend(execute_numbered(conn, text, sql.flat(part)))
                continue
            result = conn.exec_driver_sql(text, sql.flat(part))
            if result.returns_rows:
                returned.extend(result.scalars())
        return returned

    def delete_owned(self, conn: Connection, table: Table, codes: Sequence[str]) -> None:
        """Delete the child rows of ``codes`` from ``table``."""
        key = sql.owner_column(table)
        if self.dialect.name == "postgresql":
            conn.exec_driver_sql(sql.delete_any(table.name, key), (list(codes),))
            return
        for part in sql.in_chunks(codes):
            conn.exec_driver_sql(sql.delete_in(table.name, key, len(part)), tuple(part))

    # -- one write -------------------------------------------------------------------------
    def upsert_batches(self, conn: Connection, chains: Sequence[ChainRows]) -> set[str]:
        """Write the batch rows whose version wins; their codes."""
        rows = [c.batch for c in chains]
        return {str(code) for code in self.insert(conn, schema.batches, rows, self._batch_suffix)}

    def replace_children(self, conn: Connection, winners: Sequence[ChainRows]) -> None:
        """The child rows of ``winners`` become exactly the ones they carry."""
        if not winners:
            return
        codes = [c.batch_code for c in winners]
        for table in schema.CHILD_TABLES:
            self.delete_owned(conn, table, codes)
        for table in schema.CHILD_TABLES:
            suffix = sql.TRACE_CODE_SUFFIX if table is schema.trace_codes else ""
            self.insert(conn, table, child_rows(winners, table), suffix)

    def insert_alerts(self, conn: Connection, alerts: Sequence[Row]) -> int:
        unique = list({a["alert_id"]: a for a in alerts}.values())
        return len(self.insert(conn, schema.alerts, unique, sql.ALERT_SUFFIX))

    def write(
        self, conn: Connection, chains: Sequence[ChainRows], alerts: Sequence[Row]
    ) -> tuple[int, int]:
        """Chains written and alerts inserted, on ``conn``'s open transaction."""
        written = self.upsert_batches(conn, chains)
        self.replace_children(conn, [c for c in chains if c.batch_code in written])
        return len(written), self.insert_alerts(conn, alerts)
