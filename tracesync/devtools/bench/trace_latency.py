"""Trace and recall latency on a store filled by ``tracesync store fill-synthetic``.

:func:`measure_trace_latency` runs backward traces from finished batches, trace codes, deliveries
and complaints, and recalls from raw material lots, ``samples`` of each chosen at random (seeded)
from the synthetic plant's codes, and reports p50/p95/p99/max per kind in milliseconds (the
query functions' own time, warm, one engine). Speed is measured and reported, never asserted.

    python -m tracesync.devtools.bench.trace_latency --store-url URL --samples 300
"""

from __future__ import annotations

import argparse
import functools
import json
import random
import time
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Engine, func, select

from sinks.store import schema
from sinks.store.database import create_store_engine
from sinks.store.queries import RecallReport, TraceReport, recall, trace
from tracesync.devtools.bench.measure import percentile

WARM_UP = 20


def _answered(report: object) -> bool:
    """A trace that found its batches, or a recall that found its lot."""
    if isinstance(report, TraceReport):
        return bool(report.traces)
    return isinstance(report, RecallReport) and report.found


def _timed(codes: Sequence[str], run: Callable[[str], object]) -> dict[str, Any]:
    times = []
    answered = 0
    for code in codes:
        started = time.perf_counter()
        report = run(code)
        times.append((time.perf_counter() - started) * 1000)
        answered += _answered(report)
    times.sort()
    return {
        "samples": len(times),
        "answered": answered,
        "p50_ms": _round(percentile(times, 0.50)),
        "p95_ms": _round(percentile(times, 0.95)),
        "p99_ms": _round(percentile(times, 0.99)),
        "max_ms": _round(times[-1] if times else None),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _codes_like(engine: Engine, prefix: str) -> list[str]:
    query = select(schema.batches.c.batch_code).where(schema.batches.c.batch_code.like(prefix))
    with engine.connect() as conn:
        return [str(c) for c in conn.execute(query).scalars()]


def _sample(rng: random.Random, items: Sequence[str], n: int) -> list[str]:
    return rng.sample(list(items), min(n, len(items)))


def sample_codes(engine: Engine, samples: int, seed: int) -> dict[str, list[str]]:
    """Codes to start from per kind (batches, trace codes, deliveries, complaints, raw lots)."""
    rng = random.Random(seed)  # noqa: S311 - a seeded sample of codes, no secret
    finished = _codes_like(engine, "FG-%")
    raw = _codes_like(engine, "RM-%")
    if not finished or not raw:
        raise SystemExit("the store has no synthetic plant: run tracesync store fill-synthetic")
    with engine.connect() as conn:
        complaint_ids = conn.execute(select(schema.complaints.c.complaint_id)).scalars()
        complaints = [str(c) for c in complaint_ids]
        deliveries_of = select(schema.shipments.c.delivery_id).where(
            schema.shipments.c.batch_code.in_(_sample(rng, finished, samples))
        )
        deliveries = sorted({str(c) for c in conn.execute(deliveries_of).scalars()})
    return {
        "trace_batch": _sample(rng, finished, samples),
        "trace_trace_code": [f"TC-{c}-1" for c in _sample(rng, finished, samples)],
        "trace_delivery": _sample(rng, deliveries, samples),
        "trace_complaint": _sample(rng, complaints, samples),
        "recall_raw_lot": _sample(rng, raw, samples),
    }


def measure_trace_latency(store_url: str, samples: int = 300, seed: int = 11) -> dict[str, Any]:
    """Latency percentiles of trace and recall per kind of starting code."""
    engine = create_store_engine(store_url)
    try:
        with engine.connect() as conn:
            batches = conn.execute(select(func.count()).select_from(schema.batches)).scalar_one()
        work = sample_codes(engine, samples, seed)
        for code in work["trace_batch"][:WARM_UP]:
            trace(engine, code)
        result: dict[str, Any] = {"dialect": engine.dialect.name, "batches": int(batches)}
        for kind, codes in work.items():
            query = recall if kind.startswith("recall") else trace
            result[kind] = _timed(codes, functools.partial(query, engine))
        return result
    finally:
        engine.dispose()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tracesync.devtools.bench.trace_latency")
    parser.add_argument("--store-url", required=True)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)
    print(json.dumps(measure_trace_latency(args.store_url, args.samples, args.seed), indent=2))


if __name__ == "__main__":
    main()
