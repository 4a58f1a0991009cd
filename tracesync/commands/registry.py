"""``tracesync registry``: fetch, start, stop and inspect the local schema registry (Apicurio)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import click

from tracesync.commands.context import settings_from
from tracesync.errors import InfrastructureError

T = TypeVar("T")


@click.group("registry")
def registry() -> None:
    """The local schema registry (Apicurio, Confluent-compatible API under /apis/ccompat/v7)."""


@registry.command("fetch")
@click.pass_context
def fetch(ctx: click.Context) -> None:
    """Download and unpack Apicurio Registry from Maven Central (no-op when cached)."""
    from tracesync.devtools.infra import registry as infra

    settings = settings_from(ctx)
    dist = _run(lambda: infra.fetch(infra.default_cache_root(settings)))
    click.echo(f"registry {infra.APICURIO_VERSION} ready in {dist}")


@registry.command("up")
@click.pass_context
def up(ctx: click.Context) -> None:
    """Start the registry on 127.0.0.1 (detached) and wait until its API answers."""
    from tracesync.devtools.infra import registry as infra

    settings = settings_from(ctx)
    began = time.monotonic()
    state = _run(lambda: infra.start(settings, infra.default_cache_root(settings)))
    took = time.monotonic() - began
    click.echo(f"registry up at {state.url} (pid {state.pid}, {took:.1f}s)")


@registry.command("down")
@click.pass_context
def down(ctx: click.Context) -> None:
    """Stop the registry started by `registry up` (its schemas stay on disk)."""
    from tracesync.devtools.infra import registry as infra

    settings = settings_from(ctx)
    was_running = _run(lambda: infra.stop(settings))
    click.echo("registry stopped" if was_running else "registry was not running")


@registry.command("status")
@click.pass_context
def status(ctx: click.Context) -> None:
    """Say whether the registry runs and answers; exit code 1 when it does not answer."""
    from tracesync.devtools.infra import registry as infra

    settings = settings_from(ctx)
    state = infra.status(settings)
    if state.running:
        answer = "answering" if state.answering else "NOT answering"
        click.echo(f"registry running (pid {state.pid}) at {state.url}, {answer}")
    else:
        click.echo(f"registry not running (expected at {state.url})")
    if not state.answering:
        raise SystemExit(1)


def _run(action: Callable[[], T]) -> T:
    try:
        return action()
    except InfrastructureError as exc:
        raise click.ClickException(str(exc)) from exc
