"""The Avro event contract: load the ``avro/*.avsc`` files and resolve their named references.

Each ``.avsc`` file holds one named type (record or enum) of the ``tracesync.events`` namespace and
refers to the others by name. :class:`SchemaSet` reads one folder of them (the current ``avro/``
or a released version under ``avro/released/vN/``) and expands a type into one self-contained
schema: the first use of a named type is inlined, later uses refer to it by full name. That
expanded JSON is what fastavro parses, what the compatibility checker reads and what gets
registered in a registry.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from fastavro.schema import fingerprint, parse_schema, to_parsing_canonical_form

from tracesync.errors import ConfigurationError

NAMESPACE = "tracesync.events"
AVRO_DIR = Path(__file__).resolve().parents[2] / "avro"
RELEASED_DIR = AVRO_DIR / "released"
ENVELOPE = "Envelope"
INPUT_ROOTS = (ENVELOPE,)
"""Records read by tracesync (source topics): held BACKWARD, the current schemas read every
released version."""
OUTPUT_ROOTS = ("TraceChain", "Alert", "FileReceipt")
"""Records tracesync publishes for downstream services (chain, alerts, receipts): held FULL,
backward as above and forward too, every released version reads what the current schemas write
(docs/consumers.md says why)."""
RELEASE_ROOTS = (*INPUT_ROOTS, *OUTPUT_ROOTS)
"""Types released (with everything they refer to) under ``avro/released/v<n>/``."""

_PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})

JsonSchema = Any
"""An Avro schema as JSON data (dict, list or str)."""


@dataclass(frozen=True)
class EventTypeInfo:
    """What an EventType symbol implies: the system that emits it and its payload record."""

    source_system: str
    payload_record: str

    @property
    def payload_fullname(self) -> str:
        return f"{NAMESPACE}.{self.payload_record}"


EVENT_TYPES: Mapping[str, EventTypeInfo] = {
    "PRODUCTION_ORDER_RELEASED": EventTypeInfo("MES", "ProductionOrderReleased"),
    "BATCH_STARTED": EventTypeInfo("MES", "BatchStarted"),
    "BATCH_COMPLETED": EventTypeInfo("MES", "BatchCompleted"),
    "MATERIAL_CONSUMED": EventTypeInfo("MES", "MaterialConsumed"),
    "PROCESS_PARAMETER_RECORDED": EventTypeInfo("MES", "ProcessParameterRecorded"),
    "INSPECTION_RECORDED": EventTypeInfo("QMS", "InspectionRecorded"),
    "HOLD_PLACED": EventTypeInfo("QMS", "HoldPlaced"),
    "HOLD_RELEASED": EventTypeInfo("QMS", "HoldReleased"),
    "COMPLAINT_RECEIVED": EventTypeInfo("QMS", "ComplaintReceived"),
    "GOODS_RECEIVED": EventTypeInfo("WMS", "GoodsReceived"),
    "GOODS_ISSUED": EventTypeInfo("WMS", "GoodsIssued"),
    "STOCK_TRANSFERRED": EventTypeInfo("WMS", "StockTransferred"),
    "STOCK_COUNTED": EventTypeInfo("WMS", "StockCounted"),
    "MATERIAL_RECEIPT_POSTED": EventTypeInfo("ERP", "MaterialReceiptPosted"),
    "PRODUCTION_RECEIPT_POSTED": EventTypeInfo("ERP", "ProductionReceiptPosted"),
    "SHIPMENT_DISPATCHED": EventTypeInfo("ERP", "ShipmentDispatched"),
}
"""EventType symbol -> (SourceSystem symbol, payload record name); UNKNOWN has no entry."""


def fullname(name: str) -> str:
    """Full name of a tracesync type: ``Quantity`` -> ``tracesync.events.Quantity``."""
    return name if "." in name else f"{NAMESPACE}.{name}"


def short_name(name: str) -> str:
    return name.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class SchemaSet:
    """The named types of one folder of ``.avsc`` files, by short name, as written on disk.

    Files are read on first use, so a broken file only breaks the types that refer to it.
    ``types`` holds types given in memory (tests of schema changes) or already read.
    """

    directory: Path
    types: dict[str, JsonSchema] = field(default_factory=dict)
    memory_only: bool = False
    _parsed: dict[str, JsonSchema] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_directory(cls, directory: Path) -> SchemaSet:
        if not any(directory.glob("*.avsc")):
            raise ConfigurationError(f"no .avsc files in {directory}")
        return cls(directory)

    @classmethod
    def in_memory(cls, types: Mapping[str, JsonSchema], directory: Path = AVRO_DIR) -> SchemaSet:
        """A set of the given types only (the directory is just a label)."""
        return cls(directory, {name: types[name] for name in types}, memory_only=True)

    def with_changes(self, changes: Mapping[str, JsonSchema]) -> SchemaSet:
        """A copy where the named types are replaced (for trying a schema change in memory)."""
        types = {name: self.raw(name) for name in self.names()}
        return SchemaSet.in_memory({**types, **changes}, self.directory)

    def closure(self, roots: Iterable[str]) -> list[str]:
        """Names of the roots and every type they refer to, sorted."""
        found: set[str] = set()
        for root in roots:
            _References(self, found).visit(self._lookup(root))
        return sorted(found)

    def names(self) -> list[str]:
        if self.memory_only:
            return sorted(self.types)
        return sorted(p.stem for p in self.directory.glob("*.avsc"))

    def has(self, name: str) -> bool:
        return short_name(name) in self.names()

    def raw(self, name: str) -> JsonSchema:
        """The type as written in its file (named references not resolved)."""
        return self._lookup(name)

    def expanded(self, name: str) -> JsonSchema:
        """The schema of ``name`` with every named reference resolved (self-contained JSON)."""
        return _Expander(self).expand(self._lookup(name))

    def canonical_json(self, name: str) -> str:
        """Deterministic compact JSON of :meth:`expanded` (what a registry stores)."""
        return json.dumps(self.expanded(name), sort_keys=True, separators=(",", ":"))

    def parsed(self, name: str) -> JsonSchema:
        """The fastavro-parsed schema of ``name`` (cached)."""
        if name not in self._parsed:
            self._parsed[name] = parse_schema(self.expanded(name))
        return self._parsed[name]

    def fingerprint(self, name: str) -> bytes:
        """The 8-byte CRC-64-AVRO fingerprint of the parsing canonical form (little-endian)."""
        return schema_fingerprint(self.parsed(name))

    def _lookup(self, name: str) -> JsonSchema:
        short = short_name(name)
        if short not in self.types and not self.memory_only:
            self.types[short] = _read_avsc(self.directory / f"{short}.avsc", short)
        if short not in self.types:
            raise ConfigurationError(f"unknown Avro type {name!r} in the schemas given")
        return self.types[short]


def _read_avsc(path: Path, name: str) -> JsonSchema:
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigurationError(f"unknown Avro type {name!r}: no {path}") from None
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"cannot read Avro schema {path}: {exc}") from exc
    if not isinstance(schema, dict) or schema.get("name") != name:
        raise ConfigurationError(f"{path} must hold one named type called {name!r}")
    return schema


class _References:
    """Collects the names of the named types a schema refers to, transitively."""

    def __init__(self, schemas: SchemaSet, found: set[str]) -> None:
        self._schemas = schemas
        self._found = found

    def visit(self, schema: JsonSchema) -> None:
        if isinstance(schema, list):
            for branch in schema:
                self.visit(branch)
        elif isinstance(schema, str):
            if schema not in _PRIMITIVES and short_name(schema) not in self._found:
                self._found.add(short_name(schema))
                self.visit(self._schemas._lookup(schema))
        elif isinstance(schema, dict):
            self._visit_type(schema)

    def _visit_type(self, schema: Mapping[str, Any]) -> None:
        if "name" in schema and schema.get("type") in ("record", "error", "enum", "fixed"):
            self._found.add(short_name(schema["name"]))
        for f in schema.get("fields", []):
            self.visit(f["type"])
        for key in ("items", "values"):
            if key in schema:
                self.visit(schema[key])
        if isinstance(schema.get("type"), (list, dict)) or (
            isinstance(schema.get("type"), str)
            and schema["type"] not in _PRIMITIVES
            and schema["type"] not in ("record", "error", "enum", "fixed", "array", "map")
        ):
            self.visit(schema["type"])


class _Expander:
    """Inlines named references depth-first, in field order, each named type once."""

    def __init__(self, schemas: SchemaSet) -> None:
        self._schemas = schemas
        self._seen: set[str] = set()

    def expand(self, schema: JsonSchema) -> JsonSchema:
        if isinstance(schema, list):
            return [self.expand(branch) for branch in schema]
        if isinstance(schema, str):
            return schema if schema in _PRIMITIVES else self._reference(schema)
        kind = schema["type"]
        if kind in ("record", "error", "enum", "fixed"):
            self._seen.add(fullname(schema["name"]))
        if kind in ("record", "error"):
            fields = [{**f, "type": self.expand(f["type"])} for f in schema["fields"]]
            return {**schema, "fields": fields}
        if kind == "array":
            return {**schema, "items": self.expand(schema["items"])}
        if kind == "map":
            return {**schema, "values": self.expand(schema["values"])}
        if isinstance(kind, (list, dict)) or kind not in _PRIMITIVES | {"enum", "fixed"}:
            return {**schema, "type": self.expand(kind)}
        return dict(schema)

    def _reference(self, name: str) -> JsonSchema:
        full = fullname(name)
        if full in self._seen:
            return full
        return self.expand(self._schemas._lookup(name))


def schema_fingerprint(parsed: JsonSchema) -> bytes:
    """CRC-64-AVRO fingerprint of a parsed schema, as the 8 bytes of single-object encoding."""
    return bytes.fromhex(fingerprint(to_parsing_canonical_form(parsed), "CRC-64-AVRO"))


@cache
def current() -> SchemaSet:
    """The current schemas of ``avro/``."""
    return SchemaSet.from_directory(AVRO_DIR)


def load_schema(name: str) -> JsonSchema:
    """The fastavro-parsed current schema of the named type (e.g. ``"Quantity"``)."""
    return current().parsed(name)


def envelope_schema() -> JsonSchema:
    """The fastavro-parsed current Envelope schema."""
    return current().parsed(ENVELOPE)


def envelope_schema_json() -> str:
    """Canonical, fully expanded JSON of the current Envelope schema, for registering it."""
    return current().canonical_json(ENVELOPE)


@dataclass(frozen=True)
class ReleasedVersion:
    """One released version of the schemas, kept under ``avro/released/v<number>/``."""

    number: int
    schemas: SchemaSet


def released_versions(released_dir: Path = RELEASED_DIR) -> list[ReleasedVersion]:
    """All released versions, oldest first."""
    return sorted(_iter_released(released_dir), key=lambda v: v.number)


def _iter_released(released_dir: Path) -> Iterator[ReleasedVersion]:
    if not released_dir.is_dir():
        return
    for folder in released_dir.iterdir():
        if folder.is_dir() and folder.name.startswith("v") and folder.name[1:].isdigit():
            yield ReleasedVersion(int(folder.name[1:]), SchemaSet.from_directory(folder))
