"""Apply a buffer of genealogy messages to the lots' where-used nodes (framework-free).

The counterpart of :mod:`streams.processor` for the genealogy topic (keyed by lot code): the engine
hands over :class:`~streams.processor.Incoming` records and stores the changed nodes and sends the
derived events of the returned :class:`LineageResult`. A message that cannot be decoded or applied
becomes a dead letter with the reason; it never stops the engine.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from streams import state
from streams.domain import genealogy as gen
from streams.domain.events import Event
from streams.processor import DeadLetter, Incoming

NodeLoader = Callable[[str], gen.LotNode | None]


@dataclass
class LineageResult:
    """What the engine must do after one buffer of genealogy messages."""

    nodes: dict[str, gen.LotNode] = field(default_factory=dict)
    """Changed nodes by lot code, to store (each once per buffer)."""
    derived: list[Event] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)


class LineageProcessor:
    """Decode genealogy messages and apply them, in order, to the nodes they address."""

    def __init__(self, load: NodeLoader) -> None:
        self._load = load

    def process(self, records: Sequence[Incoming]) -> LineageResult:
        result = LineageResult()
        current: dict[str, gen.LotNode] = {}
        for record in records:
            try:
                message = state.decode_message(record.value or b"")
                code = message.lot_code
                node = current.get(code) or self._load(code) or gen.LotNode(code)
                new_node, derived = gen.apply(node, message)
            except Exception as exc:
                result.dead_letters.append(DeadLetter(record, f"genealogy failed: {exc}"))
                continue
            current[code] = new_node
            if new_node is not node:
                result.nodes[code] = new_node
            result.derived.extend(derived)
        return result
