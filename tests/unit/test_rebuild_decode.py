"""The rebuild's row making: records into store rows in a child process, bad ones named."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ops.rebuild_decode import RowMaker, rows_of
from sinks.store.rows import chain_rows
from tests.unit.store_plant import chain

STORED_AT = datetime(2026, 1, 2, tzinfo=UTC)
RECORDS = {b"A": chain("FG-A", product="P"), b"B": chain("FG-B", product="Q")}


def _decode(value: bytes) -> dict[str, Any]:
    if value == b"no rows":
        return {"batch_code": "X"}  # decodes, but its rows cannot be built
    return RECORDS[value]  # KeyError: not a record


def test_rows_are_those_of_the_records_and_unreadable_ones_are_named() -> None:
    items = [("t[0]@0", b"A"), ("t[0]@1", b"junk"), ("t[1]@0", b"no rows"), ("t[1]@1", b"B")]
    made, bad = rows_of(_decode, items, STORED_AT)
    assert made == [chain_rows(RECORDS[b"A"], STORED_AT), chain_rows(RECORDS[b"B"], STORED_AT)]
    assert [line.split(":")[0] for line in bad] == ["t[0]@1", "t[1]@0"]
    assert "KeyError" in bad[0]


def test_the_child_process_makes_the_same_rows() -> None:
    maker = RowMaker(_decode)
    try:
        made, bad = maker.submit([("t[0]@0", b"A"), ("t[0]@1", b"?")], STORED_AT).result(30)
    finally:
        maker.close()
    assert made == [chain_rows(RECORDS[b"A"], STORED_AT)]
    assert len(bad) == 1
