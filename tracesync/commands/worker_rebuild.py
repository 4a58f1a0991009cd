"""``tracesync worker rebuild``: replay the sources under a new application id, compare, cut over.

The work is in ``ops/rebuild_worker.py`` (replay into shadow topics, compare) and
``ops/worker_cutover.py`` (``--cutover``); this module starts the worker process and prints.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import click

from tracesync.commands.context import settings_from
from tracesync.errors import TracesyncError

if TYPE_CHECKING:
    from ops.rebuild_worker import Launch, Progress, WorkerProcess
    from tracesync.settings import Settings

_EVERY_S = 5.0


class _Printer:
    """Progress once every few seconds (and the last one): count, rate, shadow chains."""

    def __init__(self) -> None:
        self._last = 0.0

    def __call__(self, progress: Progress) -> None:
        now = time.monotonic()
        if now - self._last < _EVERY_S:
            return
        self._last = now
        click.echo(
            f"replayed {progress.replayed:,}/{progress.total:,} source records, "
            f"{progress.rate:,.0f}/s, {progress.chains:,} shadow chain records, "
            f"{progress.seconds:,.0f} s"
        )


def _launcher(loglevel: str) -> Launch:
    from tracesync.devtools.supervise import Component

    def launch(settings: Settings) -> WorkerProcess:
        log = settings.home / "worker" / f"{settings.worker.app_id}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        click.echo(f"rebuild worker {settings.worker.app_id} started; its log: {log}")
        return Component(["worker", "--loglevel", loglevel], settings, log).start()

    return launch


@click.command("rebuild")
@click.option("--cutover", is_flag=True, help="Make the rebuilt worker the live one (see below).")
@click.option("--app-id", help="Application id of the rebuild (default: <app_id>-rebuild-<time>).")
@click.option("--timeout", "timeout_s", default=3600.0, show_default=True, help="Seconds.")
@click.option("--loglevel", default="warning", show_default=True, help="The worker's log level.")
@click.pass_context
def rebuild_command(
    ctx: click.Context, cutover: bool, app_id: str | None, timeout_s: float, loglevel: str
) -> None:
    """Rebuild the worker's state from the source topics and compare it with the live chains.

    Runs a worker under a new application id (its own consumer group, state folder, changelog
    and repartition topics) from the start of every source topic, writing its chains, alerts and
    dead letters to shadow topics <prefix><new id>.trace.chain/.trace.alerts/.dlq.streams, until
    it has caught up and its outputs settled. Then compares the shadow chain topic with the live
    one batch by batch (version, content hash): counts, first differences, verdict; exit 1 when
    they differ. With --cutover (the live worker stopped): refused on any difference but
    "ahead" (the rebuild has newer chains); publishes those to the live topics and writes the
    settings that make the rebuilt worker the live one to <home>/worker/<new id>.env.
    """
    from ops.rebuild_worker import compare_topics, rebuild_settings, rebuild_worker
    from ops.worker_cutover import cutover as cut_over
    from tracesync.bootstrap import catalog

    settings = settings_from(ctx)
    live_topic = catalog(settings).topic("trace.chain").name
    try:
        launch = _launcher(loglevel)
        result = rebuild_worker(settings, launch, _Printer(), timeout_s, app_id)
        click.echo(
            f"replayed {result.replayed:,} source records in {result.replay_seconds:.1f} s "
            f"({result.rate:,.0f} records/s, worker start included); settled after "
            f"{result.seconds:.1f} s"
        )
        comparison, rebuilt_chains = compare_topics(settings, live_topic, result.topics.chain)
        for line in comparison.lines():
            click.echo(line)
        if cutover:
            rebuilt = rebuild_settings(settings, result.app_id)
            done = cut_over(settings, rebuilt, comparison, rebuilt_chains)
            click.echo(
                f"cutover: published {done.chains_published} chains and {done.alerts_published} "
                f"alerts the rebuild had ahead; start every worker with (also in {done.env_file}):"
            )
            for name, value in done.env.items():
                click.echo(f"  {name}={value}")
    except TracesyncError as exc:
        raise click.ClickException(str(exc)) from exc
    if not comparison.ok and not cutover:
        ctx.exit(1)
