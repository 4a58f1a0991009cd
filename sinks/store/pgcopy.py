"""One store write on PostgreSQL through ``COPY``: rows streamed into staging tables, then merged.

:class:`CopyWriter` does what :class:`sinks.store.bulk.ValuesWriter` does, with ``COPY ... FROM
STDIN`` instead of parameter lists:

1. the batch rows are copied into a temporary ``stage_batches`` (``LIKE batches``, emptied at
   commit) and merged with one ``INSERT ... SELECT ... ON CONFLICT (batch_code) DO UPDATE ...
   WHERE batches.version < excluded.version RETURNING batch_code``: the winners;
2. the winners' codes go into ``stage_winners`` in the same statement; their old child rows are
   deleted (one ``DELETE ... IN (SELECT ... FROM stage_winners)`` per child table) and their new
   rows copied straight into the child tables (no conflict is possible once they are gone),
   except trace codes, which go through ``stage_trace_codes`` and an upsert because a code may
   still belong to another batch;
3. alerts, few, go in with a VALUES statement.

psycopg errors raised by ``COPY`` are mapped like SQLAlchemy's: a lost or refused connection is
``StoreUnavailableError``, anything else ``StoreRejectedError``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Dialect, Table

from sinks.store import schema
from sinks.store import statements as sql
from sinks.store.bulk import ValuesWriter, child_rows, driver_errors
from sinks.store.rows import ChainRows, Row

STAGED = (schema.batches, schema.trace_codes)


def _stage(table: Table) -> str:
    return f"stage_{table.name}"


WINNERS = "stage_winners"


def _create_stages() -> list[str]:
    """Temporary tables of the session, emptied at every commit (and gone with the session)."""
    like = [
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {_stage(t)} (LIKE {t.name} INCLUDING DEFAULTS) "
        "ON COMMIT DELETE ROWS"
        for t in STAGED
    ]
    winners = (
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {WINNERS} (batch_code varchar NOT NULL) "
        "ON COMMIT DELETE ROWS"
    )
    return [*like, winners]


def _merge_from_stage(table: Table, suffix: str) -> str:
    names = ", ".join(c.name for c in table.columns)
    return f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {_stage(table)} {suffix}"


def _merge_batches() -> str:
    """The guarded upsert from the stage; the winners' codes are kept for the child deletes."""
    upsert = _merge_from_stage(schema.batches, sql.batch_upsert_suffix())
    return (
        f"WITH won AS ({upsert}) "
        f"INSERT INTO {WINNERS} (batch_code) SELECT batch_code FROM won RETURNING batch_code"
    )


def _delete_of_winners(table: Table) -> str:
    key = sql.owner_column(table)
    return f"DELETE FROM {table.name} WHERE {key} IN (SELECT batch_code FROM {WINNERS})"


class CopyWriter:
    """Writes one batch of chains and alerts with COPY into staging tables (PostgreSQL only)."""

    def __init__(self, dialect: Dialect) -> None:
        self.values = ValuesWriter(dialect)
        self._create = _create_stages()
        self._merge_batches = _merge_batches()
        self._deletes = [_delete_of_winners(t) for t in schema.CHILD_TABLES]
        self._merge_codes = _merge_from_stage(schema.trace_codes, sql.TRACE_CODE_SUFFIX)

    def copy(self, conn: Connection, table: Table, rows: Sequence[Row], into: str) -> None:
        """Stream ``rows`` of ``table``'s shape into the table ``into``."""
        if not rows:
            return
        codec = self.values.codecs[table.name]
        driver: Any = conn.connection.driver_connection
        statement = f"COPY {into} ({', '.join(codec.columns)}) FROM STDIN"
        with (
            driver_errors(conn, f"the COPY into {into}"),
            driver.cursor() as cursor,
            cursor.copy(statement) as copy,
        ):
            for values in codec.encode_all(rows):
                copy.write_row(values)

    def upsert_batches(self, conn: Connection, chains: Sequence[ChainRows]) -> set[str]:
        if not chains:
            return set()
        self.copy(conn, schema.batches, [c.batch for c in chains], _stage(schema.batches))
        return {str(code) for code in conn.exec_driver_sql(self._merge_batches).scalars()}

    def replace_children(self, conn: Connection, winners: Sequence[ChainRows]) -> None:
        if not winners:
            return
        for statement in self._deletes:
            conn.exec_driver_sql(statement)
        for table in schema.CHILD_TABLES:
            rows = child_rows(winners, table)
            if table is schema.trace_codes:
                self.merge_trace_codes(conn, rows)
            else:
                self.copy(conn, table, rows, table.name)

    def merge_trace_codes(self, conn: Connection, rows: Sequence[Row]) -> None:
        """Trace codes through their stage: a code claimed again moves to the batch of ``rows``."""
        if not rows:
            return
        for statement in self._create:
            conn.exec_driver_sql(statement)
        self.copy(conn, schema.trace_codes, rows, _stage(schema.trace_codes))
        conn.exec_driver_sql(self._merge_codes)

    def write(
        self, conn: Connection, chains: Sequence[ChainRows], alerts: Sequence[Row]
    ) -> tuple[int, int]:
        """Chains written and alerts inserted, on ``conn``'s open transaction."""
        for statement in self._create:
            conn.exec_driver_sql(statement)
        written = self.upsert_batches(conn, chains)
        self.replace_children(conn, [c for c in chains if c.batch_code in written])
        return len(written), self.values.insert_alerts(conn, alerts)
