"""``tracesync topics``: list the topic catalog, apply it to the broker, document it (AsyncAPI)."""

from __future__ import annotations

from pathlib import Path

import click

from tracesync.commands.context import settings_from
from tracesync.errors import TracesyncError


@click.group("topics")
def topics() -> None:
    """The pipeline's topics (source, chain, alerts, receipts, dead letters)."""


@topics.command("list")
@click.option("--broker/--no-broker", default=True, help="Also show what the broker has.")
@click.pass_context
def list_topics(ctx: click.Context, broker: bool) -> None:
    """Print the catalog; with the broker's partition count and cleanup policy when it answers."""
    from tracesync.topics import TopicCatalog, read_state

    settings = settings_from(ctx)
    catalog = TopicCatalog.from_settings(settings)
    state = {}
    if broker:
        from tracesync.kafka_clients import admin_client

        admin = admin_client(settings.kafka)
        try:
            state = read_state(admin, catalog, timeout_s=10.0)
        except TracesyncError as exc:
            raise click.ClickException(str(exc)) from exc
    for spec in catalog:
        retention = "-" if spec.retention_ms is None else f"{spec.retention_ms // 3_600_000}h"
        line = (
            f"{spec.name:<32} {spec.role.value:<9} partitions={spec.partitions:<3} "
            f"key={spec.key:<13} cleanup={spec.cleanup_policy:<8} retention={retention}"
        )
        if broker:
            found = state.get(spec.name)
            line += (
                "  broker: missing"
                if found is None
                else f"  broker: {found.partitions} partitions, {found.cleanup_policy}"
            )
        click.echo(line)


@topics.command("apply")
@click.pass_context
def apply_topics(ctx: click.Context) -> None:
    """Create missing topics and verify existing ones (idempotent); exit 1 on a broken layout."""
    from tracesync.kafka_clients import admin_client
    from tracesync.topics import TopicCatalog, apply

    settings = settings_from(ctx)
    catalog = TopicCatalog.from_settings(settings)

    admin = admin_client(settings.kafka)
    try:
        result = apply(admin, catalog)
    except TracesyncError as exc:
        raise click.ClickException(str(exc)) from exc
    for name in result.created:
        click.echo(f"created  {name}")
    for name in result.verified:
        click.echo(f"verified {name}")


@topics.command("docs")
@click.option(
    "--check", is_flag=True, help="Only say whether the document is current (exit 1 when stale)."
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write it [default: docs/asyncapi.yaml of the repository].",
)
def docs(check: bool, output: Path | None) -> None:
    """Regenerate the AsyncAPI 3.0 document of the topics from the catalog and avro/."""
    from tracesync.contracts import asyncapi

    path = output or asyncapi.DOC_PATH
    try:
        if check:
            if not asyncapi.is_current(path):
                raise click.ClickException(f"{path} is stale: run `tracesync topics docs`")
            click.echo(f"{path} is current")
            return
        changed = asyncapi.write(path)
    except TracesyncError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{'wrote' if changed else 'unchanged'} {path}")
