"""Database change capture: ``tracesync ingest db --mapping FILE`` as a Kafka source adapter.

Each mapping (:mod:`producers.mapping`) names one table of a source database, read through
SQLAlchemy, in one of two modes:

* ``poll``: rows whose ``watermark_column`` (an auto-increment id or a change sequence; strictly
  increasing and unique) is above the stored watermark, in that order. The watermark is kept in
  a SQLite file, ``<settings.home>/ingest/dbpoll-watermarks.db`` (one row per mapping name), and
  only advanced after the broker acknowledged every event of the batch. The column must be
  assigned in commit order: with concurrent writers whose ids commit out of order, use ``outbox``.
* ``outbox``: all rows of a transactional outbox table, oldest key first; after the broker
  acknowledged them they are deleted (``on_published = "delete"``) or stamped
  (``published_column`` set to now, ``on_published = "mark"``; only unstamped rows are read).

Every row becomes one Envelope with a deterministic event id, uuid5 of (system, table, row key,
source_seq): a crash between the broker's acknowledgement and the watermark/outbox update only
re-sends the same events, which the idempotent merge downstream ignores.

A bad row never stops the capture: it goes to ``dlq.ingest`` (value: the row as JSON; headers:
reason, field, column, mapping, table, row key; see :mod:`producers.dbpoll.deadletters`), the rest
of its batch is published, and it counts as handled, so the watermark/outbox moves past it. Bad
rows are rows that are not a valid Envelope, rows with a value the driver cannot read as its
column's type (text in a SQLite ``TIMESTAMP`` or ``NUMERIC`` column, a PostgreSQL timestamp past
year 9999; :mod:`producers.dbpoll.reading`), and rows whose event the broker refuses as too large
(their dead letter carries the key columns only). The key and watermark columns themselves must
be readable.

Modules: ``reading`` (the table and one batch of rows), ``capture`` (a step: convert, publish,
then advance), ``deadletters`` (the record of a bad row), ``watermarks`` (the durable watermark)
and ``loop`` (which database, and the polling loop).
"""

from producers.dbpoll.capture import DbChangeCapture, StepResult
from producers.dbpoll.loop import engine_for, run, source_url
from producers.dbpoll.watermarks import WATERMARK_FILE, WatermarkStore

__all__ = [
    "WATERMARK_FILE",
    "DbChangeCapture",
    "StepResult",
    "WatermarkStore",
    "engine_for",
    "run",
    "source_url",
]
