"""The JSON Schema of the inventory format, generated from the model.

The committed copy is ``deploy/assess/inventory.schema.json`` (a unit test keeps it equal to the
model). Regenerate it with ``tracesync assess --schema > deploy/assess/inventory.schema.json``.
"""

from __future__ import annotations

import json
from typing import Any

from tracesync.assess.model import Inventory

SCHEMA_ID = "https://tracesync.invalid/schemas/assess-inventory.schema.json"


def json_schema() -> dict[str, Any]:
    """The inventory's JSON Schema (draft 2020-12), keys by their TOML names (``from``)."""
    schema = Inventory.model_json_schema(by_alias=True, mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
        "title": "tracesync assess inventory",
    }


def schema_text() -> str:
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"
