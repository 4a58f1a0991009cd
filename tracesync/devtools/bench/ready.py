"""Before a pipeline measurement starts its clock: one warm-up batch through the whole pipeline.

A worker or store sink that just started pays one-time costs on the first real records: the
schema lookup in the registry and the compiled Avro reader and writer, the metadata of every
output topic, the first transaction of the store. A production pipeline pays them once per
process start and then runs warm for days, so the benchmark measures a warm pipeline: it sends one
envelope per source system for the batch :data:`WARM_UP_BATCH` (a code no workload uses) and
waits until the store holds that batch and neither the worker nor the store sink lags. The
measurements leave that batch out of every figure.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import create_engine, text

from tracesync.contracts.serde import EnvelopeSerde
from tracesync.devtools.bench.workload import Workload, encode_now
from tracesync.errors import InfrastructureError
from tracesync.settings import Settings
from tracesync.topics import TopicCatalog

WARM_UP_BATCH = "BENCH-WARMUP"


def warm_up_records(
    workload: Workload, catalog: TopicCatalog, serde: EnvelopeSerde
) -> list[tuple[str, bytes, bytes]]:
    """(topic, key, value): the workload's first envelope of each source system, re-keyed to the
    warm-up batch with fresh event ids and event time now."""
    firsts: dict[str, dict[str, Any]] = {}
    for envelope in workload.envelopes:
        firsts.setdefault(envelope["source_system"], envelope)
    key = WARM_UP_BATCH.encode()
    out = []
    for system, envelope in sorted(firsts.items()):
        warm = envelope | {"batch_code": WARM_UP_BATCH, "event_id": str(uuid.uuid4())}
        out.append((catalog.source_topic(system), key, encode_now(warm, serde)))
    return out


def stored(store_url: str, batch_code: str) -> bool:
    engine = create_engine(store_url)
    try:
        with engine.connect() as conn:
            query = text("SELECT count(*) FROM batches WHERE batch_code = :code")
            return int(conn.execute(query, {"code": batch_code}).scalar_one()) > 0
    finally:
        engine.dispose()


def wait_warm(
    settings: Settings,
    lags: Callable[[], tuple[int | None, int | None]],
    dead: Callable[[], list[str]],
    seconds: float = 120.0,
) -> float:
    """Wait until the warm-up batch is stored and ``lags()`` (worker, sink) are both zero.

    Returns the seconds it took (the pipeline's start-up, reported next to the figures).
    """
    began = time.monotonic()
    deadline = began + seconds
    while time.monotonic() < deadline:
        if dead():
            raise InfrastructureError(f"components died: {dead()}")
        if lags() == (0, 0) and stored(settings.store_url, WARM_UP_BATCH):
            return time.monotonic() - began
        time.sleep(0.2)
    raise InfrastructureError(f"the warm-up batch was not stored within {seconds:.0f} s")
