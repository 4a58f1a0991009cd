"""JSON-lines dump of a simulation's records in sending order (what ``--dry-run`` writes).

One line per record: ``{"topic", "key", "envelope"}`` with the envelope in the serde's JSON form
(decimals and times as strings), or ``{"topic", "key", "malformed", "value_hex"}`` for a record
that is deliberately not a valid envelope.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from tracesync.contracts.serde import EnvelopeSerde
from tracesync.devtools.simulator.faults import OutRecord
from tracesync.devtools.simulator.publish import wire_value


def write_dump(
    path: Path, records: Iterable[OutRecord], serde: EnvelopeSerde, topics: Mapping[str, str]
) -> int:
    """Write the dump; returns the number of lines."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = 0
    with path.open("w", encoding="utf-8") as out:
        for record in records:
            line: dict[str, object] = {"topic": topics[record.system], "key": record.key}
            if record.envelope is not None:
                line["envelope"] = serde.to_json(record.envelope)
            elif record.malformed is not None:
                line["malformed"] = record.malformed.reason
                line["value_hex"] = wire_value(record, serde).hex()
            else:
                raise ValueError(f"record {record.key!r} has neither an envelope nor a fault")
            out.write(json.dumps(line, sort_keys=True) + "\n")
            lines += 1
    return lines
