"""The ``tracesync`` command line: one group, one sub-module per command family.

Each family lives in ``tracesync/commands/<name>.py`` and exposes a click command or group that
is registered here. Command modules import their heavy dependencies (FastAPI, the stream engine,
SQLAlchemy, the developer tools) inside the command functions, so ``tracesync --help`` and a
query start quickly. Settings are built once, on first use (:func:`~tracesync.commands.context.
settings_from`), and handed down through the click context.
"""

from __future__ import annotations

import logging

import click

from tracesync import __version__
from tracesync.commands import COMMANDS


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tracesync")
@click.option("-v", "--verbose", is_flag=True, help="Log at DEBUG level.")
def main(verbose: bool) -> None:
    """tracesync: sync batch traceability data across MES, ERP, WMS and QMS over Kafka."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


for _command in COMMANDS:
    main.add_command(_command)
