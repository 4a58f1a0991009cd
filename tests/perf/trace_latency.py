"""Measure trace and recall latency on a store filled by ``tracesync store fill-synthetic``.

    .venv/bin/python -m tests.perf.trace_latency --store-url URL --samples 300

The measurement lives in :mod:`tracesync.devtools.bench.trace_latency` (p50/p95/p99/max per kind
of starting code, as JSON); this entry is kept for the command above.
"""

from __future__ import annotations

from tracesync.devtools.bench.trace_latency import main

if __name__ == "__main__":
    main()
