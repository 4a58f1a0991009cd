"""``tracesync trace CODE`` (backward) and ``tracesync recall LOT`` (forward) on the trace store.

Both show times with their UTC offset, in the plant's time zone (``time_zone`` setting,
``--time-zone``). Both only read: they open the store without migrating it
(:mod:`sinks.store.readonly`), so they print nothing but the answer and start without loading
Alembic.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

from tracesync.commands.context import settings_from
from tracesync.errors import TracesyncError

if TYPE_CHECKING:
    from datetime import tzinfo

    from sqlalchemy import Engine

_store_url = click.option("--store-url", help="SQLAlchemy URL (default: the settings').")
_as_json = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
_zone_option = click.option(
    "--time-zone",
    "time_zone",
    metavar="ZONE",
    help="Show times in this zone (UTC or IANA, e.g. Europe/Berlin) [default: the settings' "
    "time_zone].",
)
_depth = click.option(
    "--max-depth",
    type=int,
    default=None,
    help="Genealogy levels to walk at most [default: the store queries' limit].",
)


@contextmanager
def _store(ctx: click.Context, store_url: str | None) -> Iterator[Engine]:
    """The store opened for queries, its connections closed when the query is done."""
    from sinks.store.readonly import open_for_queries

    try:
        engine = open_for_queries(store_url or settings_from(ctx).store_url)
    except TracesyncError as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        yield engine
    finally:
        engine.dispose()


def _zone(ctx: click.Context, name: str | None) -> tzinfo:
    """The zone times are shown in: ``--time-zone`` or the plant's configured one."""
    from tracesync.plant_time import zone_named

    try:
        return zone_named(name or settings_from(ctx).time_zone)
    except TracesyncError as exc:
        raise click.BadParameter(str(exc), param_hint="--time-zone") from exc


def _emit(data: object, as_json: bool, text: str, zone: tzinfo) -> None:
    if as_json:
        import orjson

        from sinks.store.report import report_dict

        click.echo(orjson.dumps(report_dict(data, zone), option=orjson.OPT_INDENT_2).decode())
    else:
        click.echo(text)


@click.command("trace")
@click.argument("code")
@_store_url
@_as_json
@_depth
@_zone_option
@click.pass_context
def trace_command(
    ctx: click.Context,
    code: str,
    store_url: str | None,
    as_json: bool,
    max_depth: int | None,
    time_zone: str | None,
) -> None:
    """Backward trace from a batch code, trace code (or GS1 Digital Link URI / element string),
    delivery id or complaint id."""
    from sinks.exports.resolve import store_code
    from sinks.store.queries import DEFAULT_MAX_DEPTH, trace
    from sinks.store.report import trace_text
    from tracesync.gs1.identifiers import master_data

    zone = _zone(ctx, time_zone)
    with _store(ctx, store_url) as engine:
        try:
            with engine.connect() as conn:
                code = store_code(conn, code, master_data(settings_from(ctx).exports))
        except TracesyncError as exc:
            raise click.ClickException(str(exc)) from exc
        report = trace(engine, code, DEFAULT_MAX_DEPTH if max_depth is None else max_depth)
    if report is None:
        raise click.ClickException(
            f"{code!r} is not a batch, lot, trace code, delivery or complaint"
        )
    _emit(report, as_json, trace_text(report, zone), zone)


@click.command("recall")
@click.argument("lot")
@_store_url
@_as_json
@_depth
@_zone_option
@click.pass_context
def recall_command(
    ctx: click.Context,
    lot: str,
    store_url: str | None,
    as_json: bool,
    max_depth: int | None,
    time_zone: str | None,
) -> None:
    """Forward trace from a lot: downstream batches, stock now, deliveries and customers."""
    from sinks.store.queries import DEFAULT_MAX_DEPTH, recall
    from sinks.store.report import recall_text

    zone = _zone(ctx, time_zone)
    with _store(ctx, store_url) as engine:
        report = recall(engine, lot, DEFAULT_MAX_DEPTH if max_depth is None else max_depth)
    if not report.found:
        raise click.ClickException(f"lot {lot!r} is not in the trace store")
    _emit(report, as_json, recall_text(report, zone), zone)
