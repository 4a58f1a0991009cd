"""Alembic environment of the trace store: runs on the connection handed over by sinks.store."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from sinks.store.schema import metadata


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run the trace store migrations with `tracesync store migrate`")
    run_on(connection)


run()
