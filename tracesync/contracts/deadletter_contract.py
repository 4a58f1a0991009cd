"""The dead-letter header convention as a released contract, and its compatibility check.

Dead-letter records keep their original key and value; what tools and people downstream read are
the ``dlq.*`` headers of :data:`tracesync.deadletter.CONVENTION`. Each schema release writes that
convention next to the ``.avsc`` files (``avro/released/v<n>/DeadLetterHeaders.json``), and
:func:`check_headers` names every released header the current convention breaks: removed, with
another format, or no longer on every dead letter although it was released as required. Adding
headers is compatible.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from tracesync.deadletter import CONVENTION, HeaderSpec
from tracesync.errors import ConfigurationError

FILE_NAME = "DeadLetterHeaders.json"
CONTRACT_NAME = "DeadLetterHeaders"
_DOC = (
    "Headers of every record on a dlq.* topic (the record keeps its original key and value). "
    "Values are UTF-8; format integer is decimal digits, json is a JSON document."
)


def convention_document(convention: Sequence[HeaderSpec] = CONVENTION) -> dict[str, Any]:
    """The JSON document of a header convention (what a release writes)."""
    headers = [{**asdict(spec), "set_by": list(spec.set_by)} for spec in convention]
    return {"name": CONTRACT_NAME, "doc": _DOC, "headers": headers}


def write_convention(folder: Path, convention: Sequence[HeaderSpec] = CONVENTION) -> Path:
    path = folder / FILE_NAME
    path.write_text(json.dumps(convention_document(convention), indent=2) + "\n", encoding="utf-8")
    return path


def read_convention(folder: Path) -> tuple[HeaderSpec, ...] | None:
    """The convention released in ``folder``; None for a release made before it was a contract."""
    path = folder / FILE_NAME
    if not path.is_file():
        return None
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        return tuple(
            HeaderSpec(
                name=str(h["name"]),
                format=str(h["format"]),
                required=bool(h["required"]),
                set_by=tuple(h["set_by"]),
                doc=str(h["doc"]),
            )
            for h in document["headers"]
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigurationError(f"cannot read the dead-letter convention {path}: {exc}") from exc


def check_headers(
    released: Iterable[HeaderSpec], current: Iterable[HeaderSpec] = CONVENTION
) -> Iterator[tuple[str, str]]:
    """(header name, reason) for every released header the current convention breaks."""
    now = {spec.name: spec for spec in current}
    for old in released:
        new = now.get(old.name)
        if new is None:
            yield old.name, "removed: consumers of the released convention read it"
        elif new.format != old.format:
            yield old.name, f"format changed from {old.format} to {new.format}"
        elif old.required and not new.required:
            yield old.name, "no longer on every dead letter, but released as required"
