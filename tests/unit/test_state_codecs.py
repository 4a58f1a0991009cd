"""The worker's state codecs: a chain's bytes are the same whichever rows were reused."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from streams import state
from streams.domain.chain import TraceChain, merge_all
from streams.domain.events import Event
from tests.unit.test_domain_view_incremental import POOL as FACTORY_POOL

POOL = [state.decode_event(state.encode_event(e)) for e in FACTORY_POOL]  # JSON-native payloads


def _whole_document(chain: TraceChain) -> bytes:
    """The format-1 document as one orjson dump (how the state was encoded before)."""
    rows: list[Any] = [state._event_row(chain.records[k]) for k in sorted(chain.records)]
    doc = {"f": 1, "b": chain.batch_code, "v": chain.version, "r": rows}
    return orjson.dumps(doc, default=state._fallback)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.sampled_from(POOL), min_size=1, max_size=5), min_size=1, max_size=6))
def test_encoded_chains_are_the_whole_document_byte_for_byte(buffers: list[list[Event]]) -> None:
    chain = TraceChain("B1")
    for events in buffers:
        chain = merge_all(chain, events)
        data = state.encode_chain(chain)  # reuses the rows of the previous version
        assert data == _whole_document(chain)
        assert state.decode_chain(data).content_equals(chain)
        assert state.decode_chain(data).version == chain.version


def test_a_loaded_chain_encodes_to_the_same_bytes() -> None:
    chain = merge_all(TraceChain("B1"), POOL)
    data = state.encode_chain(chain)
    assert state.encode_chain(state.decode_chain(data)) == data
