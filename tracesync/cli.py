"""The ``tracesync`` command line: one group, one sub-module per command family.

Each family lives in ``tracesync/commands/<name>.py`` and exposes a click command or group that
is registered here. Settings are built once here and handed down through the click context.
"""

from __future__ import annotations

import logging

import click

from tracesync import __version__
from tracesync.commands import COMMANDS
from tracesync.settings import load_settings


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


for _command in COMMANDS:
    main.add_command(_command)
