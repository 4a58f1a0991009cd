"""The worker's state codecs: chains round-trip, and their bytes stay those of format 1."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from streams import state
from streams.domain.chain import TraceChain, merge_all
from streams.domain.events import Event
from tests.unit.test_domain_view_incremental import POOL as FACTORY_POOL

POOL = [state.decode_event(state.encode_event(e)) for e in FACTORY_POOL]  # JSON-native payloads


def _format_1(chain: TraceChain) -> Any:
    """The format-1 document, written out here: what states already stored hold."""
    rows = [
        [
            e.event_id,
            e.event_type,
            e.source_system,
            e.source_ref,
            e.source_seq,
            e.batch_code,
            state.to_millis(e.occurred_at),
            state.to_millis(e.recorded_at),
            e.plant,
            dict(e.payload),
        ]
        for e in sorted(chain.records.values(), key=lambda e: e.record_key)
    ]
    return {"f": 1, "b": chain.batch_code, "v": chain.version, "r": rows}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.sampled_from(POOL), min_size=1, max_size=5), min_size=1, max_size=6))
def test_chains_round_trip_in_format_1(buffers: list[list[Event]]) -> None:
    chain = TraceChain("B1")
    for events in buffers:
        chain = merge_all(chain, events)
        data = state.encode_chain(chain)
        assert orjson.loads(data) == _format_1(chain)
        assert state.decode_chain(data).content_equals(chain)
        assert state.decode_chain(data).version == chain.version


def test_a_loaded_chain_encodes_to_the_same_bytes() -> None:
    chain = merge_all(TraceChain("B1"), POOL)
    data = state.encode_chain(chain)
    assert state.encode_chain(state.decode_chain(data)) == data


_FIRST_MS = state.to_millis(datetime(1, 1, 1, tzinfo=UTC))
_LAST_MS = state.to_millis(datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC))


@settings(max_examples=500, deadline=None)
@given(st.integers(min_value=_FIRST_MS, max_value=_LAST_MS))
def test_stored_times_come_back_exactly_in_every_year(millis: int) -> None:
    """A chain recovered from state holds the times of its events (else a re-read event would
    differ from its stored self, and be taken for a conflicting version)."""
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=millis)
    assert state.from_millis(millis) == moment
    assert state.to_millis(state.from_millis(millis)) == millis


def test_a_chain_encoded_again_from_cached_rows_has_the_bytes_of_a_fresh_encoding() -> None:
    chain = merge_all(TraceChain("B1"), POOL[:3])
    state.encode_chain(chain)  # rows of these events now cached
    grown = merge_all(chain, POOL[3:])
    assert state.encode_chain(grown) == orjson.dumps(_format_1(grown))
