"""``tracesync schemas``: check the Avro contract against its released versions, release, show."""

from __future__ import annotations

import click

from tracesync.errors import TracesyncError


@click.group("schemas")
def schemas() -> None:
    """The Avro event contract in avro/ and its released versions in avro/released/."""


@schemas.command("check")
def check() -> None:
    """Fail (exit 1) naming each field that breaks a released version.

    Every type is held backward (the current schemas read released data); the output records
    (TraceChain, Alert, FileReceipt) forward too (consumers on a released schema read current
    data), and the dead-letter headers may only grow.
    """
    from tracesync.contracts import schema_compat
    from tracesync.contracts.schemas import OUTPUT_ROOTS, current, released_versions

    try:
        versions = released_versions()
        problems = schema_compat.check_released(current(), versions)
    except TracesyncError as exc:
        raise click.ClickException(str(exc)) from exc
    for problem in problems:
        click.echo(f"INCOMPATIBLE {problem.describe()}", err=True)
    if problems:
        raise SystemExit(1)
    numbers = ", ".join(f"v{v.number}" for v in versions) or "none"
    outputs = ", ".join(OUTPUT_ROOTS)
    click.echo(f"compatible with released versions {numbers}: backward, and full for {outputs}")


@schemas.command("release")
def release() -> None:
    """Copy the current schemas to avro/released/v<n+1>/ (refused when they are incompatible)."""
    from tracesync.contracts import schema_compat

    try:
        number = schema_compat.release()
    except TracesyncError as exc:
        raise click.ClickException(str(exc)) from exc
    if number is None:
        click.echo("nothing to release: the current schemas equal the latest released version")
    else:
        click.echo(f"released v{number}")


@schemas.command("show")
@click.argument("name", default="Envelope")
def show(name: str) -> None:
    """Print the expanded canonical JSON of a type (default: Envelope) and its fingerprint."""
    from tracesync.contracts.schemas import current

    try:
        schema_set = current()
        click.echo(schema_set.canonical_json(name))
        click.echo(f"# CRC-64-AVRO fingerprint: {schema_set.fingerprint(name).hex()}", err=True)
    except TracesyncError as exc:
        raise click.ClickException(str(exc)) from exc
