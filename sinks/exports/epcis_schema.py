"""Check an EPCIS 2.0 document against GS1's JSON Schema (``jsonschema``, draft-07, formats on).

GS1 publishes the schema (``EPCIS-JSON-Schema.json``) with the standard; tracesync does not ship a
copy, so the path is given (tests use ``../shared/standards/epcis-2.0/``,
``tracesync export epcis --schema FILE`` checks what it wrote). ``uri`` and ``date-time`` formats
are enforced (``rfc3986-validator``, ``rfc3339-validator``), which is what makes a bad identifier
or time fail rather than pass silently.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator, FormatChecker
from jsonschema.exceptions import SchemaError

from tracesync.errors import ConfigurationError

_CHECKED_FORMATS = ("uri", "date-time")


def load_validator(schema_path: Path) -> Draft7Validator:
    """A validator for the schema at ``schema_path``; fails when the format checks are missing."""
    try:
        schema = json.loads(schema_path.read_text(encoding="utf-8"))
        Draft7Validator.check_schema(schema)
    except (OSError, ValueError, SchemaError) as exc:
        raise ConfigurationError(f"cannot load the EPCIS schema {schema_path}: {exc}") from exc
    checker = FormatChecker()
    missing = [f for f in _CHECKED_FORMATS if f not in checker.checkers]
    if missing:
        raise ConfigurationError(
            f"jsonschema cannot check the formats {missing}: install rfc3986-validator and "
            "rfc3339-validator"
        )
    return Draft7Validator(schema, format_checker=checker)


def problems(validator: Draft7Validator, document: Mapping[str, Any]) -> list[str]:
    """Every schema violation as ``path: message`` (empty when the document is valid)."""
    found = []
    for error in sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path)):
        path = "/".join(str(p) for p in error.absolute_path) or "<document>"
        found.append(f"{path}: {error.message}")
    return found
