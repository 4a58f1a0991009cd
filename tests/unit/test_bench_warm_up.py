"""The bench's warm-up batch: one real envelope per source system, under a code of its own."""

from __future__ import annotations

from tracesync.contracts.schemas import current
from tracesync.contracts.serde import EnvelopeSerde
from tracesync.contracts.wire_formats import SingleObjectFormat
from tracesync.devtools.bench.ready import WARM_UP_BATCH, warm_up_records
from tracesync.devtools.bench.workload import build_workload
from tracesync.settings import Settings
from tracesync.topics import TopicCatalog


def test_the_warm_up_sends_one_decodable_envelope_per_source_system_of_the_batch() -> None:
    serde = EnvelopeSerde(SingleObjectFormat(current()), schemas=current())
    workload = build_workload(400, seed=2)
    catalog = TopicCatalog.from_settings(Settings())
    records = warm_up_records(workload, catalog, serde)
    systems = {e["source_system"] for e in workload.envelopes}
    assert sorted(topic for topic, _, _ in records) == sorted(
        catalog.source_topic(s) for s in systems
    )
    decoded = [serde.decode(value) for _, _, value in records]
    assert {key for _, key, _ in records} == {WARM_UP_BATCH.encode()}
    assert {e["batch_code"] for e in decoded} == {WARM_UP_BATCH}
    assert WARM_UP_BATCH not in workload.batch_codes
    workload_ids = {e["event_id"] for e in workload.envelopes}
    assert not workload_ids & {e["event_id"] for e in decoded}
