"""``tracesync assess INVENTORY``: the problem statement's five-step selection frame, run.

Prints the five steps with their findings, the four-dimension comparison of point-to-point API,
middleware hub and file exchange with the arithmetic, and the recommended tracesync edge per flow
(:mod:`tracesync.assess`). ``--json`` prints the same as JSON, ``--sheet`` writes the evaluation
sheet (``.xlsx`` or ``.md``), ``--emit-config DIR`` writes the starting configuration of the edges
and checks each file with the loaders of ``tracesync ingest`` and ``tracesync sink targets``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from tracesync.commands.context import settings_from
from tracesync.errors import TracesyncError

if TYPE_CHECKING:
    from tracesync.assess.assessment import Assessment
    from tracesync.assess.edges import EdgeTimings
    from tracesync.settings import Settings


def edge_timings(settings: Settings) -> EdgeTimings:
    """The edges' latency estimates from the poll and settle settings of the ingest commands
    (``tracesync assess`` and the console's assessment page alike)."""
    from tracesync.assess.edges import EdgeTimings

    return EdgeTimings(
        db_poll_s=settings.ingest_db.poll_interval_s,
        files_poll_s=settings.ingest_files.poll_interval_s,
        files_settle_s=settings.ingest_files.settle_s,
    )


@click.command("assess")
@click.argument(
    "inventory", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=False
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.option(
    "--sheet",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the evaluation sheet: FILE.xlsx or FILE.md.",
)
@click.option(
    "--emit-config",
    "emit_dir",
    metavar="DIR",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write mappings, API keys and routes for the recommended edges into DIR.",
)
@click.option("--force", is_flag=True, help="Replace files --emit-config finds in DIR.")
@click.option("--schema", "print_schema", is_flag=True, help="Print the inventory's JSON Schema.")
@click.pass_context
def assess(
    ctx: click.Context,
    inventory: Path | None,
    as_json: bool,
    sheet: Path | None,
    emit_dir: Path | None,
    force: bool,
    print_schema: bool,
) -> None:
    """Assess a plant's inventory (TOML, see docs/assess.md) and recommend an edge per flow."""
    import orjson

    from tracesync.assess.assessment import assess as run_assessment
    from tracesync.assess.loader import load_inventory
    from tracesync.assess.report import assessment_dict, assessment_text
    from tracesync.assess.schema import schema_text

    if print_schema:
        click.echo(schema_text(), nl=False)
        return
    if inventory is None:
        raise click.UsageError("give an INVENTORY file (or --schema)")
    timings = edge_timings(settings_from(ctx))
    try:
        result = run_assessment(load_inventory(inventory), timings)
        if sheet is not None:
            from tracesync.assess.sheet import write_sheet

            write_sheet(result, sheet)
        checked = _emit(result, emit_dir, force) if emit_dir else []
    except TracesyncError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        data = assessment_dict(result)
        data["emitted"] = checked
        click.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode())
        return
    click.echo(assessment_text(result))
    if sheet is not None:
        click.echo(f"\nevaluation sheet: {sheet}")
    if checked:
        click.echo("\n" + "\n".join(checked))


def _emit(result: Assessment, directory: Path, force: bool) -> list[str]:
    """Write the configuration, then load each file the way its command will."""
    from producers.mapping import load_mapping
    from sinks.targets.config import load_routes
    from tracesync.assess.emit import plan_config, write_config

    files = plan_config(result)
    write_config(files, directory, force=force)
    lines = [f"configuration written to {directory}:"]
    for config in files:
        path = directory / config.path
        if config.kind in ("db-mapping", "file-mapping"):
            mapping = load_mapping(path)
            command = "ingest db" if mapping.db is not None else "ingest files"
            lines.append(f"  {config.path}: loads in tracesync {command}")
        elif config.kind == "routes":
            routes = load_routes(path)
            lines.append(
                f"  {config.path}: loads in tracesync sink targets ({len(routes.routes)} routes, "
                f"{len(routes.targets)} targets)"
            )
        else:
            lines.append(f"  {config.path}")
    return lines
