"""``tracesync demo``: the whole pipeline on this machine, fed by a simulated plant, then asked.

It starts what it needs (broker and registry unless they already run; worker, sinks and the
three ingest edges as processes), feeds the plant through REST, database outbox and file drops
while printing progress, waits until the trace store equals the simulator's oracle, answers a
reconciliation, a complaint trace and a recall from the store, shows one recovery (the store
deleted, rebuilt from the chain topic and verified), and stops what it started.
"""

from __future__ import annotations

import click

from tracesync.commands.context import settings_from, with_worker
from tracesync.errors import TracesyncError


@click.command("demo")
@click.option("--batches", default=300, show_default=True, help="Batches the plant produces.")
@click.option("--seed", default=7, show_default=True, help="Simulation seed.")
@click.option(
    "--keep-running",
    is_flag=True,
    help="Leave components and infrastructure up, and start the console (tracesync serve) on "
    "the store; its URL and a viewer key are printed.",
)
@click.option(
    "--engine",
    type=click.Choice(["quix", "faust"]),
    default=None,
    help="Stream engine of the worker (default: settings.worker.engine, quix).",
)
@click.option(
    "--timeout",
    "timeout_s",
    default=600.0,
    show_default=True,
    help="Seconds to wait for the store to match the oracle.",
)
@click.pass_context
def demo(
    ctx: click.Context,
    batches: int,
    seed: int,
    keep_running: bool,
    engine: str | None,
    timeout_s: float,
) -> None:
    """Run the whole pipeline on a simulated plant and answer three questions from the store.

    After the answers the store is deleted, rebuilt from the chain topic and verified (the
    runbook's lost-store recovery). Exit code 0 when the trace store and every answer match the
    simulator's oracle and the recovered store verifies.
    """
    from tracesync.devtools.demo.run import DemoOptions, run_demo
    from tracesync.settings import with_demo_keys

    settings = with_worker(settings_from(ctx), engine=engine)
    # the demo's well-known API keys: a local showcase, never a plant
    settings = with_demo_keys(settings)
    options = DemoOptions(batches, seed, keep_running, timeout_s)
    try:
        code = run_demo(settings, options, echo=click.echo)
    except TracesyncError as exc:
        raise click.ClickException(str(exc)) from exc
    ctx.exit(code)
