"""``tracesync replay COMPONENT``: move a component's consumer group back (or forward).

A dry run by default: every partition's committed offset, its target and the lag left. With
``--execute`` the offsets are written, refused while the group has active members.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click

from tracesync.commands.context import settings_from
from tracesync.errors import TracesyncError

if TYPE_CHECKING:
    from ops.replay import ResetSpec


def _parse_offsets(values: tuple[str, ...]) -> dict[int | None, int]:
    offsets: dict[int | None, int] = {}
    for value in values:
        partition, sep, offset = value.rpartition(":")
        try:
            offsets[int(partition) if sep else None] = int(offset)
        except ValueError as exc:
            raise click.BadParameter(
                f"{value!r}: give PARTITION:OFFSET or OFFSET (whole numbers)",
                param_hint="--to-offset",
            ) from exc
    return offsets


def _parse_when(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise click.BadParameter(
            f"{text!r} is not an ISO date-time (e.g. 2026-12-01T08:00:00+00:00)",
            param_hint="--to-datetime",
        ) from exc
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _spec(
    to_datetime: str | None,
    to_earliest: bool,
    to_latest: bool,
    to_offset: tuple[str, ...],
    shift_by: int | None,
) -> ResetSpec:
    from ops.replay import ResetKind, ResetSpec

    chosen = [
        name
        for name, given in (
            ("--to-datetime", to_datetime is not None),
            ("--to-earliest", to_earliest),
            ("--to-latest", to_latest),
            ("--to-offset", bool(to_offset)),
            ("--shift-by", shift_by is not None),
        )
        if given
    ]
    if len(chosen) != 1:
        raise click.UsageError(
            "give exactly one of --to-datetime, --to-earliest, --to-latest, --to-offset, "
            f"--shift-by (got {', '.join(chosen) or 'none'})"
        )
    if to_datetime is not None:
        return ResetSpec(ResetKind.DATETIME, when=_parse_when(to_datetime))
    if to_earliest:
        return ResetSpec(ResetKind.EARLIEST)
    if to_latest:
        return ResetSpec(ResetKind.LATEST)
    if to_offset:
        return ResetSpec(ResetKind.OFFSET, offsets=_parse_offsets(to_offset))
    return ResetSpec(ResetKind.SHIFT, shift=shift_by or 0)


@click.command("replay")
@click.argument("component", type=click.Choice(["worker", "store-sink", "targets-sink"]))
@click.option("--to-datetime", help="First offset at or after this ISO time (UTC if no zone).")
@click.option("--to-earliest", is_flag=True, help="The start of every partition.")
@click.option("--to-latest", is_flag=True, help="The end of every partition (skip everything).")
@click.option("--to-offset", multiple=True, help="PARTITION:OFFSET, or OFFSET for all; repeatable.")
@click.option("--shift-by", type=int, help="Move the committed offsets by N (negative: back).")
@click.option("--topic", "topics", multiple=True, help="Only these of the component's topics.")
@click.option("--group", help="Override the component's consumer group id.")
@click.option("--execute", is_flag=True, help="Write the offsets (default: dry run only).")
@click.pass_context
def replay(
    ctx: click.Context,
    component: str,
    to_datetime: str | None,
    to_earliest: bool,
    to_latest: bool,
    to_offset: tuple[str, ...],
    shift_by: int | None,
    topics: tuple[str, ...],
    group: str | None,
    execute: bool,
) -> None:
    """Replay COMPONENT's consumer group: worker, store-sink or targets-sink.

    Same rules as Kafka's `kafka-consumer-groups --reset-offsets`: dry run first, refused while
    the group has active members. The components are idempotent, so a replayed store sink
    converges to the same store and a replayed targets sink sends nothing twice.
    """
    from dataclasses import replace

    from ops.replay import component_named, execute_replay, plan_replay

    settings = settings_from(ctx)
    spec = _spec(to_datetime, to_earliest, to_latest, to_offset, shift_by)
    try:
        chosen = component_named(settings, component)
        if group is not None:
            chosen = replace(chosen, group=group)
        plans, members = plan_replay(settings.kafka, chosen, spec, topics)
    except TracesyncError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{chosen.name} (group {chosen.group}): {spec.describe()}")
    click.echo(f"{'topic':<40} {'part':>4} {'current':>10} {'target':>10} {'lag':>10}")
    for plan in plans:
        current = "-" if plan.current is None else str(plan.current)
        click.echo(
            f"{plan.topic:<40} {plan.partition:>4} {current:>10} {plan.target:>10} {plan.lag:>10}"
        )
    total = sum(plan.lag for plan in plans)
    click.echo(f"{len(plans)} partitions, {total} records to read after the reset")
    if members:
        click.echo(f"active members: {'; '.join(members)}")
    if not execute:
        click.echo("dry run: nothing changed (add --execute to apply)")
        return
    try:
        execute_replay(settings.kafka, chosen, plans)
    except TracesyncError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"reset {sum(p.changes for p in plans)} partitions of {chosen.group}")
