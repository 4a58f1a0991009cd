"""Where the processor's time goes: CPU seconds per stage, summed over buffers (for the benchmark).

:class:`~streams.processor.ChainProcessor` takes an optional :class:`StageClock`; without one it
uses :data:`NO_CLOCK`, whose :meth:`~StageClock.lap` does nothing. Stages are timed once per
buffer, on the thread's CPU clock: on a shared machine, wall time would also count the time
other processes had the core.
"""

from __future__ import annotations

import time

DECODE, LOAD, MERGE, VIEW = "decode", "load", "merge", "view"


class StageClock:
    """Accumulates CPU time per stage: ``t = clock.lap(STAGE, t)`` after each piece of work."""

    enabled = True

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @staticmethod
    def now() -> float:
        return time.thread_time()

    def lap(self, stage: str, started: float) -> float:
        """Add the time since ``started`` to ``stage``; return now (the next stage's start)."""
        now = time.thread_time()
        self.seconds[stage] = self.seconds.get(stage, 0.0) + now - started
        return now


class _NoClock(StageClock):
    enabled = False

    @staticmethod
    def now() -> float:
        return 0.0

    def lap(self, stage: str, started: float) -> float:
        return 0.0


NO_CLOCK: StageClock = _NoClock()
