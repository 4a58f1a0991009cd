"""``tracesync report CODE --format html|pdf --out FILE``: the regulator trace report."""

from __future__ import annotations

import time
from pathlib import Path

import click

from tracesync.commands.context import settings_from
from tracesync.errors import TracesyncError


@click.command("report")
@click.argument("code")
@click.option("--format", "fmt", type=click.Choice(["html", "pdf"]), default="pdf")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--store-url", help="SQLAlchemy URL (default: the settings').")
@click.pass_context
def report(ctx: click.Context, code: str, fmt: str, out: Path, store_url: str | None) -> None:
    """Trace report for a batch, trace code (or GS1 Digital Link), delivery or complaint."""
    from sinks.exports.report import write_report
    from sinks.store.database import open_store
    from tracesync.gs1.identifiers import master_data

    settings = settings_from(ctx)
    started = time.perf_counter()
    try:
        engine = open_store(store_url or settings.store_url).engine
        data = write_report(engine, code, out, fmt, master=master_data(settings.exports))
    except TracesyncError as exc:
        raise click.ClickException(str(exc)) from exc
    batches = ", ".join(b.code for b in data.batches)
    click.echo(
        f"{data.kind} {data.code} -> {batches}: {fmt} report in "
        f"{time.perf_counter() - started:.1f} s -> {out}"
    )
