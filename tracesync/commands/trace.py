"""``tracesync trace CODE`` (backward) and ``tracesync recall LOT`` (forward) on the trace store."""

from __future__ import annotations

import click
import orjson

from sinks.store.database import open_store
from sinks.store.queries import DEFAULT_MAX_DEPTH, recall, trace
from sinks.store.report import recall_text, report_dict, trace_text
from tracesync.commands.context import settings_from
from tracesync.errors import TracesyncError

_store_url = click.option("--store-url", help="SQLAlchemy URL (default: the settings').")
_as_json = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
_depth = click.option("--max-depth", default=DEFAULT_MAX_DEPTH, show_default=True, type=int)


def _emit(data: object, as_json: bool, text: str) -> None:
    if as_json:
        click.echo(orjson.dumps(report_dict(data), option=orjson.OPT_INDENT_2).decode())
    else:
        click.echo(text)


@click.command("trace")
@click.argument("code")
@_store_url
@_as_json
@_depth
@click.pass_context
def trace_command(
    ctx: click.Context, code: str, store_url: str | None, as_json: bool, max_depth: int
) -> None:
    """Backward trace from a batch code, trace code (or GS1 Digital Link URI / element string),
    delivery id or complaint id."""
    from sinks.exports.identifiers import master_data
    from sinks.exports.resolve import store_code

    settings = settings_from(ctx)
    try:
        engine = open_store(store_url or settings.store_url).engine
        with engine.connect() as conn:
            code = store_code(conn, code, master_data(settings.exports))
    except TracesyncError as exc:
        raise click.ClickException(str(exc)) from exc
    report = trace(engine, code, max_depth)
    if report is None:
        raise click.ClickException(
            f"{code!r} is not a batch, lot, trace code, delivery or complaint"
        )
    _emit(report, as_json, trace_text(report))


@click.command("recall")
@click.argument("lot")
@_store_url
@_as_json
@_depth
@click.pass_context
def recall_command(
    ctx: click.Context, lot: str, store_url: str | None, as_json: bool, max_depth: int
) -> None:
    """Forward trace from a lot: downstream batches, stock now, deliveries and customers."""
    try:
        engine = open_store(store_url or settings_from(ctx).store_url).engine
    except TracesyncError as exc:
        raise click.ClickException(str(exc)) from exc
    report = recall(engine, lot, max_depth)
    if not report.found:
        raise click.ClickException(f"lot {lot!r} is not in the trace store")
    _emit(report, as_json, recall_text(report))
