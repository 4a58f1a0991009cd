"""Declarative mappings (TOML) from source rows to Envelopes, shared by the DB and file adapters.

A mapping file names its source (``[source] name, system``), where rows come from (``[db]`` or
``[file]``, read by the adapter) and how one row becomes one Envelope (``[envelope]`` and
``[payload]``). Every value in those two tables is a *field spec*:

* ``"col"`` or ``{ column = "col" }``: the row's value of that column (``a/b`` walks nested XML
  elements); options ``split = ","`` (a text list), ``json = true`` (a JSON text column),
  ``map = { OK = "PASS" }`` (translate codes), ``default = ...`` (when the column is empty or null),
  ``items = { ... }`` (a table of field specs applied to each element of a list of records);
* ``{ const = ... }`` or a bare number/boolean: a constant;
* ``{ template = "MES:BS:{batch_code}" }``: text with column values filled in;
* a table without those keys: a record whose fields are field specs
  (``quantity = { value = "qty", uom = "uom" }``).

Row values are then coerced towards the Avro type of their field (text to numbers, booleans,
decimal strings, ISO timestamps; naive timestamps are read in ``[source] timezone``, UTC by default)
and validated by the envelope serde. :class:`RowConverter` reports every problem of a row as
``(field path, reason)`` pairs. Mapping files are checked when loaded; a bad one raises
:class:`~tracesync.errors.ConfigurationError` naming the file and the key.

Modules: ``model`` (the parsed shape), ``parse`` (loading and checking files), ``evaluate``
(specs applied to a row), ``coerce`` (towards the Avro types), ``convert`` (rows to envelopes).
"""

from producers.mapping.convert import (
    INGEST_NAMESPACE,
    Converted,
    RowConverter,
    RowRejected,
    derived_event_id,
)
from producers.mapping.evaluate import MISSING, MissingColumn, evaluate, lookup
from producers.mapping.model import (
    SOURCE_SYSTEMS,
    Column,
    Const,
    DbSource,
    EventSpec,
    FileSource,
    RecordSpec,
    SourceMapping,
    Spec,
    Template,
)
from producers.mapping.parse import load_mapping, parse_mapping, parse_spec

__all__ = [
    "INGEST_NAMESPACE",
    "MISSING",
    "SOURCE_SYSTEMS",
    "Column",
    "Const",
    "Converted",
    "DbSource",
    "EventSpec",
    "FileSource",
    "MissingColumn",
    "RecordSpec",
    "RowConverter",
    "RowRejected",
    "SourceMapping",
    "Spec",
    "Template",
    "derived_event_id",
    "evaluate",
    "load_mapping",
    "lookup",
    "parse_mapping",
    "parse_spec",
]
