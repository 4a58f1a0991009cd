"""``tracesync export fsma204|epcis``: compliance exports from the trace store."""

from __future__ import annotations

import time
from datetime import date, datetime
from pathlib import Path

import click

from tracesync.commands.context import settings_from
from tracesync.errors import TracesyncError

_store_url = click.option("--store-url", help="SQLAlchemy URL (default: the settings').")
_out = click.option(
    "--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="File."
)
_from = click.option("--from", "date_from", type=click.DateTime(["%Y-%m-%d"]), help="First day.")
_to = click.option("--to", "date_to", type=click.DateTime(["%Y-%m-%d"]), help="Last day.")
_product = click.option("--product", help="Only this product or material code.")
_lot = click.option("--lot", help="Only this lot (and the batches that consumed it).")


def _day(value: datetime | None) -> date | None:
    return value.date() if value else None


@click.group("export")
def export() -> None:
    """Compliance exports: FSMA 204 sortable spreadsheet, EPCIS 2.0 JSON-LD."""


@export.command("fsma204")
@_from
@_to
@_product
@_lot
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv"]), default="xlsx")
@_out
@_store_url
@click.pass_context
def fsma204_command(
    ctx: click.Context,
    date_from: datetime | None,
    date_to: datetime | None,
    product: str | None,
    lot: str | None,
    fmt: str,
    out: Path,
    store_url: str | None,
) -> None:
    """One row per critical tracking event with its key data elements, and the lot genealogy."""
    from sinks.exports.fsma204 import write_fsma204
    from sinks.exports.store_reads import Window
    from sinks.store.database import open_store

    started = time.perf_counter()
    try:
        engine = open_store(store_url or settings_from(ctx).store_url).engine
        window = Window(_day(date_from), _day(date_to), product, lot)
        result = write_fsma204(engine, window, out, fmt)
    except TracesyncError as exc:
        raise click.ClickException(str(exc)) from exc
    elapsed = time.perf_counter() - started
    click.echo(
        f"{result.events} critical tracking events, {result.genealogy_rows} genealogy rows "
        f"in {elapsed:.1f} s -> {', '.join(str(p) for p in result.paths)}"
    )


@export.command("epcis")
@_from
@_to
@_product
@_lot
@click.option(
    "--code",
    "codes",
    multiple=True,
    help="A batch, trace code, delivery, complaint "
    "or GS1 code: that batch with its genealogy (repeatable).",
)
@click.option(
    "--schema",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Check the document against this EPCIS JSON Schema after writing it.",
)
@_out
@_store_url
@click.pass_context
def epcis_command(
    ctx: click.Context,
    date_from: datetime | None,
    date_to: datetime | None,
    product: str | None,
    lot: str | None,
    codes: tuple[str, ...],
    schema: Path | None,
    out: Path,
    store_url: str | None,
) -> None:
    """An EPCIS 2.0 EPCISDocument (JSON-LD) of the window's batches or of the given codes."""
    from sinks.exports.epcis_export import check_file, write_epcis
    from sinks.exports.store_reads import Window
    from sinks.store.database import open_store
    from tracesync.gs1.identifiers import Identifiers, master_data

    settings = settings_from(ctx)
    started = time.perf_counter()
    try:
        engine = open_store(store_url or settings.store_url).engine
        ids = Identifiers(master_data(settings.exports))
        window = Window(_day(date_from), _day(date_to), product, lot)
        count = write_epcis(engine, out, ids, window, codes)
        problems = check_file(out, schema) if schema else []
    except TracesyncError as exc:
        raise click.ClickException(str(exc)) from exc
    elapsed = time.perf_counter() - started
    click.echo(f"{count} EPCIS events in {elapsed:.1f} s -> {out}")
    if schema:
        if problems:
            raise click.ClickException(
                f"{out} breaks the schema {schema}:\n" + "\n".join(problems[:20])
            )
        click.echo(f"valid against {schema}")
