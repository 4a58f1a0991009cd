"""``tracesync dlq``: look into dead-letter topics and redrive records to their origin topic."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click

from tracesync.commands.context import settings_from
from tracesync.errors import TracesyncError

if TYPE_CHECKING:
    from tracesync.settings import Settings


def _topic(settings: Settings, name: str) -> str:
    """A topic given as ``sinks`` (stage) or ``dlq.sinks`` (catalog name) or a full name."""
    from tracesync.topics import TopicCatalog

    catalog = TopicCatalog.from_settings(settings)
    for candidate in (f"dlq.{name}", name):
        try:
            return catalog.topic(candidate).name
        except KeyError:
            continue
    return name


def _echo_counts(title: str, counts: Counter[str]) -> None:
    if not counts:
        return
    click.echo(f"{title}:")
    for value, count in counts.most_common(20):
        click.echo(f"  {count:>7}  {value}")


_TOPIC = click.option(
    "--topic",
    required=True,
    help="Dead-letter topic: a stage (ingest, streams, sinks), dlq.<stage>, or a full name.",
)
_GROUP = click.option(
    "--group", default=None, help="Redrive consumer group [default: tracesync-dlq-redrive.<topic>]."
)


@click.group("dlq")
def dlq() -> None:
    """Dead-letter topics: list what failed and why, redrive it to its origin topic."""


@dlq.command("list")
@_TOPIC
@_GROUP
@click.pass_context
def list_dead_letters(ctx: click.Context, topic: str, group: str | None) -> None:
    """Count the topic's records by reason, origin topic, stage and route."""
    from ops.redrive import redrive_group, summarize

    settings = settings_from(ctx)
    name = _topic(settings, topic)
    try:
        summary = summarize(settings.kafka, name, group or redrive_group(name))
    except TracesyncError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{name}: {summary.count} record(s), {summary.pending} not yet redriven")
    _echo_counts("reasons", summary.reasons)
    _echo_counts("origins", summary.origins)
    _echo_counts("stages", summary.stages)
    _echo_counts("routes", summary.routes)


@dlq.command("redrive")
@_TOPIC
@_GROUP
@click.option("--since", default=None, help="Only records dead-lettered since: 30m, 2h, 1d, ISO.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Redrive at most N.")
@click.option("--reason-contains", default=None, help="Only records whose reason contains this.")
@click.option(
    "--dry-run", is_flag=True, help="Show what would be redriven; send and commit nothing."
)
@click.pass_context
def redrive_dead_letters(
    ctx: click.Context,
    topic: str,
    group: str | None,
    since: str | None,
    limit: int | None,
    reason_contains: str | None,
    dry_run: bool,
) -> None:
    """Send dead letters back to their origin topic (dlq.topic header) with dlq.redriven=N.

    Starts where the previous redrive of the group stopped and commits the group's offsets once
    the broker acknowledged the redriven records, so each record is redriven once.
    """
    from ops.redrive import RedriveFilter, parse_since, redrive, redrive_group
    from tracesync.publisher import KafkaPublisher

    settings = settings_from(ctx)
    name = _topic(settings, topic)
    try:
        since_ms = parse_since(since, datetime.now(UTC)) if since else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from exc
    wanted = RedriveFilter(
        since_ms=since_ms,
        reason_contains=reason_contains,
        limit=limit,
    )
    publisher = KafkaPublisher(settings.kafka, settings.producer)
    try:
        report = redrive(
            settings.kafka,
            publisher,
            name,
            group=group or redrive_group(name),
            wanted=wanted,
            dry_run=dry_run,
        )
    except TracesyncError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        publisher.close()
    verb = "would redrive" if dry_run else "redriven"
    click.echo(
        f"{name}: examined {report.examined}, {verb} {report.redriven}, "
        f"filtered out {report.filtered_out}, without origin {report.no_origin}"
    )
    _echo_counts("to topics", report.to_topics)
