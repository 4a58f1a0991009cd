"""Command families of the ``tracesync`` CLI; each module exposes one click command or group."""

from __future__ import annotations

import click

from tracesync.commands.ingest import ingest
from tracesync.commands.kafka import kafka
from tracesync.commands.registry import registry
from tracesync.commands.schemas import schemas
from tracesync.commands.simulate import simulate
from tracesync.commands.topics import topics

COMMANDS: list[click.Command] = []
COMMANDS.append(kafka)
COMMANDS.append(ingest)
COMMANDS.append(registry)
COMMANDS.append(schemas)
COMMANDS.append(topics)
COMMANDS.append(simulate)
