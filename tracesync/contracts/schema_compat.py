"""Compatibility check of the current schemas against every released version.

Backward, for every released type: a reader on the current schemas must be able to read whatever a
released writer wrote (tracesync reading its source topics, or its own compacted chain topic).
Forward, for the records published to downstream services (``OUTPUT_ROOTS``: chain, alerts,
receipts): a consumer still on a released schema must be able to read what the current schemas
write. Both together are FULL compatibility, checked against every released version (transitive).
Apache Avro's ``ReaderWriterCompatibilityChecker`` decides each direction per named type; its
locations (JSON pointers such as ``/fields/8/type/fields/0/type``) are turned into field paths
(``produced_quantity.value``). The Avro rules let a logical type change silently (a decimal's
scale from 3 to 2 still reads as bytes, with wrong values), so a second pass compares logical
types field by field. The dead-letter header convention released with the schemas is checked by
:mod:`tracesync.contracts.deadletter_contract`.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import avro.schema
from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType

from tracesync.contracts import deadletter_contract
from tracesync.contracts.schemas import (
    AVRO_DIR,
    OUTPUT_ROOTS,
    RELEASE_ROOTS,
    RELEASED_DIR,
    JsonSchema,
    ReleasedVersion,
    SchemaSet,
    fullname,
    released_versions,
    short_name,
)
from tracesync.deadletter import CONVENTION
from tracesync.errors import ConfigurationError

_LOGICAL_KEYS = ("logicalType", "precision", "scale")
BACKWARD = "backward"
FORWARD = "forward"
_DIRECTION_SAYS = {
    BACKWARD: "the current schemas cannot read data written with it",
    FORWARD: "consumers on it cannot read data written with the current schemas",
}


@dataclass(frozen=True)
class CompatProblem:
    """One way the current schemas cannot read data written with a released version."""

    version: int
    type_name: str
    field: str
    reason: str
    direction: str = BACKWARD

    def describe(self) -> str:
        where = f"{self.type_name}.{self.field}" if self.field else self.type_name
        return f"v{self.version} {self.direction}: {where}: {self.reason}"


def check_released(current: SchemaSet, released: Iterable[ReleasedVersion]) -> list[CompatProblem]:
    """Everything that breaks: backward for every type, forward for the output records, headers."""
    versions = list(released)
    return [
        *check_backward(current, versions),
        *check_forward(current, versions),
        *check_dead_letter_headers(versions),
    ]


def check_backward(current: SchemaSet, released: Iterable[ReleasedVersion]) -> list[CompatProblem]:
    """Every problem reading data of any released version with the current schemas."""
    problems: list[CompatProblem] = []
    for version in released:
        for name in version.schemas.names():
            if not current.has(name):
                continue  # a type nobody refers to any more; the Envelope check covers its uses
            problems.extend(_check_type(current, version, name))
    return problems


def check_forward(
    current: SchemaSet, released: Iterable[ReleasedVersion], roots: Iterable[str] = OUTPUT_ROOTS
) -> list[CompatProblem]:
    """Every problem a consumer on a released output schema has reading current data.

    Logical-type changes are direction-free and reported once, by :func:`check_backward`.
    """
    roots = tuple(roots)
    problems: list[CompatProblem] = []
    for version in released:
        published = [r for r in roots if version.schemas.has(r)]
        for name in version.schemas.closure(published) if published else []:
            if current.has(name):
                problems.extend(_check_type(current, version, name, FORWARD))
            elif name in roots:
                reason = "removed: consumers of the released version read it"
                problems.append(CompatProblem(version.number, name, "", reason, FORWARD))
    return problems


def check_dead_letter_headers(released: Iterable[ReleasedVersion]) -> list[CompatProblem]:
    """Every released dead-letter header the current convention removes or changes."""
    problems: list[CompatProblem] = []
    for version in released:
        convention = deadletter_contract.read_convention(version.schemas.directory)
        for header, reason in deadletter_contract.check_headers(convention or ()):
            problems.append(
                CompatProblem(
                    version.number, deadletter_contract.CONTRACT_NAME, header, reason, FORWARD
                )
            )
    return problems


def _check_type(
    current: SchemaSet, version: ReleasedVersion, name: str, direction: str = BACKWARD
) -> Iterator[CompatProblem]:
    new_json, old_json = current.expanded(name), version.schemas.expanded(name)
    # backward: the current schema reads released data; forward: the released schema reads ours
    reader_json, writer_json = (
        (new_json, old_json) if direction == BACKWARD else (old_json, new_json)
    )
    reader = avro.schema.parse(json.dumps(reader_json))
    writer = avro.schema.parse(json.dumps(writer_json))
    checker = ReaderWriterCompatibilityChecker()  # type: ignore[no-untyped-call]
    result = checker.get_compatibility(reader, writer)
    if result.compatibility is SchemaCompatibilityType.incompatible:
        reason = "; ".join(sorted(str(m) for m in result.messages))
        kinds = ", ".join(sorted({i.value for i in result.incompatibilities}))
        locations = sorted(loc for loc in result.locations if loc != "/") or ["/"]
        for location in locations:
            field = _field_path(location, reader_json, writer_json)
            yield CompatProblem(version.number, name, field, f"{kinds}: {reason}", direction)
    if direction == BACKWARD:
        for field, reason in _logical_changes(reader_json, writer_json, ""):
            yield CompatProblem(version.number, name, field, reason)


def _field_path(location: str, reader: JsonSchema, writer: JsonSchema) -> str:
    """Translate a checker location into dotted field names, following reader and writer."""
    names = {**_named_types(writer), **_named_types(reader)}
    steps = [t for t in location.split("/") if t]
    path: list[str] = []
    node: JsonSchema = reader
    other: JsonSchema = writer
    while steps:
        node, other = _resolve(node, names), _resolve(other, names)
        step = steps.pop(0)
        if step == "fields" and steps:
            index = int(steps.pop(0))
            field = node["fields"][index] if index < len(node["fields"]) else None
            if field is None:
                break
            path.append(field["name"])
            node, other = field, _field_named(other, field["name"])
        elif step == "type":
            node, other = _type_of(node), _type_of(other)
        elif step in ("items", "values"):
            node, other = node.get(step), other.get(step) if isinstance(other, dict) else None
            path[-1:] = [f"{path[-1]}[]" if path else "[]"]
        elif step.isdigit() and isinstance(other, list):
            branch = other[int(step)]
            path.append(f"<{short_name(_branch_name(_resolve(branch, names)))}>")
            node = other = branch
        else:
            break
    return ".".join(path)


def _logical_changes(
    reader: JsonSchema, writer: JsonSchema, path: str
) -> Iterator[tuple[str, str]]:
    """Fields whose logical type (or decimal precision/scale) differs between reader and writer."""
    yield from _LogicalComparer().compare(reader, writer, path)


class _LogicalComparer:
    def __init__(self) -> None:
        self._reader_names: dict[str, JsonSchema] = {}
        self._writer_names: dict[str, JsonSchema] = {}
        self._visited: set[tuple[str, str]] = set()

    def compare(
        self, reader: JsonSchema, writer: JsonSchema, path: str
    ) -> Iterator[tuple[str, str]]:
        self._reader_names.update(_named_types(reader))
        self._writer_names.update(_named_types(writer))
        reader, writer = _resolve(reader, self._reader_names), _resolve(writer, self._writer_names)
        if isinstance(reader, list) and isinstance(writer, list):
            yield from self._compare_unions(reader, writer, path)
        elif isinstance(reader, dict) and isinstance(writer, dict):
            yield from self._compare_types(reader, writer, path)

    def _compare_unions(
        self, reader: list[JsonSchema], writer: list[JsonSchema], path: str
    ) -> Iterator[tuple[str, str]]:
        by_key = {_branch_name(_resolve(b, self._reader_names)): b for b in reader}
        for branch in writer:
            key = _branch_name(_resolve(branch, self._writer_names))
            if key in by_key:
                sub = f"{path}.<{short_name(key)}>" if "." in key else path
                yield from self.compare(by_key[key], branch, sub)

    def _compare_types(
        self, reader: dict[str, Any], writer: dict[str, Any], path: str
    ) -> Iterator[tuple[str, str]]:
        kinds = (reader.get("type"), writer.get("type"))
        if kinds == ("record", "record"):
            yield from self._compare_records(reader, writer, path)
        elif kinds == ("array", "array"):
            yield from self.compare(reader["items"], writer["items"], f"{path}[]")
        elif kinds == ("map", "map"):
            yield from self.compare(reader["values"], writer["values"], f"{path}[]")
        else:
            before = {k: writer.get(k) for k in _LOGICAL_KEYS if k in writer}
            after = {k: reader.get(k) for k in _LOGICAL_KEYS if k in reader}
            if before != after and (before or after):
                yield path, f"logical type changed from {before or 'none'} to {after or 'none'}"

    def _compare_records(
        self, reader: dict[str, Any], writer: dict[str, Any], path: str
    ) -> Iterator[tuple[str, str]]:
        visit = (path, str(reader.get("name")))
        if visit in self._visited:
            return
        self._visited.add(visit)
        for field in reader["fields"]:
            old = _field_named(writer, field["name"])
            if old is not None:
                sub = f"{path}.{field['name']}" if path else field["name"]
                yield from self.compare(field["type"], old["type"], sub)


def _named_types(schema: JsonSchema) -> dict[str, JsonSchema]:
    found: dict[str, JsonSchema] = {}

    def visit(node: JsonSchema) -> None:
        if isinstance(node, list):
            for branch in node:
                visit(branch)
        elif isinstance(node, dict):
            if node.get("type") in ("record", "error", "enum", "fixed") and "name" in node:
                found[fullname(node["name"])] = node
            for field in node.get("fields", []):
                visit(field["type"])
            for key in ("items", "values"):
                if key in node:
                    visit(node[key])
            if isinstance(node.get("type"), (dict, list)):
                visit(node["type"])

    visit(schema)
    return found


def _resolve(node: JsonSchema, names: dict[str, JsonSchema]) -> JsonSchema:
    if isinstance(node, str) and fullname(node) in names:
        return names[fullname(node)]
    return node


def _type_of(node: JsonSchema) -> JsonSchema:
    return node.get("type") if isinstance(node, dict) else node


def _field_named(record: JsonSchema, name: str) -> JsonSchema | None:
    if not isinstance(record, dict):
        return None
    return next((f for f in record.get("fields", []) if f["name"] == name), None)


def _branch_name(branch: JsonSchema) -> str:
    if isinstance(branch, dict):
        return str(branch.get("name") or branch.get("logicalType") or branch.get("type"))
    return str(branch)


def release(
    current_dir: Path = AVRO_DIR,
    released_dir: Path = RELEASED_DIR,
    roots: Iterable[str] = RELEASE_ROOTS,
) -> int | None:
    """Copy the current ``roots`` (and the types they use) to a new ``released/v<n+1>/``.

    The dead-letter header convention is released with them. Returns the new version number, or
    None when nothing changed since the last release. Refuses (ConfigurationError) when the current
    schemas or headers break a released version (:func:`check_released`).
    """
    current = SchemaSet.from_directory(current_dir)
    names = current.closure(roots)
    candidate = SchemaSet.in_memory({n: current.raw(n) for n in names}, current_dir)
    versions = released_versions(released_dir)
    if versions and _same_release(candidate, versions[-1]):
        return None
    problems = check_released(current, versions)
    if problems:
        details = "\n  ".join(p.describe() for p in problems)
        raise ConfigurationError(f"not releasing: the current schemas break:\n  {details}")
    number = versions[-1].number + 1 if versions else 1
    target = released_dir / f"v{number}"
    target.mkdir(parents=True)
    for name in names:
        shutil.copy2(current_dir / f"{name}.avsc", target / f"{name}.avsc")
    deadletter_contract.write_convention(target)
    return number


def _same_release(candidate: SchemaSet, latest: ReleasedVersion) -> bool:
    headers = deadletter_contract.read_convention(latest.schemas.directory)
    return _same_schemas(candidate, latest.schemas) and headers == CONVENTION


def _same_schemas(a: SchemaSet, b: SchemaSet) -> bool:
    return a.names() == b.names() and all(a.raw(n) == b.raw(n) for n in a.names())
