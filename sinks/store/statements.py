"""Set-based SQL for the store writers: multi-row statements, built once per shape and cached.

The writers send rows as plain tuples through the driver (``exec_driver_sql``), so SQLAlchemy's
per-row statement machinery is not paid for every row. :class:`TableCodec` turns row dictionaries
into those tuples with the same bind conversions SQLAlchemy's types apply (SQLite keeps times as
text and decimals as floats; the ``chain`` column arrives as JSON text already), with faster
equivalents of the two SQLite conversions met on every row (:func:`fast_processor`). The statement
builders name tables and columns from :mod:`sinks.store.schema` only, never from data, and every
value is a bound parameter.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, Column, Date, DateTime, Dialect, Table

from sinks.store import schema
from sinks.store.rows import Row

_MAX_PARAMS = {"sqlite": 32_766, "postgresql": 65_535}
_MAX_ROWS = 1_000  # per statement: long enough to amortize a round trip, short enough to parse
_IN_CHUNK = 500  # codes per IN (...) list on SQLite
RAW_COLUMNS = frozenset({"chain"})  # already in the form the driver takes (JSON text)

Processor = Callable[[Any], Any]
_QUANTUM = Decimal("0.001")


def _sqlite_datetime(slow: Processor) -> Processor:
    """SQLAlchemy's SQLite DATETIME text (``YYYY-MM-DD HH:MM:SS.ffffff``, the zone dropped)."""

    def process(value: Any) -> Any:
        if type(value) is datetime:
            return value.isoformat(" ", "microseconds")[:26]  # the zone's "+hh:mm" cut off
        return None if value is None else slow(value)

    return process


def _sqlite_date(slow: Processor) -> Processor:
    """SQLAlchemy's SQLite DATE text (``YYYY-MM-DD``)."""

    def process(value: Any) -> Any:
        if type(value) is date:
            return value.isoformat()
        return None if value is None else slow(value)

    return process


def _sqlite_exact_decimal(slow: Processor) -> Processor:
    """:class:`~sinks.store.schema.ExactDecimal`'s SQLite text, without the type machinery."""

    def process(value: Any) -> Any:
        if type(value) is Decimal:
            return str(value.quantize(_QUANTUM))
        return None if value is None else slow(value)

    return process


def _passed_as(kind: type, slow: Processor) -> Processor:
    """Values of exactly ``kind`` go to the driver as they are (what ``slow`` returns for them)."""

    def process(value: Any) -> Any:
        return value if type(value) is kind else slow(value)

    return process


def _sqlite_boolean(slow: Processor) -> Processor:
    """SQLAlchemy's SQLite BOOLEAN: 1 or 0."""

    def process(value: Any) -> Any:
        if type(value) is bool:
            return int(value)
        return slow(value)

    return process


def fast_processor(column: Column[Any], dialect: Dialect, slow: Processor) -> Processor:
    """``slow``, SQLAlchemy's bind conversion of ``column``, or a faster one giving the same."""
    kind = column.type
    if dialect.name != "sqlite":
        if isinstance(kind, schema.ExactDecimal):
            return _passed_as(Decimal, slow)  # the type's bind is the identity there
        if isinstance(kind, Boolean) and dialect.supports_native_boolean:
            return _passed_as(bool, slow)
        return slow
    if isinstance(kind, DateTime):
        return _sqlite_datetime(slow)
    if isinstance(kind, Date):
        return _sqlite_date(slow)
    if isinstance(kind, schema.ExactDecimal):
        return _sqlite_exact_decimal(slow)
    if isinstance(kind, Boolean):
        return _sqlite_boolean(slow)
    return slow


def numbered(dialect: Dialect) -> bool:
    """Whether long statements use PostgreSQL's own ``$1, $2 ...`` markers (sent through a raw
    cursor: psycopg's Python parser of ``%s`` markers costs more than the database on a
    statement of thousands of them) rather than sqlite3's ``?``."""
    return dialect.name == "postgresql"


Encoder = Callable[[Sequence[Row]], list[tuple[Any, ...]]]


def _compile_encoder(table: Table, dialect: Dialect) -> Encoder:
    """One list comprehension building every row's tuple: a row costs one tuple display, a
    dictionary lookup per column and a call per converted column, nothing more."""
    namespace: dict[str, Any] = {}
    values = []
    for index, column in enumerate(table.columns):
        value = f"row[{column.name!r}]"
        process = None
        if column.name not in RAW_COLUMNS:
            process = column.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            namespace[f"p{index}"] = fast_processor(column, dialect, process)
            value = f"p{index}({value})"
        values.append(value)
    source = f"def encode_all(rows):\n    return [({', '.join(values)},) for row in rows]\n"
    # the source names the columns of the store's own schema, never anything from a record
    exec(compile(source, f"<row encoder {table.name}>", "exec"), namespace)  # noqa: S102
    encoder: Encoder = namespace["encode_all"]
    return encoder


@dataclass(frozen=True)
class TableCodec:
    """Row dictionaries of one table -> parameter tuples in column order."""

    table: Table
    columns: tuple[str, ...]
    encode_all: Encoder

    @classmethod
    def of(cls, table: Table, dialect: Dialect) -> TableCodec:
        columns = tuple(c.name for c in table.columns)
        return cls(table, columns, _compile_encoder(table, dialect))

    def encode(self, row: Row) -> tuple[Any, ...]:
        return self.encode_all((row,))[0]


def rows_per_statement(dialect: Dialect, width: int) -> int:
    """How many rows of ``width`` parameters fit one statement on this dialect."""
    return max(1, min(_MAX_ROWS, _MAX_PARAMS.get(dialect.name, 32_766) // width))


def chunked(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def flat(rows: Sequence[tuple[Any, ...]]) -> tuple[Any, ...]:
    """The parameters of a multi-row statement: every row's values, one after the other."""
    return tuple(itertools.chain.from_iterable(rows))


def _row_marks(width: int, rows: int, numbered: bool) -> str:
    if not numbered:
        one = "(" + ", ".join(["?"] * width) + ")"
        return ", ".join([one] * rows)
    return ", ".join(
        "(" + ", ".join(f"${r * width + c + 1}" for c in range(width)) + ")" for r in range(rows)
    )


@functools.lru_cache(maxsize=512)
def insert_values(
    table: str, columns: tuple[str, ...], rows: int, numbered: bool, suffix: str = ""
) -> str:
    """``INSERT INTO table (columns) VALUES (...), (...) <suffix>`` for ``rows`` rows."""
    values = _row_marks(len(columns), rows, numbered)
    names = ", ".join(columns)
    return f"INSERT INTO {table} ({names}) VALUES {values} {suffix}".rstrip()


def batch_upsert_suffix() -> str:
    """The version guard: a stored batch is overwritten only by a newer version."""
    table = schema.batches
    updates = ", ".join(f"{c.name} = excluded.{c.name}" for c in table.columns if not c.primary_key)
    return (
        f"ON CONFLICT (batch_code) DO UPDATE SET {updates} "
        f"WHERE {table.name}.version < excluded.version RETURNING batch_code"
    )


TRACE_CODE_SUFFIX = "ON CONFLICT (trace_code) DO UPDATE SET batch_code = excluded.batch_code"
ALERT_SUFFIX = "ON CONFLICT (alert_id) DO NOTHING RETURNING alert_id"


def owner_column(table: Table) -> str:
    """The column that says which batch a child row belongs to."""
    return "child_code" if "child_code" in table.c else "batch_code"


@functools.lru_cache(maxsize=64)
def delete_in(table: str, key: str, count: int) -> str:
    """``DELETE FROM table WHERE key IN (?, ...)`` for ``count`` codes (SQLite)."""
    marks = ", ".join(["?"] * count)
    return f"DELETE FROM {table} WHERE {key} IN ({marks})"


def delete_any(table: str, key: str) -> str:
    """``DELETE FROM table WHERE key = ANY(%s)``: one array parameter (PostgreSQL)."""
    return f"DELETE FROM {table} WHERE {key} = ANY(%s)"


def in_chunks(codes: Sequence[str]) -> Iterator[Sequence[str]]:
    return chunked(codes, _IN_CHUNK)
