"""Hold propagation over the genealogy: any depth, any message order, idempotent."""

from __future__ import annotations

from collections import deque
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.domain import reconcile as rc
from streams.domain.chain import TraceChain, merge
from streams.domain.events import Event
from streams.domain.genealogy import (
    ChildLinked,
    GenealogyMessage,
    LotNode,
    apply,
    messages_for_change,
)
from streams.domain.view import view_of
from tests.unit.domain_factory import consumed, hold

RULES = rc.ReconciliationRules(tolerance=Decimal("0.005"))


class MiniPipeline:
    """Routes events to chains and genealogy messages to lot nodes, like the worker does."""

    def __init__(self) -> None:
        self.chains: dict[str, TraceChain] = {}
        self.nodes: dict[str, LotNode] = {}
        self.queue: deque[Event | GenealogyMessage] = deque()

    def feed(self, items: list[Event]) -> None:
        self.queue.extend(items)
        while self.queue:
            item = self.queue.popleft()
            if isinstance(item, Event):
                self._on_event(item)
            else:
                self._on_message(item)

    def _on_event(self, event: Event) -> None:
        before = self.chains.get(event.batch_code, TraceChain(event.batch_code))
        after = merge(before, event)
        if after is before:
            return
        self.chains[event.batch_code] = after
        old = view_of(before, RULES) if before.records else None
        self.queue.extend(messages_for_change(old, view_of(after, RULES)))

    def _on_message(self, message: GenealogyMessage) -> None:
        node = self.nodes.get(message.lot_code, LotNode(message.lot_code))
        node, derived = apply(node, message)
        self.nodes[message.lot_code] = node
        self.queue.extend(derived)

    def active_holds(self, code: str) -> set[tuple[str, str]]:
        chain = self.chains.get(code)
        if chain is None:
            return set()
        return {(h.origin_code, h.hold_id) for h in view_of(chain, RULES).active_holds}


def test_a_lot_hold_reaches_every_level_and_a_release_follows() -> None:
    p = MiniPipeline()
    p.feed([consumed("INT-1", "RAW-1"), consumed("FG-1", "INT-1"), consumed("FG-2", "INT-1")])
    p.feed([hold("RAW-1", "H1")])
    for code in ("RAW-1", "INT-1", "FG-1", "FG-2"):
        assert p.active_holds(code) == {("RAW-1", "H1")}, code
    p.feed([hold("RAW-1", "H1", released=True)])
    assert all(not p.active_holds(c) for c in ("RAW-1", "INT-1", "FG-1", "FG-2"))


def test_a_link_after_the_hold_still_inherits_it() -> None:
    p = MiniPipeline()
    p.feed([hold("RAW-1", "H1"), consumed("INT-1", "RAW-1")])
    p.feed([consumed("FG-1", "INT-1")])
    assert p.active_holds("FG-1") == {("RAW-1", "H1")}


def test_a_repeated_link_sends_nothing_new() -> None:
    node, _ = apply(LotNode("L"), ChildLinked("L", "B"))
    again, derived = apply(node, ChildLinked("L", "B"))
    assert again is node and derived == []


@st.composite
def dags(draw: st.DrawFn) -> tuple[list[tuple[str, str]], set[str]]:
    n = draw(st.integers(min_value=2, max_value=9))
    edges = [
        (f"N{j}", f"N{i}")  # child N{i} consumed parent N{j}, j < i: acyclic
        for i in range(1, n)
        for j in range(i)
        if draw(st.booleans())
    ]
    held = set(draw(st.lists(st.sampled_from([f"N{i}" for i in range(n)]), max_size=3)))
    return edges, held


@settings(max_examples=150, deadline=None)
@given(dags(), st.randoms(use_true_random=False))
def test_propagation_equals_a_transitive_walk(
    dag: tuple[list[tuple[str, str]], set[str]], rnd: object
) -> None:
    edges, held = dag
    events: list[Event] = [consumed(child, parent) for parent, child in edges]
    events += [hold(code, f"H-{code}") for code in held]
    rnd.shuffle(events)  # type: ignore[attr-defined]
    p = MiniPipeline()
    p.feed(events)
    children: dict[str, set[str]] = {}
    for parent, child in edges:
        children.setdefault(parent, set()).add(child)
    expected: dict[str, set[tuple[str, str]]] = {}
    for origin in held:
        stack, seen = [origin], set()
        while stack:
            code = stack.pop()
            if code in seen:
                continue
            seen.add(code)
            expected.setdefault(code, set()).add((origin, f"H-{origin}"))
            stack.extend(children.get(code, ()))
    codes = {c for e in edges for c in e} | held
    for code in codes:
        assert p.active_holds(code) == expected.get(code, set()), code
