"""Which dropped files are complete: a ``.done`` marker, or unchanged for a while."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from producers.files.reports import DONE_SUFFIX

SKIPPED_SUFFIXES = (DONE_SUFFIX, ".tmp", ".part", ".partial")

Clock = Callable[[], float]


@dataclass
class CompletenessTracker:
    """Decides when a dropped file is complete: a ``.done`` marker, or unchanged for a while."""

    settle_s: float
    clock: Clock = time.monotonic
    _seen: dict[Path, tuple[tuple[int, int], float]] = field(default_factory=dict)

    def ready(self, folder: Path) -> list[Path]:
        """Complete candidate files in ``folder``, oldest first."""
        now = self.clock()
        found: list[tuple[int, Path]] = []
        present: set[Path] = set()
        for path in folder.iterdir():
            if (
                not path.is_file()
                or path.name.startswith(".")
                or path.name.endswith(SKIPPED_SUFFIXES)
            ):
                continue
            stat = path.stat()
            present.add(path)
            signature = (stat.st_size, stat.st_mtime_ns)
            previous = self._seen.get(path)
            if previous is None or previous[0] != signature:
                self._seen[path] = (signature, now)
                since = now
            else:
                since = previous[1]
            marker = path.with_name(path.name + DONE_SUFFIX)
            if marker.exists() or now - since >= self.settle_s:
                found.append((stat.st_mtime_ns, path))
        for gone in set(self._seen) - present:
            del self._seen[gone]
        return [p for _, p in sorted(found)]

    def forget(self, path: Path) -> None:
        self._seen.pop(path, None)
