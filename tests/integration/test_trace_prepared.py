"""The trace statements on PostgreSQL: one SQL text whatever the number of codes, prepared on the
server by the query engine (:func:`sinks.store.readonly.open_for_queries`), same answers."""

from __future__ import annotations

import pytest

from sinks.store.database import open_store
from sinks.store.queries import recall, trace
from sinks.store.readonly import open_for_queries
from sinks.store.rows import chain_rows
from tests.unit.store_plant import plant

pytestmark = pytest.mark.integration


def test_each_trace_statement_is_prepared_once_for_any_number_of_codes(postgres_url: str) -> None:
    store = open_store(postgres_url)
    store.write([chain_rows(r) for r in plant()])
    store.engine.dispose()
    engine = open_for_queries(postgres_url)
    with engine.connect() as conn:
        one = trace(conn, "FG-B1")  # one batch
        two = trace(conn, "DLV-2")  # a delivery of two batches: two walks, more lots
        downstream = recall(conn, "RM-SALT-L1")
        prepared = conn.exec_driver_sql("SELECT statement FROM pg_prepared_statements").all()
    assert one is not None and two is not None
    assert [t.batch.batch_code for t in two.traces] == ["FG-B1", "FG-B2"]
    assert {link.code for link in downstream.downstream} == {"FILL-B1", "FG-B1", "FG-B2"}
    texts = [str(row.statement) for row in prepared]
    walks = [t for t in texts if "WITH RECURSIVE" in t]
    assert len(walks) == 2  # the upward walk (one start, then two) and the downward one
    assert all("= ANY (" in t for t in walks)
    lot_facts = [t for t in texts if "supplier_lot" in t and "chain" not in t]
    assert len(lot_facts) == 1
    engine.dispose()
