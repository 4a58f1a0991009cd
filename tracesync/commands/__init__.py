"""Command families of the ``tracesync`` CLI; each module exposes one click command or group."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
