"""DB change capture against the real broker, with SQLite and PostgreSQL source databases.

Each test gets its own topic prefix (source topics with 6 partitions, dlq.ingest) and a fresh source
database (``store_url``: SQLite file or a new PostgreSQL database). Checked: good rows arrive
decodable, keyed by batch code, with the deterministic event ids; bad rows land in dlq.ingest with
the field and the row in headers while every good row is published; the watermark survives a new
adapter; the outbox is emptied (or stamped) only after the acknowledgement; a value the database
driver cannot read as its column's type (the project's own sample database has one) dead-letters
its row with the column and the reason while the rest flows on and the watermark/outbox moves past
it; and SIGKILL of the ``tracesync ingest db`` process mid-run plus a restart loses no row.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, KafkaException, TopicPartition
from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    create_engine,
    func,
    insert,
    select,
)

from producers.bootstrap import run_db_ingest
from producers.mapping import derived_event_id
from tests.fixtures.kafka import KafkaBroker
from tests.integration.test_producer_core import read_topic
from tracesync.contracts.serde import EnvelopeSerde
from tracesync.devtools.infra.kafka import ensure_topic
from tracesync.devtools.supervise import Component, wait_for
from tracesync.settings import IngestDbSettings, KafkaSettings, RegistrySettings, Settings
from tracesync.topics import SOURCE_SYSTEMS, TopicCatalog

pytestmark = pytest.mark.integration

PARTITIONS = 6
MAPPINGS = Path(__file__).resolve().parents[2] / "deploy" / "mappings"
MES_MAPPING = MAPPINGS / "mes_batches.db.toml"
SAMPLE_DB = Path(__file__).resolve().parents[2] / "deploy" / "samples" / "source_db.sql"
ERP_MAPPING = MAPPINGS / "erp_receipts.db.toml"
# naive on purpose: source tables keep wall-clock times; the mappings name their zone (UTC)
T0 = dt.datetime(2025, 3, 1, 6, 0)  # noqa: DTZ001


def mes_table(metadata: MetaData) -> Table:
    return Table(
        "mes_batch_log",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("batch_code", String(40), nullable=False),
        Column("seq", Integer, nullable=False),
        *(Column(c, String(200)) for c in ("order_id", "product_code", "line_id", "shift")),
        *(Column(c, String(200)) for c in ("team", "operators", "equipment")),
        Column("started_at", String(40)),  # text, as legacy schemas have it: bad values possible
        Column("logged_at", DateTime),
    )


def erp_outbox(metadata: MetaData) -> Table:
    return Table(
        "erp_outbox",
        metadata,
        Column("outbox_id", Integer, primary_key=True, autoincrement=False),
        Column("receipt_id", String(40), nullable=False),
        Column("version", Integer, nullable=False),
        Column("lot_code", String(40), nullable=False),
        *(Column(c, String(40)) for c in ("supplier_id", "supplier_lot", "material_code", "uom")),
        Column("qty", Numeric(18, 3)),
        Column("posted_at", DateTime),
        Column("published_at", DateTime),
    )


def mes_row(i: int, started_at: str | None = None) -> dict[str, Any]:
    return {
        "id": i,
        "batch_code": f"B-{i:06d}",
        "seq": 1,
        "order_id": f"PO-{i}",
        "product_code": "P-100",
        "line_id": "L1",
        "shift": "A",
        "team": "T1",
        "operators": "op-1, op-2",
        "equipment": "MIX-3",
        "started_at": started_at or (T0 + dt.timedelta(minutes=i)).isoformat(sep=" "),
        "logged_at": T0 + dt.timedelta(minutes=i, seconds=5),
    }


def erp_row(i: int) -> dict[str, Any]:
    return {
        "outbox_id": i,
        "receipt_id": f"MR-{i}",
        "version": 1,
        "lot_code": f"LOT-{i:05d}",
        "supplier_id": "SUP-1",
        "supplier_lot": f"SL-{i}",
        "material_code": "M-SUGAR",
        "uom": "KG",
        "qty": Decimal("12.345") * i,
        "posted_at": T0 + dt.timedelta(minutes=i),
        "published_at": None,
    }


def fill(engine: Engine, table: Table, rows: list[dict[str, Any]]) -> None:
    with engine.begin() as conn:
        for start in range(0, len(rows), 1000):
            conn.execute(insert(table), rows[start : start + 1000])


@pytest.fixture
def settings(kafka_broker: KafkaBroker, tmp_path: Path) -> Settings:
    """Settings of this test: own topic prefix (topics created), own home for the watermarks."""
    prefix = f"dbpoll-{uuid.uuid4().hex[:10]}."
    catalog = TopicCatalog.build(prefix, PARTITIONS)
    for system in SOURCE_SYSTEMS:
        ensure_topic(kafka_broker.bootstrap_servers, catalog.source_topic(system), PARTITIONS, 1)
    ensure_topic(kafka_broker.bootstrap_servers, catalog.dlq("ingest"), 1, 1)
    return Settings(
        home=tmp_path / "home",
        topic_prefix=prefix,
        kafka=KafkaSettings(bootstrap_servers=kafka_broker.bootstrap_servers),
        registry=RegistrySettings(enabled=False),  # single-object; the registry path: e2e demo
        ingest_db=IngestDbSettings(batch_size=100, poll_interval_s=0.2),
    )


def events(settings: Settings, system: str) -> list[tuple[bytes, dict[str, Any]]]:
    serde = EnvelopeSerde.single_object()
    topic = TopicCatalog.from_settings(settings).source_topic(system)
    records = read_topic(settings.kafka.bootstrap_servers, topic, PARTITIONS)
    return [(key, serde.decode(value)) for _, _, key, value in records]


def dead_letters(settings: Settings) -> list[tuple[bytes, dict[str, bytes]]]:
    topic = TopicCatalog.from_settings(settings).dlq("ingest")
    consumer = Consumer(
        {"bootstrap.servers": settings.kafka.bootstrap_servers, "group.id": "unused"}
    )
    try:
        end = consumer.get_watermark_offsets(TopicPartition(topic, 0))[1]
        consumer.assign([TopicPartition(topic, 0, 0)])
        out = []
        while len(out) < end:
            msg = consumer.poll(10.0)
            assert msg is not None and msg.error() is None
            out.append((msg.key(), dict(msg.headers() or [])))
        return out
    finally:
        consumer.close()


def published_count(settings: Settings) -> int:
    """MES events so far (0 while the topic's metadata is not known to a new client yet)."""
    try:
        return len(events(settings, "MES"))
    except KafkaException:
        return 0


def mes_event_id(row_id: int, seq: int = 1) -> str:
    return derived_event_id("db", "MES", "mes_batch_log", row_id, seq)


def drain(settings: Settings, mapping: Path, url: str) -> None:
    run_db_ingest(settings, [mapping], url, threading.Event(), once=True)


def test_poll_publishes_good_rows_keyed_by_batch_and_dead_letters_bad_ones(
    settings: Settings, store_url: str
) -> None:
    engine = create_engine(store_url)
    table = mes_table(MetaData())
    table.metadata.create_all(engine)
    rows = [mes_row(i) for i in range(1, 121)]
    rows[9] = mes_row(10, started_at="not a time")
    rows[50] = {**mes_row(51), "batch_code": ""}
    fill(engine, table, rows)

    drain(settings, MES_MAPPING, store_url)

    stored = events(settings, "MES")
    good = [r for r in rows if r["id"] not in (10, 51)]
    assert sorted(e["event_id"] for _, e in stored) == sorted(mes_event_id(r["id"]) for r in good)
    for key, event in stored:
        assert key == event["batch_code"].encode()
        assert event["event_type"] == "BATCH_STARTED"
        assert event["source_ref"] == f"MES:BS:{event['batch_code']}"
        assert event["payload"]["operators"] == ["op-1", "op-2"]
    first = next(e for _, e in stored if e["batch_code"] == "B-000001")
    assert first["occurred_at"] == dt.datetime(2025, 3, 1, 6, 1, tzinfo=dt.UTC)

    letters = {headers["dlq.row"]: (key, headers) for key, headers in dead_letters(settings)}
    assert set(letters) == {b"10", b"51"}
    assert letters[b"10"][1]["dlq.field"] == b"occurred_at"
    assert b"not an ISO-8601 timestamp" in letters[b"10"][1]["dlq.reason"]
    assert letters[b"51"][1]["dlq.field"] == b"batch_code"
    assert letters[b"10"][0] == b"B-000010"

    # a new adapter (new process in real life) resumes at the durable watermark
    fill(engine, table, [mes_row(i) for i in range(121, 126)])
    drain(settings, MES_MAPPING, store_url)
    again = events(settings, "MES")
    assert len(again) == len(stored) + 5
    engine.dispose()


def test_outbox_rows_are_deleted_only_after_their_events_are_stored(
    settings: Settings, store_url: str
) -> None:
    engine = create_engine(store_url)
    table = erp_outbox(MetaData())
    table.metadata.create_all(engine)
    fill(engine, table, [erp_row(i) for i in range(1, 251)])

    drain(settings, ERP_MAPPING, store_url)

    stored = events(settings, "ERP")
    assert len(stored) == 250
    by_lot = {e["batch_code"]: (k, e) for k, e in stored}
    key, event = by_lot["LOT-00007"]
    assert key == b"LOT-00007"
    assert event["payload"]["quantity"] == {"value": Decimal("86.415"), "uom": "KG"}
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(table)).scalar() == 0
    engine.dispose()


def test_outbox_in_mark_mode_stamps_rows_and_reads_only_unstamped(
    settings: Settings, store_url: str, tmp_path: Path
) -> None:
    mapping = tmp_path / "erp_mark.db.toml"
    mapping.write_text(
        ERP_MAPPING.read_text().replace(
            'on_published = "delete"', 'on_published = "mark"\npublished_column = "published_at"'
        )
    )
    engine = create_engine(store_url)
    table = erp_outbox(MetaData())
    table.metadata.create_all(engine)
    fill(engine, table, [erp_row(i) for i in range(1, 31)])
    drain(settings, mapping, store_url)
    fill(engine, table, [erp_row(i) for i in range(31, 41)])
    drain(settings, mapping, store_url)

    assert len(events(settings, "ERP")) == 40
    with engine.connect() as conn:
        stamped = conn.execute(
            select(func.count()).select_from(table).where(table.c.published_at.is_not(None))
        ).scalar()
    assert stamped == 40
    engine.dispose()


def test_the_sample_database_publishes_its_good_rows_and_dead_letters_the_unreadable_one(
    settings: Settings, tmp_path: Path
) -> None:
    """deploy/samples/source_db.sql holds 'not a time' in a TIMESTAMP column (row 3): before the
    fix ``ingest db`` died on it at every start and published nothing."""
    database = tmp_path / "source.db"
    with sqlite3.connect(database) as conn:
        conn.executescript(SAMPLE_DB.read_text())
    url = f"sqlite:///{database}"
    for mapping in (MES_MAPPING, ERP_MAPPING):
        args = ["ingest", "db", "--once", "--mapping", str(mapping), "--url", url]
        run = Component(args, settings, tmp_path / "ingest-db.log").start()
        assert run.proc is not None
        assert run.proc.wait(120) == 0, run.log_tail()

    assert sorted(e["batch_code"] for _, e in events(settings, "MES")) == ["B-000123", "B-000124"]
    assert len(events(settings, "ERP")) == 2
    ((key, headers),) = dead_letters(settings)
    assert key == b"B-000125"
    assert headers["dlq.row"] == b"3"
    assert headers["dlq.column"] == b"started_at"
    assert headers["dlq.field"] == b"occurred_at"
    assert headers["dlq.stage"] == b"ingest"
    assert b"not a time" in headers["dlq.reason"] and b"started_at" in headers["dlq.reason"]

    again = Component(
        ["ingest", "db", "--once", "--mapping", str(MES_MAPPING), "--url", url],
        settings,
        tmp_path / "ingest-db.log",
    ).start()
    assert again.proc is not None
    assert again.proc.wait(120) == 0, again.log_tail()
    assert len(events(settings, "MES")) == 2  # the watermark moved past the bad row
    assert len(dead_letters(settings)) == 1


def test_an_outbox_row_the_driver_cannot_read_is_dead_lettered_and_the_outbox_drains(
    settings: Settings, store_url: str
) -> None:
    """A value each dialect stores but cannot hand over as its column's type: text in SQLite's
    NUMERIC column; a timestamp past year 9999 in PostgreSQL (Python's datetime ends there)."""
    engine = create_engine(store_url)
    table = erp_outbox(MetaData())
    table.metadata.create_all(engine)
    fill(engine, table, [erp_row(i) for i in range(1, 21)])
    sqlite = engine.dialect.name == "sqlite"
    bad_column = "qty" if sqlite else "posted_at"
    bad_value = "'twelve'" if sqlite else "'12000-01-01 00:00:00'"
    with engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE erp_outbox SET {bad_column} = {bad_value} WHERE outbox_id=7")

    drain(settings, ERP_MAPPING, store_url)

    stored = events(settings, "ERP")
    assert sorted(e["batch_code"] for _, e in stored) == sorted(
        f"LOT-{i:05d}" for i in range(1, 21) if i != 7
    )
    ((key, headers),) = dead_letters(settings)
    assert (key, headers["dlq.row"]) == (b"LOT-00007", b"7")
    assert headers["dlq.column"] == bad_column.encode()
    assert headers["dlq.field"] == (b"payload.quantity.value" if sqlite else b"occurred_at")
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(table)).scalar() == 0
    engine.dispose()


def test_a_row_too_large_for_the_broker_is_dead_lettered_and_the_rest_flows_on(
    settings: Settings, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'mes.db'}"
    engine = create_engine(url)
    table = mes_table(MetaData())
    table.metadata.create_all(engine)
    rows = [mes_row(i) for i in range(1, 11)]
    rows[4] = {**mes_row(5), "equipment": ",".join(["E" * 100] * 15_000)}  # ~1.5 MB event
    fill(engine, table, rows)  # the column is VARCHAR(200): SQLite keeps what it is given

    drain(settings, MES_MAPPING, url)

    assert sorted(e["event_id"] for _, e in events(settings, "MES")) == sorted(
        mes_event_id(i) for i in range(1, 11) if i != 5
    )
    ((key, headers),) = dead_letters(settings)
    assert (key, headers["dlq.row"]) == (b"B-000005", b"5")
    assert b"too large" in headers["dlq.reason"]
    drain(settings, MES_MAPPING, url)  # the watermark moved past it: nothing new
    assert len(events(settings, "MES")) == 9
    engine.dispose()


def test_sigkill_mid_run_and_restart_loses_no_row(
    settings: Settings, store_url: str, tmp_path: Path
) -> None:
    engine = create_engine(store_url)
    table = mes_table(MetaData())
    table.metadata.create_all(engine)
    rows = [mes_row(i) for i in range(1, 20_001)]
    fill(engine, table, rows)
    args = ["ingest", "db", "--mapping", str(MES_MAPPING), "--url", store_url]
    adapter = Component(args, settings, tmp_path / "ingest-db.log").start()
    try:
        assert wait_for(lambda: published_count(settings) >= 2_000, 120, 0.5), adapter.log_tail()
        adapter.kill()
        assert published_count(settings) < len(rows), (
            "killed too late to prove anything: the run had finished"
        )
        resumed = Component([*args, "--once"], settings, tmp_path / "ingest-db.log").start()
        assert resumed.proc is not None
        assert resumed.proc.wait(300) == 0, resumed.log_tail()
    finally:
        adapter.stop()

    stored = [e["event_id"] for _, e in events(settings, "MES")]
    assert set(stored) == {mes_event_id(r["id"]) for r in rows}  # nothing lost, nothing foreign
    assert len(stored) - len(set(stored)) <= 100  # re-sends are at most the batch in flight
    engine.dispose()
