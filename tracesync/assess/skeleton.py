"""Mapping skeletons: a starting ``deploy/mappings``-style TOML file for one event type.

The payload part is derived from the event's Avro record (``avro/``): every required field gets a
column of the same name (``quantity`` becomes ``quantity_value`` and ``quantity_uom``; a list of
texts is one column split at ``,``; a list of records is a JSON text column, or nested elements in
XML), every optional field is listed as a comment. The envelope takes ``batch_code``,
``occurred_at`` and the source's sequence column; ``source_ref`` follows the simulator's
conventions (``WMS:GR:{receipt_id}``). The result loads with :func:`producers.mapping.load_mapping`
as it is; renaming the columns to the source's own names is the user's part. For an outbox still
to be added, :func:`outbox_ddl` gives the table.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from tracesync.contracts.schemas import EVENT_TYPES, current

SourceKind = Literal["outbox", "sequence", "csv", "xml"]

SOURCE_REFS: dict[str, str] = {
    "PRODUCTION_ORDER_RELEASED": "MES:PO:{order_id}",
    "BATCH_STARTED": "MES:BS:{batch_code}",
    "BATCH_COMPLETED": "MES:BC:{batch_code}",
    "MATERIAL_CONSUMED": "MES:MC:{consumption_id}",
    "PROCESS_PARAMETER_RECORDED": "MES:PP:{batch_code}:{equipment_id}:{parameter}",
    "INSPECTION_RECORDED": "QMS:QI:{inspection_id}",
    "HOLD_PLACED": "QMS:HOLD:{hold_id}",
    "HOLD_RELEASED": "QMS:HOLDREL:{hold_id}",
    "COMPLAINT_RECEIVED": "QMS:CMP:{complaint_id}",
    "GOODS_RECEIVED": "WMS:GR:{receipt_id}",
    "GOODS_ISSUED": "WMS:GI:{issue_id}",
    "STOCK_TRANSFERRED": "WMS:ST:{transfer_id}",
    "STOCK_COUNTED": "WMS:SC:{count_id}",
    "MATERIAL_RECEIPT_POSTED": "ERP:MR:{receipt_id}",
    "PRODUCTION_RECEIPT_POSTED": "ERP:PR:{receipt_id}",
    "SHIPMENT_DISPATCHED": "ERP:DLV:{delivery_id}:L{line_no}",
}
"""How each event type names its source record (the same as the simulator's)."""


@dataclass(frozen=True)
class Column:
    """A column the skeleton expects, with its SQL-ish type (for the outbox DDL)."""

    name: str
    kind: str
    required: bool


def toml_value(value: Any) -> str:
    """A TOML literal for strings, numbers, booleans, lists and (inline) tables."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        inner = ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items())
        return "{ " + inner + " }" if inner else "{}"
    raise TypeError(f"no TOML literal for {type(value).__name__}")


def toml_key(key: str) -> str:
    bare = key.replace("_", "").replace("-", "").isalnum() and key.isascii()
    return key if bare else json.dumps(key)


# -- payload specs from the Avro record ------------------------------------------------------


def _optional(schema: Any) -> bool:
    return isinstance(schema, list) and "null" in schema


def _inner(schema: Any) -> Any:
    if isinstance(schema, list):
        rest = [s for s in schema if s != "null"]
        return rest[0] if len(rest) == 1 else rest
    return schema


def _sql_kind(schema: Any) -> str:
    schema = _inner(schema)
    if isinstance(schema, dict):
        logical = schema.get("logicalType")
        if logical == "decimal":
            return f"decimal({schema['precision']},{schema.get('scale', 0)})"
        if logical == "timestamp-millis":
            return "timestamp"
        if logical == "date":
            return "date"
        if schema["type"] in ("array", "map", "record"):
            return "text"
        return "text" if schema["type"] == "enum" else _sql_kind(schema["type"])
    return {
        "int": "integer",
        "long": "bigint",
        "double": "double",
        "float": "double",
        "boolean": "boolean",
    }.get(str(schema), "text")


def _named(schema: Any, found: dict[str, Any]) -> None:
    """Collect the named types an expanded schema defines (later uses are by name only)."""
    if isinstance(schema, list):
        for branch in schema:
            _named(branch, found)
    elif isinstance(schema, dict):
        if schema.get("type") in ("record", "enum", "fixed"):
            found[schema["name"]] = schema
            found[f"{schema.get('namespace', '')}.{schema['name']}"] = schema
        for f in schema.get("fields", ()):
            _named(f["type"], found)
        for key in ("items", "values"):
            if key in schema:
                _named(schema[key], found)


def _resolved(schema: Any, named: dict[str, Any]) -> Any:
    """The type inside ``["null", X]``, with a reference by name replaced by its definition."""
    inner = _inner(schema)
    return named.get(inner, inner) if isinstance(inner, str) else inner


def field_spec(
    name: str,
    schema: Any,
    xml: bool,
    columns: list[Column],
    *,
    named: dict[str, Any],
    prefix: str = "",
) -> Any:
    """The field spec of one payload field; the columns it reads are added to ``columns``."""
    column = f"{prefix}{name}"
    inner = _resolved(schema, named)
    required = not _optional(schema)
    if isinstance(inner, dict) and inner.get("type") == "record":
        return {
            f["name"]: field_spec(
                f["name"], f["type"], xml, columns, named=named, prefix=f"{column}_"
            )
            for f in inner["fields"]
            if "default" not in f
        }
    if isinstance(inner, dict) and inner.get("type") == "array":
        items = _resolved(inner["items"], named)
        columns.append(Column(column, "text", required))
        if isinstance(items, dict) and items.get("type") == "record":
            if xml:
                item_spec = {f["name"]: f["name"] for f in items["fields"] if "default" not in f}
                return {"column": f"{column}/{items['name'].lower()}", "items": item_spec}
            return {"column": column, "json": True}
        return {"column": column, "split": ","}
    columns.append(Column(column, _sql_kind(inner), required))
    return column


@dataclass(frozen=True)
class Skeleton:
    """The text of one mapping file and the columns the source must provide."""

    name: str
    event_type: str
    text: str
    columns: tuple[Column, ...]
    table: str | None


def skeleton(
    name: str,
    event_type: str,
    source: SourceKind,
    *,
    plant: str | None,
    header: str,
    file_pattern: str | None = None,
    outbox_to_add: bool = False,
) -> Skeleton:
    """One mapping file for ``event_type`` read from ``source``."""
    info = EVENT_TYPES[event_type]
    record = current().expanded(info.payload_record)
    xml = source == "xml"
    columns: list[Column] = [Column("batch_code", "text", True)]
    envelope: dict[str, Any] = {"event_type": event_type, "batch_code": "batch_code"}
    envelope["source_ref"] = {"template": SOURCE_REFS[event_type]}
    seq, table, source_lines = _source_table(
        name, source, info.payload_record, file_pattern, outbox_to_add
    )
    envelope["source_seq"] = seq
    envelope["occurred_at"] = "occurred_at"
    if plant is not None:
        envelope["plant"] = {"const": plant}
    payload_lines, optional = [], []
    named: dict[str, Any] = {}
    _named(record, named)
    for f in record["fields"]:
        if "default" in f:
            optional.append(f"# {f['name']} = {toml_value(f['name'])}   (optional)")
            continue
        spec = field_spec(f["name"], f["type"], xml, columns, named=named)
        line = f"{toml_key(f['name'])} = {toml_value(spec)}"
        inner = _resolved(f["type"], named)
        if isinstance(inner, dict) and inner.get("type") == "enum":
            symbols = [x for x in inner["symbols"] if x != "UNKNOWN"]
            line += f"   # {', '.join(symbols)}; map = {{ ... }} translates source codes"
        payload_lines.append(line)
    columns += _envelope_columns(seq, SOURCE_REFS[event_type], columns)
    lines = [
        header,
        "",
        "[source]",
        f"name = {toml_value(name)}",
        f"system = {toml_value(info.source_system)}",
        'timezone = "UTC"            # naive timestamps of the source are read in this zone',
        "",
        *source_lines,
        "",
        "[envelope]",
        *(f"{toml_key(k)} = {toml_value(v)}" for k, v in envelope.items()),
        "",
        "[payload]",
        *payload_lines,
        *optional,
        "",
    ]
    return Skeleton(name, event_type, "\n".join(lines), tuple(columns), table)


def _source_table(
    name: str, source: SourceKind, record: str, pattern: str | None, to_add: bool
) -> tuple[Any, str | None, list[str]]:
    """(source_seq spec, table, the [db] or [file] lines)."""
    if source == "outbox":
        table = f"{name}_outbox"
        where = f"to create: {name}.outbox.sql" if to_add else "the system's own: rename it"
        lines = [
            "[db]",
            f"table = {toml_value(table)}   # the outbox table ({where})",
            'mode = "outbox"',
            'key_columns = ["outbox_id"]',
            'on_published = "delete"     # or "mark" with published_column = "published_at"',
        ]
        return "version", table, lines
    if source == "sequence":
        table = f"{name}_log"
        lines = [
            "[db]",
            f"table = {toml_value(table)}   # the table or view with the changes: rename it",
            'mode = "poll"',
            'key_columns = ["change_id"]',
            'watermark_column = "change_id"   # must grow in commit order (else use an outbox)',
        ]
        return "change_id", table, lines
    lines = [
        "[file]",
        f'format = "{source}"',
        f"patterns = [{toml_value(pattern or name + '*.' + source)}]",
    ]
    if source == "xml":
        lines.append(f'record_path = ".//{record}"   # the element of one record')
    else:
        lines += ['delimiter = ","', 'encoding = "utf-8-sig"']
    return {"column": "revision", "default": 1}, None, lines


def _envelope_columns(seq: Any, ref: str, have: list[Column]) -> list[Column]:
    names = {c.name for c in have}
    extra = []
    seq_column = seq if isinstance(seq, str) else seq["column"]
    for column, kind in ((seq_column, "bigint"), ("occurred_at", "timestamp")):
        if column not in names:
            extra.append(Column(column, kind, not isinstance(seq, dict) or column != seq_column))
            names.add(column)
    for part in ref.split("{")[1:]:
        column = part.split("}", 1)[0]
        if column not in names:
            extra.append(Column(column, "text", True))
            names.add(column)
    return extra


_SQL_TYPES: dict[str, dict[str, str]] = {
    "postgresql": {
        "text": "TEXT",
        "bigint": "BIGINT",
        "integer": "INTEGER",
        "double": "DOUBLE PRECISION",
        "boolean": "BOOLEAN",
        "timestamp": "TIMESTAMP WITH TIME ZONE",
        "date": "DATE",
        "decimal": "NUMERIC({p},{s})",
        "id": "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
    },
    "sqlite": {
        "text": "TEXT",
        "bigint": "INTEGER",
        "integer": "INTEGER",
        "double": "REAL",
        "boolean": "INTEGER",
        "timestamp": "TEXT",
        "date": "TEXT",
        "decimal": "TEXT",
        "id": "INTEGER PRIMARY KEY AUTOINCREMENT",
    },
    "oracle": {
        "text": "VARCHAR2(4000)",
        "bigint": "NUMBER(19)",
        "integer": "NUMBER(10)",
        "double": "BINARY_DOUBLE",
        "boolean": "NUMBER(1)",
        "timestamp": "TIMESTAMP WITH TIME ZONE",
        "date": "DATE",
        "decimal": "NUMBER({p},{s})",
        "id": "NUMBER(19) GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
    },
    "mssql": {
        "text": "NVARCHAR(4000)",
        "bigint": "BIGINT",
        "integer": "INT",
        "double": "FLOAT",
        "boolean": "BIT",
        "timestamp": "DATETIMEOFFSET",
        "date": "DATE",
        "decimal": "DECIMAL({p},{s})",
        "id": "BIGINT IDENTITY(1,1) PRIMARY KEY",
    },
    "mysql": {
        "text": "TEXT",
        "bigint": "BIGINT",
        "integer": "INT",
        "double": "DOUBLE",
        "boolean": "BOOLEAN",
        "timestamp": "DATETIME(3)",
        "date": "DATE",
        "decimal": "DECIMAL({p},{s})",
        "id": "BIGINT AUTO_INCREMENT PRIMARY KEY",
    },
}


def outbox_ddl(outline: Skeleton, engine: str) -> str:
    """``CREATE TABLE`` of the outbox a skeleton reads (``engine``: the inventory's)."""
    types = _SQL_TYPES.get(engine, _SQL_TYPES["postgresql"])
    rows = [f"    outbox_id {types['id']}"]
    for column in outline.columns:
        kind = column.kind
        if kind.startswith("decimal("):
            precision, scale = kind[len("decimal(") : -1].split(",")
            sql = types["decimal"].format(p=precision, s=scale)
        else:
            sql = types[kind]
        rows.append(f"    {column.name} {sql}{' NOT NULL' if column.required else ''}")
    return (
        f"-- Outbox of {outline.event_type} events for tracesync ingest db ({engine}).\n"
        "-- Write one row per change in the same transaction as the change itself (from the\n"
        "-- application or a trigger); tracesync deletes the rows once the broker has them.\n"
        f"CREATE TABLE {outline.table} (\n" + ",\n".join(rows) + "\n);\n"
    )
