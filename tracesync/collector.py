"""The garbage collector's settings for a worker, store-sink or store-rebuild process.

The hot path allocates a dict, an event and a few lists per record and keeps few of them, yet
CPython's default young-generation threshold (700 allocations) runs a collection every few
records, and each older collection walks every object the worker holds (cached chains and
views, Quix's and RocksDB's bindings, compiled codecs). With a higher threshold, and what was
alive at start-up frozen out of the collector's walks, the processor spends about a quarter less
time per event in decoding (``python -m tracesync.devtools.bench.processor``); the store sink,
which decodes every chain into a tree of dicts and builds its rows, uses about a fifth less CPU
per chain (``tracesync bench --only store``); ``tracesync store rebuild``, decoding the same
way, builds about two fifths faster. Reference cycles are still collected, only less
often; memory stays bounded by the same caches.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG_THRESHOLD = 50_000
"""Allocations of container objects between two young-generation collections."""
OLDER_THRESHOLDS = (20, 100)


def tune_collector() -> None:
    """Freeze what is alive now (imports, compiled codecs) and collect less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *OLDER_THRESHOLDS)


@contextmanager
def tuned_collector() -> Iterator[None]:
    """The worker's settings for a block (benchmarks, `store rebuild`), then the previous ones."""
    before = gc.get_threshold()
    tune_collector()
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()
