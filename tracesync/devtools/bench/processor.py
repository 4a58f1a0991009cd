"""The stream processor alone, in memory on one core: decode, merge, view and encode, per stage.

Simulated plant events (no faults) are encoded with the real envelope serde, then fed to
:class:`streams.processor.ChainProcessor` in buffers, the way an engine does: each buffer is
decoded, merged into its chains and viewed; then what the engine would write and publish is
encoded (chain state for the table, ``TraceChain`` and ``Alert`` records, genealogy messages).
Chain state lives in a dict of encoded bytes, behind the processor's cache, as in a table.
No Kafka, no engine, no I/O: this is the ceiling the hot path sets for any engine.

``python -m tracesync.devtools.bench.processor --events 100000 --buffer 1000`` prints one JSON
document; ``--profile 25`` also prints the top of a cProfile run to stderr.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from streams import state
from streams.domain.chain import TraceChain
from streams.domain.events import Event
from streams.domain.reconcile import ReconciliationRules
from streams.processor import ChainProcessor, Incoming, StepResult
from streams.records import alert_record, chain_value
from streams.stages import DECODE, LOAD, MERGE, VIEW, StageClock
from tracesync.collector import tuned_collector
from tracesync.contracts.record_serde import RecordSerde
from tracesync.contracts.serde import EnvelopeSerde
from tracesync.devtools.bench.workload import build_workload, encode_all
from tracesync.devtools.simulator.events import TOPIC_OF_SYSTEM
from tracesync.settings import WorkerSettings

ENCODE_STATE, ENCODE_CHAIN, ENCODE_ALERTS = "encode_state", "encode_chain", "encode_alerts"
# The processor encodes each changed chain's state inside its merge stage (to measure it against
# worker.max_chain_bytes): that cost is in MERGE; ENCODE_STATE is only the table write.


def source_records(events: int, seed: int) -> list[Incoming]:
    """``events`` simulated source events, Avro-encoded as producers send them, in send order."""
    workload = build_workload(events, seed)
    values = encode_all(workload, EnvelopeSerde.single_object())
    return [
        Incoming(e["batch_code"].encode(), value, TOPIC_OF_SYSTEM[e["source_system"]], 0, offset)
        for offset, (e, value) in enumerate(zip(workload.envelopes, values, strict=True))
    ]


@dataclass
class _Outputs:
    """What the engine would do with a step's result, encoded but kept in memory."""

    clock: StageClock
    table: dict[str, bytes] = field(default_factory=dict)
    chain_serde: RecordSerde = field(
        default_factory=lambda: RecordSerde.single_object("TraceChain")
    )
    alert_serde: RecordSerde = field(default_factory=lambda: RecordSerde.single_object("Alert"))
    written: int = 0
    published: int = 0
    alerts: int = 0

    def load(self, code: str) -> TraceChain | None:
        data = self.table.get(code)
        return state.decode_chain(data) if data is not None else None

    def perform(self, result: StepResult) -> None:
        started = self.clock.now()
        for code in result.chains:  # the processor encoded them (measured against the limit)
            self.table[code] = result.encoded[code]
        self.written += len(result.chains)
        started = self.clock.lap(ENCODE_STATE, started)
        for view in result.views:
            self.chain_serde.encode(chain_value(view))
        self.published += len(result.views)
        started = self.clock.lap(ENCODE_CHAIN, started)
        for alert in result.alerts:
            self.alert_serde.encode(alert_record(alert))
        for message in result.genealogy:
            state.encode_message(message)
        self.alerts += len(result.alerts)
        self.clock.lap(ENCODE_ALERTS, started)


def source_decoder(serde: EnvelopeSerde) -> Callable[[Incoming], Event]:
    """How the worker decodes a source record (``streams.bootstrap``'s codecs and the engine)."""

    def decode(record: Incoming) -> Event:
        return serde.decode_as(record.value or b"", Event)

    return decode


def run_processor(records: Sequence[Incoming], buffer: int, clock: StageClock) -> _Outputs:
    """Push ``records`` through a fresh processor in buffers of ``buffer``; encode its outputs.

    Rules and cache size are the worker's defaults.
    """
    ws = WorkerSettings()
    outputs = _Outputs(clock)
    processor = ChainProcessor(
        decode=source_decoder(EnvelopeSerde.single_object()),
        load=outputs.load,
        rules=ReconciliationRules(tolerance=ws.tolerance, settle_seconds=ws.settle_s),
        cache_size=ws.cache_size,
        clock=clock,
    )
    for start in range(0, len(records), buffer):
        result = processor.process(records[start : start + buffer])
        if result.dead_letters:
            raise RuntimeError(f"benchmark records dead-lettered: {result.dead_letters[0].reason}")
        outputs.perform(result)
    return outputs


HOT_PATH = (DECODE, LOAD, MERGE, VIEW, ENCODE_STATE)
"""The stages every changed chain costs the worker before it publishes: the issue's hot path."""


def reference_loop_us(rounds: int = 5) -> float:
    """CPU µs of a fixed pure-Python loop (best of ``rounds``): how fast this core is right now.

    The machine is shared; comparing two runs' figures makes sense only at similar values.
    """
    best = float("inf")
    for _ in range(rounds):
        started = time.thread_time()
        for _ in range(100):
            sum(range(1000))
        best = min(best, (time.thread_time() - started) * 1e4)
    return round(best, 2)


def _per_event(seconds: float, events: int) -> float:
    return round(seconds * 1e6 / events, 2)


def _one_run(records: Sequence[Incoming], buffer: int) -> tuple[StageClock, _Outputs, float, float]:
    clock = StageClock()
    with tuned_collector():  # as in the worker process
        wall, cpu = time.perf_counter(), time.thread_time()
        outputs = run_processor(records, buffer, clock)
    return clock, outputs, time.thread_time() - cpu, time.perf_counter() - wall


def measure_processor(events: int, buffer: int, seed: int, repeat: int = 1) -> dict[str, Any]:
    """Events per second and µs per event of the processor alone, with a per-stage breakdown.

    Times are CPU time of this thread (the machine is shared; wall time is reported beside it).
    With ``repeat`` > 1, the run with the least CPU time is reported.
    """
    records = source_records(events, seed)
    run_processor(records[: min(len(records), 2000)], buffer, StageClock())  # warm up
    runs = [_one_run(records, buffer) for _ in range(max(1, repeat))]
    clock, outputs, cpu, wall = min(runs, key=lambda run: run[2])
    count = len(records)
    stages = {name: _per_event(s, count) for name, s in clock.seconds.items()}
    stages["other"] = _per_event(cpu - sum(clock.seconds.values()), count)
    hot = sum(clock.seconds.get(name, 0.0) for name in HOT_PATH)
    return {
        "events": count,
        "buffer": buffer,
        "seed": seed,
        "cache_size": WorkerSettings().cache_size,
        "batches": len(outputs.table),
        "chain_states_written": outputs.written,
        "chains_published": outputs.published,
        "alerts": outputs.alerts,
        "cpu_seconds": round(cpu, 3),
        "wall_seconds": round(wall, 3),
        "events_per_s": round(count / cpu),
        "us_per_event": _per_event(cpu, count),
        "hot_path_us_per_event": _per_event(hot, count),
        "stages_us_per_event": stages,
        "reference_loop_us": reference_loop_us(),
    }


def profile_processor(events: int, buffer: int, seed: int, top: int) -> str:
    """The top ``top`` functions by own time of one run, as cProfile prints them."""
    records = source_records(events, seed)
    profiler = cProfile.Profile()
    profiler.enable()
    run_processor(records, buffer, StageClock())
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tracesync.devtools.bench.processor")
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--buffer", type=int, default=1000, help="records per processor buffer")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1, help="report the fastest of N runs")
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N", help="print top N (cProfile)"
    )
    args = parser.parse_args(argv)
    report = measure_processor(args.events, args.buffer, args.seed, args.repeat)
    print(json.dumps(report, indent=2))
    if args.profile:
        print(profile_processor(args.events, args.buffer, args.seed, args.profile), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
