"""The demo's renderers write what the mapping files read back as the simulator's own events.

Each event the demo sends through the database outbox or a file drop is rendered to a row (or an
XML element), read back the way the adapters read it (CSV/XML parsing of :mod:`producers.files`),
and converted with the mapping of ``deploy/mappings``: the envelope that comes out carries the
simulator's batch code, times, sequence and payload.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from producers.files import read_rows
from producers.mapping import Converted, RowConverter, SourceMapping, load_mapping
from tracesync.contracts.serde import EnvelopeSerde
from tracesync.devtools.demo.feed import write_csv
from tracesync.devtools.demo.renderers import (
    OUTBOX_OF_EVENT,
    WMS_RECEIPT_COLUMNS,
    Edge,
    edge_of,
    outbox_row,
    qms_export,
    qms_inspection_element,
    wms_receipt_row,
)
from tracesync.devtools.demo.setup import MAPPINGS
from tracesync.devtools.simulator.scenario import SimulationConfig, simulate

SIM = simulate(SimulationConfig(batches=40, seed=7))
MAPPING_OF_TABLE = {
    "erp_outbox": "erp_receipts.db.toml",
    "erp_production_receipt_outbox": "erp_production_receipts.db.toml",
    "erp_shipment_outbox": "erp_shipments.db.toml",
}


def _events(event_type: str) -> list[dict[str, Any]]:
    found = [e for e in SIM.events if e["event_type"] == event_type]
    assert found, f"the simulation has no {event_type}"
    return found


def _convert(mapping: SourceMapping, row: Mapping[str, Any]) -> dict[str, Any]:
    converter = RowConverter(mapping.events, EnvelopeSerde.single_object(), "PLANT-01")
    outcome = converter.convert(row, "00000000-0000-4000-8000-000000000000")
    assert isinstance(outcome, Converted), outcome
    return outcome.envelope


def _assert_same_event(got: Mapping[str, Any], want: Mapping[str, Any], *, ref: bool) -> None:
    for key in ("event_type", "source_system", "source_seq", "batch_code", "occurred_at"):
        assert got[key] == want[key], key
    assert got["payload"] == want["payload"]
    if ref:
        assert got["source_ref"] == want["source_ref"]


@pytest.mark.parametrize("event_type", sorted(OUTBOX_OF_EVENT))
def test_erp_outbox_rows_read_back_as_the_simulated_events(event_type: str) -> None:
    for envelope in _events(event_type):
        assert edge_of(envelope) is Edge.DB
        table, row = outbox_row(envelope)
        mapping = load_mapping(MAPPINGS / MAPPING_OF_TABLE[table])
        assert mapping.db is not None and mapping.db.table == table
        got = _convert(mapping, row)
        _assert_same_event(got, envelope, ref=True)
        if mapping.events.envelope.get("recorded_at") is not None:
            assert got["recorded_at"] == envelope["recorded_at"]


def test_wms_csv_export_reads_back_as_the_simulated_receipts() -> None:
    envelopes = _events("GOODS_RECEIVED")
    mapping = load_mapping(MAPPINGS / "wms_receipts.csv.toml")
    data = write_csv([wms_receipt_row(e) for e in envelopes], WMS_RECEIPT_COLUMNS)
    rows = read_rows(data, mapping)
    assert len(rows) == len(envelopes)
    for row, envelope in zip(rows, envelopes, strict=True):
        _assert_same_event(_convert(mapping, row), envelope, ref=True)


def test_qms_xml_export_reads_back_as_the_simulated_inspections() -> None:
    envelopes = _events("INSPECTION_RECORDED")
    mapping = load_mapping(MAPPINGS / "qms_inspections.xml.toml")
    data = qms_export(
        [qms_inspection_element(e) for e in envelopes], "PLANT-01", SIM.events[0]["occurred_at"]
    )
    rows = read_rows(data, mapping)
    assert len(rows) == len(envelopes)
    for row, envelope in zip(rows, envelopes, strict=True):
        # the QMS export names its records QMS:INS:<id> (the mapping's template), not QMS:QI:<id>
        _assert_same_event(_convert(mapping, row), envelope, ref=False)


def test_every_other_event_type_goes_over_rest() -> None:
    rest = {e["event_type"] for e in SIM.events if edge_of(e) is Edge.REST}
    assert "BATCH_COMPLETED" in rest and "HOLD_PLACED" in rest and "STOCK_COUNTED" in rest
    assert not rest & (set(OUTBOX_OF_EVENT) | {"GOODS_RECEIVED", "INSPECTION_RECORDED"})
