"""The store sink's loop against fakes of its ports: batching, the version guard's outcomes,
offsets committed only after the write, dead letters, pause and backoff while the store is down,
revoked partitions. The real writer and Kafka side: tests/integration/test_store_sink.py and
test_store_write.py."""

from __future__ import annotations

import random
import threading
from typing import Any

from sinks.store.flow import Backoff, Batch, Incoming, RecordDecoder
from sinks.store.sink import StoreSink
from sinks.topics import SinkTopics
from tests.unit.store_fakes import (
    ALERTS,
    CHAINS,
    FakeDeadLetters,
    FakeSource,
    FakeWriter,
    Journal,
    end_offsets,
    records_on,
)
from tests.unit.store_plant import T0, chain
from tracesync.settings import StoreSettings

TOPICS = SinkTopics("t.chain", "t.alerts", "t.dlq")
FAST = {"batch_max_ms": 20, "retry_initial_s": 0.001, "retry_max_s": 0.004}


class Rig:
    """A sink wired to fakes; ``run()`` consumes every record and returns when drained."""

    def __init__(self, records: list[Incoming], **options: Any) -> None:
        self.records = records
        self.journal = Journal()
        self.stop = threading.Event()
        self.writer = FakeWriter(self.journal)
        self.source = FakeSource(self.journal, records, self.stop)
        self.dead = FakeDeadLetters(self.journal)
        decoder = RecordDecoder(TOPICS, CHAINS, ALERTS)
        settings = StoreSettings.model_validate(FAST | options)
        self.sink = StoreSink(self.writer, self.source, self.dead, decoder, settings)

    def run(self) -> None:
        self.sink.run(self.stop)


def chain_records(versions: dict[str, list[int]]) -> list[Incoming]:
    """Each code's versions in the given order, codes interleaved, encoded as the worker does."""
    longest = max(len(v) for v in versions.values())
    pairs = [
        (code, CHAINS.encode(chain(code, vs[i], product="P")))
        for i in range(longest)
        for code, vs in versions.items()
        if i < len(vs)
    ]
    return records_on(TOPICS.chain, pairs)


def shuffled(codes: list[str], count: int, seed: int) -> dict[str, list[int]]:
    rng = random.Random(seed)
    return {code: rng.sample(range(1, count + 1), count) for code in codes}


def written_before_committed(journal: Journal, records: list[Incoming]) -> bool:
    """Every commit covers only records that an earlier successful write (or dead letter)
    already took care of."""
    by_offset = {(r.topic, r.partition, r.offset): r for r in records}
    handled: set[tuple[str, int, int]] = set()
    stored_codes: set[str] = set()
    for kind, detail in journal.entries:
        if kind == "write":
            stored_codes.update(detail)
        if kind == "commit":
            for (topic, partition), offset in detail.items():
                for o in range(offset):
                    record = by_offset.get((topic, partition, o))
                    if record is None or (topic, partition, o) in handled:
                        continue
                    key = (record.key or b"").decode()
                    if key not in stored_codes and not record.topic.endswith("alerts"):
                        return False
                    handled.add((topic, partition, o))
    return True


def test_the_newest_version_of_each_chain_is_stored_whatever_the_order() -> None:
    versions = shuffled([f"B-{i}" for i in range(12)], 5, seed=1)
    rig = Rig(chain_records(versions), batch_max_records=7)
    rig.run()
    assert rig.writer.versions() == {code: 5 for code in versions}
    stats = rig.sink.stats
    assert stats.records == stats.committed == 60
    assert stats.chains_written + stats.chains_stale == 60
    assert stats.chains_stale > 0  # shuffled: older versions arrived after newer ones
    assert stats.transactions == len(rig.journal.of("write")) >= 60 // 7
    assert rig.source.committed() == end_offsets(rig.records)
    assert rig.source.closed and rig.dead.closed


def test_offsets_are_committed_only_after_the_write_of_their_records() -> None:
    rig = Rig(chain_records(shuffled([f"C-{i}" for i in range(9)], 4, seed=2)), batch_max_records=5)
    rig.run()
    assert written_before_committed(rig.journal, rig.records)
    # batches are committed in order: per partition the committed offsets only grow
    seen: dict[tuple[str, int], int] = {}
    for offsets in rig.journal.of("commit"):
        for tp, offset in offsets.items():
            assert offset > seen.get(tp, 0)
            seen[tp] = offset


def test_undecodable_records_become_dead_letters_sent_before_the_commit() -> None:
    good = chain_records({"A": [1], "B": [1]})
    bad = Incoming(TOPICS.chain, good[0].partition, 9, b"BAD", b"this is not avro")
    rig = Rig([*good, bad])
    rig.run()
    (letter,) = rig.dead.letters
    assert letter.record == bad
    assert letter.stage == "sinks.store.decode"
    assert "TraceChain" in letter.reason
    assert rig.writer.versions() == {"A": 1, "B": 1}
    kinds = rig.journal.kinds()
    assert kinds.index("dead") < len(kinds) - 1 - kinds[::-1].index("commit")
    assert rig.source.committed()[(TOPICS.chain, bad.partition)] == 10
    assert rig.sink.stats.dead_letters == 1


def test_a_rejected_batch_is_written_one_by_one_and_only_the_refused_record_is_set_aside() -> None:
    rig = Rig(chain_records({"A": [1], "REFUSED": [1], "B": [2]}))
    rig.writer.rejects = {"REFUSED"}
    rig.run()
    assert rig.writer.versions() == {"A": 1, "B": 2}
    (letter,) = rig.dead.letters
    assert letter.record.key == b"REFUSED"
    assert letter.stage == "sinks.store.write"
    assert "refuses" in letter.reason
    assert rig.source.committed() == end_offsets(rig.records)


def test_a_store_outage_pauses_consumption_retries_and_resumes_without_loss() -> None:
    rig = Rig(chain_records(shuffled([f"O-{i}" for i in range(6)], 3, seed=3)))
    rig.writer.unavailable = 4
    rig.run()
    kinds = rig.journal.kinds()
    assert kinds.count("unavailable") == 4
    assert kinds.count("pause") == 1 and kinds.count("resume") == 1
    # paused at the first failure; nothing committed before the write went through; then resumed
    assert kinds.index("pause") < kinds.index("write") < kinds.index("commit")
    assert kinds.index("write") < kinds.index("resume")
    assert rig.writer.versions() == {f"O-{i}": 3 for i in range(6)}
    assert rig.source.committed() == end_offsets(rig.records)
    assert rig.sink.stats.db_retries == 4


def test_stopping_during_an_outage_commits_nothing() -> None:
    rig = Rig(chain_records({"S": [1, 2]}))
    rig.writer.always_unavailable = True
    rig.writer.on_write = rig.stop.set
    rig.run()
    assert rig.journal.of("commit") == []
    assert rig.writer.versions() == {}
    assert rig.source.closed


def test_backoff_doubles_up_to_its_ceiling_and_starts_over_after_a_reset() -> None:
    backoff = Backoff(0.5, 3.0)
    assert [backoff.next_delay() for _ in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    backoff.reset()
    assert backoff.next_delay() == 0.5


def test_records_of_revoked_partitions_are_stored_and_committed_before_they_go() -> None:
    records = chain_records({f"R-{i}": [1] for i in range(8)})
    rig = Rig(records, batch_max_records=1000, batch_max_ms=10_000)
    partitions = {(r.topic, r.partition) for r in records}
    rig.source.revoke_at[2] = partitions  # the second poll: every record has been read
    rig.run()
    entries = rig.journal.entries
    start = entries.index(("revoke", sorted(partitions)))
    end = entries.index(("revoked", sorted(partitions)))
    inside = [kind for kind, _ in entries[start:end]]
    written = {code for kind, codes in entries[:end] if kind == "write" for code in codes}
    # the write may have begun before the revoke (the writer was free), the commit is inside it
    assert written == {(r.key or b"").decode() for r in records}
    assert "commit" in inside
    assert rig.source.committed() == end_offsets(records)


def test_during_an_outage_records_of_revoked_partitions_are_forgotten_not_committed() -> None:
    records = chain_records({f"F-{i}": [1] for i in range(10)})
    gone = (TOPICS.chain, records[0].partition)
    rig = Rig(records, batch_max_records=1000)
    rig.writer.unavailable = 3
    rig.source.revoke_at[4] = {gone}  # while the sink waits out the outage
    rig.run()
    committed = rig.source.committed()
    assert gone not in committed
    kept = [r for r in records if (r.topic, r.partition) != gone]
    assert committed == end_offsets(kept)
    assert set(rig.writer.versions()) == {(r.key or b"").decode() for r in kept}


def test_alerts_are_written_with_the_chains_and_tombstones_are_only_committed() -> None:
    alert = {
        "alert_id": "0b5f8d8e-3f4c-4d55-8c1e-9a0f6a7b0001",
        "batch_code": "A",
        "kind": "HOLD_PLACED",
        "subject": "H-1",
        "message": "hold placed",
        "origin_code": "A",
        "occurred_at": T0,
    }
    records = [
        *chain_records({"A": [1]}),
        *records_on(TOPICS.alerts, [("A", ALERTS.encode(alert))] * 2),
        *records_on("t.chain", [("GONE", None)]),
    ]
    rig = Rig(records)
    rig.run()
    assert list(rig.writer.alerts) == [alert["alert_id"]]
    assert rig.sink.stats.alerts_written == 1
    assert rig.writer.versions() == {"A": 1}
    assert rig.source.committed() == end_offsets(records)
    assert rig.dead.letters == []


def test_a_batch_forgets_revoked_partitions_with_their_dead_letters() -> None:
    decoder = RecordDecoder(TOPICS, CHAINS, ALERTS)
    batch = Batch()
    good = chain_records({"X": [1], "Y": [1]})
    for record in [*good, Incoming(TOPICS.chain, good[0].partition, 5, b"K", b"junk")]:
        decoder.add(batch, record)
    assert batch.size == 3 and len(batch.dead_letters) == 1
    gone = {(TOPICS.chain, good[0].partition)}
    batch.drop_partitions(gone)
    assert batch.dead_letters == []
    assert not batch.touches(gone)
    assert batch.size == sum(1 for r in good if (r.topic, r.partition) not in gone)
