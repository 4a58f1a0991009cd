"""Measure trace and recall latency on a store filled by ``tracesync store fill-synthetic``.

    .venv/bin/python -m tests.perf.trace_latency --store-url URL --batches 100000 --samples 50

Runs ``--samples`` backward traces from finished batches, trace codes, deliveries and complaints,
and recalls from raw material lots, chosen at random from the synthetic plant's codes, and prints
the median and 95th percentile of each (query time only, one connection pool, warm).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable

from sqlalchemy import select

from sinks.store import schema
from sinks.store.database import open_store
from sinks.store.queries import recall, trace


def measure(name: str, codes: list[str], run: Callable[[str], object]) -> None:
    times = []
    for code in codes:
        started = time.perf_counter()
        run(code)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    p95 = times[int(len(times) * 0.95) - 1]
    median = statistics.median(times)
    print(f"  {name:<18} n={len(times):<4} median {median:7.1f} ms  p95 {p95:7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store-url", required=True)
    parser.add_argument("--samples", type=int, default=50)
    args = parser.parse_args()
    engine = open_store(args.store_url).engine
    rng = random.Random(11)
    with engine.connect() as conn:
        fg = (
            conn.execute(
                select(schema.batches.c.batch_code).where(schema.batches.c.batch_code.like("FG-%"))
            )
            .scalars()
            .all()
        )
        rm = (
            conn.execute(
                select(schema.batches.c.batch_code).where(schema.batches.c.batch_code.like("RM-%"))
            )
            .scalars()
            .all()
        )
        complaints = conn.execute(select(schema.complaints.c.complaint_id)).scalars().all()
        deliveries = conn.execute(select(schema.shipments.c.delivery_id).distinct()).scalars().all()
    if not fg:
        raise SystemExit("the store is empty: run tracesync store fill-synthetic first")
    n = args.samples
    print(f"store {engine.url!r}")
    measure("trace batch", rng.sample(fg, n), lambda c: trace(engine, c))
    measure(
        "trace trace code", [f"TC-{c}-1" for c in rng.sample(fg, n)], lambda c: trace(engine, c)
    )
    measure("trace delivery", rng.sample(deliveries, n), lambda c: trace(engine, c))
    measure(
        "trace complaint",
        rng.sample(complaints, min(n, len(complaints))),
        lambda c: trace(engine, c),
    )
    measure("recall raw lot", rng.sample(rm, n), lambda c: recall(engine, c))


if __name__ == "__main__":
    main()
