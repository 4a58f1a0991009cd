"""The ``tracesync`` command line: one group, one sub-module per command family.

Each family lives in ``tracesync/commands/<name>.py`` and exposes a click command or group that
is registered here. Settings are built once here and handed down through the click context.
"""

from __future__ import annotations

import logging

import click

from tracesync import __version__
from tracesync.settings import Settings, load_settings


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tracesync")
@click.option("-v", "--verbose", is_flag=True, help="Log at DEBUG level.")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """tracesync: sync batch traceability data across MES, ERP, WMS and QMS over Kafka."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    ctx.obj = load_settings()


def settings_from(ctx: click.Context) -> Settings:
    """The settings built by :func:`main`, for sub-commands."""
    obj = ctx.find_root().obj
    if not isinstance(obj, Settings):  # invoked outside main(), e.g. from a test
        obj = load_settings()
        ctx.find_root().obj = obj
    return obj


def _register() -> None:
    from tracesync.commands import COMMANDS  # noqa: PLC0415 - the commands import this module

    for command in COMMANDS:
        main.add_command(command)


_register()
