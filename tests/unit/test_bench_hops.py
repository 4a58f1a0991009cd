"""Per-hop latency: the same batches in every hop, and the hops add up."""

from __future__ import annotations

from tracesync.devtools.bench.hops import hops_between


def test_hops_pair_the_times_of_each_batch() -> None:
    source = {b"A": 1_000, b"B": 2_000, b"C": 3_000}
    chained = {b"A": 1_100, b"B": 2_300}  # C has no chain yet
    stored = {b"A": 1_150, b"B": 2_700, b"C": 3_900, b"D": 5_000}  # D has no source record
    hops = hops_between(source, chained, stored)
    assert hops["source_to_chain"]["samples"] == 2
    assert sorted([hops["source_to_chain"]["p50_ms"], hops["source_to_chain"]["max_ms"]]) == [
        100,
        300,
    ]
    assert hops["chain_to_store"]["max_ms"] == 400
    assert hops["source_to_store"]["max_ms"] == 700
    assert hops["source_to_store"]["p50_ms"] in (150, 700)


def test_no_batches_give_empty_summaries() -> None:
    hops = hops_between({}, {}, {b"A": 1})
    assert all(h["samples"] == 0 and h["p99_ms"] is None for h in hops.values())
