"""streams.lineage: genealogy messages applied in buffers, bad ones dead-lettered."""

from __future__ import annotations

from datetime import UTC, datetime

from streams import state
from streams.domain import events as ev
from streams.domain.genealogy import ChildLinked, HoldsChanged, HoldStatus, LotNode
from streams.lineage import LineageProcessor
from streams.processor import Incoming

AT = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)


def _record(value: bytes, offset: int) -> Incoming:
    return Incoming(b"LOT-1", value, "trace.genealogy", 0, offset)


def test_a_buffer_links_children_and_sends_the_hold_to_each() -> None:
    stored: dict[str, LotNode] = {}
    processor = LineageProcessor(load=stored.get)
    hold = HoldStatus("H-1", "LOT-1", "supplier alert", True, AT, "P1")
    records = [
        _record(state.encode_message(ChildLinked("LOT-1", "B-1")), 0),
        _record(state.encode_message(HoldsChanged("LOT-1", (hold,))), 1),
        _record(state.encode_message(ChildLinked("LOT-1", "B-2")), 2),
        _record(state.encode_message(ChildLinked("LOT-1", "B-1")), 3),  # again: nothing new
    ]
    result = processor.process(records)
    (node,) = result.nodes.values()
    assert node.children == {"B-1", "B-2"} and set(node.holds) == {hold.key}
    assert [(e.batch_code, e.event_type) for e in result.derived] == [
        ("B-1", ev.HOLD_INHERITED),
        ("B-2", ev.HOLD_INHERITED),
    ]
    assert result.dead_letters == []


def test_an_undecodable_message_is_a_dead_letter_and_the_rest_goes_on() -> None:
    processor = LineageProcessor(load=lambda code: None)
    bad = _record(b"{not json", 0)
    result = processor.process([bad, _record(state.encode_message(ChildLinked("LOT-1", "B")), 1)])
    (letter,) = result.dead_letters
    assert letter.record is bad and letter.reason.startswith("genealogy failed:")
    assert list(result.nodes) == ["LOT-1"]


def test_an_unchanged_node_is_not_stored_again() -> None:
    node = LotNode("LOT-1", frozenset({"B"}))
    processor = LineageProcessor(load=lambda code: node)
    result = processor.process([_record(state.encode_message(ChildLinked("LOT-1", "B")), 0)])
    assert result.nodes == {} and result.derived == []
