"""``tracesync simulate``: generate a seeded plant, inject faults, write the oracle, publish.

With ``--dry-run`` nothing goes to Kafka: the oracle and a JSON-lines dump of every record are
written instead. Otherwise each record goes to its system's topic (``<prefix>mes.events`` ...).
"""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import click

from tracesync.commands.context import settings_from
from tracesync.errors import TracesyncError

if TYPE_CHECKING:
    from tracesync.devtools.simulator.scenario import Simulation, SimulationConfig
    from tracesync.settings import Settings

_RATE = click.FloatRange(0.0, 1.0)


@click.command("simulate")
@click.option("--batches", type=click.IntRange(1), default=100, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option(
    "--rate",
    type=click.FloatRange(0.0),
    default=0.0,
    show_default=True,
    help="Records per second to publish; 0 = as fast as possible.",
)
@click.option(
    "--duration",
    type=click.FloatRange(0.0, min_open=True),
    default=None,
    help="Stop publishing after this many seconds (the oracle still covers the run).",
)
@click.option("--duplicates", type=_RATE, default=0.02, show_default=True)
@click.option("--reorder", type=_RATE, default=0.05, show_default=True)
@click.option("--late", type=_RATE, default=0.01, show_default=True)
@click.option("--malformed", type=_RATE, default=0.005, show_default=True)
@click.option("--mismatch", type=_RATE, default=0.03, show_default=True)
@click.option("--missing", type=_RATE, default=0.01, show_default=True)
@click.option(
    "--tolerance",
    type=str,
    default="0.005",
    show_default=True,
    help="Relative tolerance of the reconciliation in the oracle.",
)
@click.option(
    "--oracle",
    "oracle_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the oracle JSON [<home>/sim/oracle.json].",
)
@click.option(
    "--dump",
    "dump_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="JSON-lines dump of the records [with --dry-run: next to the oracle].",
)
@click.option("--topic-prefix", default="", help="Prefix of the four source topics.")
@click.option("--dry-run", is_flag=True, help="Write oracle and dump; do not publish.")
@click.pass_context
def simulate(
    ctx: click.Context,
    *,
    batches: int,
    seed: int,
    rate: float,
    duration: float | None,
    duplicates: float,
    reorder: float,
    late: float,
    malformed: float,
    mismatch: float,
    missing: float,
    tolerance: str,
    oracle_path: Path | None,
    dump_path: Path | None,
    topic_prefix: str,
    dry_run: bool,
) -> None:
    """Simulate a plant of BATCHES batches and publish its events with injected faults."""
    from tracesync.devtools.simulator.faults import FaultRates
    from tracesync.devtools.simulator.scenario import SimulationConfig

    settings = settings_from(ctx)
    rates = FaultRates(duplicates, reorder, late, malformed, mismatch, missing)
    config = SimulationConfig(
        batches=batches,
        seed=seed,
        rates=rates,
        tolerance=Decimal(tolerance),
        plant_id=settings.plant,
    )
    sim = _generate(config)
    oracle_path = oracle_path or settings.home / "sim" / "oracle.json"
    sim.oracle.save(oracle_path)
    click.echo(f"oracle: {oracle_path} ({len(sim.oracle.chains)} codes)")
    if dry_run and dump_path is None:
        dump_path = oracle_path.with_suffix(".events.jsonl")
    if dump_path is not None:
        _dump(sim, dump_path, topic_prefix)
    if not dry_run:
        _publish(settings, sim, topic_prefix, rate=rate, duration=duration)


def _generate(config: SimulationConfig) -> Simulation:
    """Run the simulation and say how much it made, how fast, with which faults."""
    from tracesync.devtools.simulator.faults import fault_summary
    from tracesync.devtools.simulator.scenario import simulate as run_simulation

    began = time.monotonic()
    sim = run_simulation(config)
    took = time.monotonic() - began
    events = len(sim.events)
    click.echo(
        f"generated {events} events ({events / config.batches:.1f}/batch), "
        f"{len(sim.records)} records in {took:.2f}s ({events / took:.0f} events/s)"
    )
    click.echo(f"faults: {fault_summary(sim.faults)}")
    return sim


def _dump(sim: Simulation, dump_path: Path, topic_prefix: str) -> None:
    from tracesync.devtools.simulator.dump import write_dump
    from tracesync.devtools.simulator.publish import simulator_serde, topic_names

    lines = write_dump(dump_path, sim.records, simulator_serde(), topic_names(topic_prefix))
    click.echo(f"dump: {dump_path} ({lines} records)")


def _publish(
    settings: Settings, sim: Simulation, topic_prefix: str, *, rate: float, duration: float | None
) -> None:
    from tracesync.devtools.simulator.publish import (
        SimulationPublisher,
        simulator_producer_config,
        simulator_serde,
        topic_names,
    )

    topics = topic_names(topic_prefix)
    publisher = SimulationPublisher(
        simulator_producer_config(settings.kafka, settings.producer), topics
    )
    try:
        report = publisher.publish(sim.records, simulator_serde(), rate=rate, duration_s=duration)
    except TracesyncError as exc:
        raise click.ClickException(str(exc)) from exc
    state = "all" if report.complete else "stopped by --duration after"
    click.echo(
        f"published {state} {report.sent} records ({report.malformed} malformed) to "
        f"{', '.join(sorted(topics.values()))} in {report.seconds:.2f}s "
        f"({report.rate:.0f} records/s), {report.acknowledged} acknowledged"
    )
