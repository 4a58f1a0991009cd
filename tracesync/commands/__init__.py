"""Command families of the ``tracesync`` CLI; each module exposes one click command or group."""

from __future__ import annotations

import click

from tracesync.commands.assess import assess
from tracesync.commands.bench import bench
from tracesync.commands.demo import demo
from tracesync.commands.dlq import dlq
from tracesync.commands.export import export
from tracesync.commands.ingest import ingest
from tracesync.commands.kafka import kafka
from tracesync.commands.keys import keys
from tracesync.commands.registry import registry
from tracesync.commands.replay import replay
from tracesync.commands.report import report
from tracesync.commands.schemas import schemas
from tracesync.commands.serve import serve
from tracesync.commands.simulate import simulate
from tracesync.commands.sink import sink
from tracesync.commands.store import store
from tracesync.commands.topics import topics
from tracesync.commands.trace import recall_command, trace_command
from tracesync.commands.verify import verify
from tracesync.commands.worker import worker

COMMANDS: list[click.Command] = []
COMMANDS.append(kafka)
COMMANDS.append(ingest)
COMMANDS.append(registry)
COMMANDS.append(schemas)
COMMANDS.append(topics)
COMMANDS.append(worker)
COMMANDS.append(simulate)
COMMANDS.append(sink)
COMMANDS.append(store)
COMMANDS.append(trace_command)
COMMANDS.append(recall_command)
COMMANDS.append(export)
COMMANDS.append(report)
COMMANDS.append(dlq)
COMMANDS.append(replay)
COMMANDS.append(verify)
COMMANDS.append(bench)
COMMANDS.append(demo)
COMMANDS.append(assess)
COMMANDS.append(serve)
COMMANDS.append(keys)
