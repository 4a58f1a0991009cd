"""The worker's lean chain value encodes to the bytes fastavro writes for the plain record."""

from __future__ import annotations

import io

from fastavro import schemaless_writer

from streams.domain.reconcile import ReconciliationRules
from streams.domain.view import ChainView
from streams.processor import ChainProcessor
from streams.records import chain_record, chain_value
from tracesync.contracts.record_serde import RecordSerde
from tracesync.contracts.serde import EnvelopeSerde
from tracesync.devtools.bench.processor import source_decoder, source_records

SERDE = RecordSerde.single_object("TraceChain")


def _simulated_views() -> list[ChainView]:
    processor = ChainProcessor(
        decode=source_decoder(EnvelopeSerde.single_object()),
        load=lambda code: None,
        rules=ReconciliationRules(),
    )
    views: list[ChainView] = []
    records = source_records(1500, seed=5)
    for start in range(0, len(records), 100):
        views.extend(processor.process(records[start : start + 100]).views)
    return views


def _fastavro(view: ChainView) -> bytes:
    out = io.BytesIO()
    out.write(SERDE.encode(chain_record(view))[:10])  # the single-object header
    schemaless_writer(out, SERDE.schema, chain_record(view))
    return out.getvalue()


def test_chain_value_writes_the_bytes_of_the_plain_record() -> None:
    views = _simulated_views()
    assert len({v.batch_code for v in views}) > 20
    assert any(v.holds for v in views) and any(v.shipments for v in views)
    for view in views:
        expected = _fastavro(view)
        assert SERDE.encode(chain_value(view)) == expected
        assert SERDE.encode(chain_value(view)) == expected  # sub-records from the cache
        assert SERDE.encode(chain_record(view)) == expected
        assert SERDE.decode(expected)["version"] == view.version
