"""Measuring helpers: resident memory of processes, percentiles, waiting for a drained pipeline."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path


def rss_kib(pid: int, field: str = "VmRSS") -> int | None:
    """Resident memory (``VmRSS``) or its peak (``VmHWM``) of a process, in KiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


class PeakMemory:
    """Samples the resident memory of named processes; keeps the peak of each."""

    def __init__(self) -> None:
        self.peak_kib: dict[str, int] = {}

    def sample(self, pids: dict[str, int | None]) -> None:
        for name, pid in pids.items():
            if pid is None:
                continue
            for field in ("VmRSS", "VmHWM"):
                value = rss_kib(pid, field)
                if value is not None:
                    self.peak_kib[name] = max(self.peak_kib.get(name, 0), value)

    def mib(self) -> dict[str, float]:
        return {name: round(kib / 1024, 1) for name, kib in sorted(self.peak_kib.items())}


def percentile(sorted_values: Sequence[float], q: float) -> float | None:
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


def wait_until(
    done: Callable[[], bool], timeout_s: float, tick: Callable[[], None], interval_s: float = 0.5
) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        tick()
        if done():
            return True
        time.sleep(interval_s)
    return False
