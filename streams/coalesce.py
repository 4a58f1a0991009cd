"""Chains changed over several buffers, published once: the latest view of each batch per interval.

An engine whose unit of work is smaller than its commit interval (faust's take buffers) collects
each buffer's :class:`~streams.processor.StepResult` here and publishes on a timer: one chain
record per batch per interval, always the latest view (a later view of a batch replaces the
earlier one; nothing else is dropped: alerts, genealogy messages and dead letters are kept in
order). The records the views came from are held as ``tokens`` (the engine's handles to ack)
and handed back with the views, so the engine acks them only once everything they caused has
been sent and acknowledged by the broker: a crash in between re-reads them, and the processor
re-emits the view of a chain whose winning record is read again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from streams.domain.view import ChainView
from streams.processor import StepResult

Token = TypeVar("Token")


@dataclass
class Pending(Generic[Token]):
    """What is to be published, and the records to ack once it is."""

    views: dict[str, ChainView] = field(default_factory=dict)
    tokens: list[Token] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.tokens)


class ChainCoalescer(Generic[Token]):
    """Keeps the latest view per batch code until :meth:`take`."""

    def __init__(self) -> None:
        self._pending: Pending[Token] = Pending()

    def add(self, result: StepResult, tokens: Iterable[Token]) -> StepResult:
        """Hold ``result``'s views and ``tokens``; return the rest, to send now.

        The returned result has no views: alerts, genealogy messages and dead letters are not
        coalesced (each is its own fact), and sending them before the views is harmless, since
        the records are acked only after the views are out.
        """
        for view in result.views:
            self._pending.views.pop(view.batch_code, None)  # keep the publish order by change
            self._pending.views[view.batch_code] = view
        self._pending.tokens.extend(tokens)
        return StepResult(
            alerts=result.alerts,
            genealogy=result.genealogy,
            dead_letters=result.dead_letters,
        )

    def take(self) -> Pending[Token]:
        """Everything held so far (the latest view of each batch); the coalescer starts empty."""
        pending, self._pending = self._pending, Pending()
        return pending

    def __len__(self) -> int:
        return len(self._pending)
