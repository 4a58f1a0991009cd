"""File drops against the real broker: CSV and XML exports into a watched folder.

Each test gets its own topic prefix (source topics, ingest.receipts) and its own folder and home
(ledger). Checked: good rows arrive decodable and keyed by batch code, bad rows are named (row,
field) in the error report next to the moved file while every good row is published; receipts are
decodable with the counts; a file dropped twice is published once; an unreadable file is rejected;
and SIGKILL of ``tracesync ingest files`` mid-file plus a restart loses nothing and doubles nothing.
"""

from __future__ import annotations

import csv
import hashlib
import shutil
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import KafkaException

from producers.bootstrap import run_file_ingest
from producers.mapping import derived_event_id
from tests.fixtures.kafka import KafkaBroker
from tests.integration.test_producer_core import read_topic
from tracesync.contracts.record_serde import RecordSerde
from tracesync.contracts.serde import EnvelopeSerde
from tracesync.devtools.infra.kafka import ensure_topic
from tracesync.devtools.supervise import Component, wait_for
from tracesync.settings import IngestFilesSettings, KafkaSettings, RegistrySettings, Settings
from tracesync.topics import SOURCE_SYSTEMS, TopicCatalog

pytestmark = pytest.mark.integration

PARTITIONS = 6
ROOT = Path(__file__).resolve().parents[2]
WMS_MAPPING = ROOT / "deploy" / "mappings" / "wms_receipts.csv.toml"
QMS_MAPPING = ROOT / "deploy" / "mappings" / "qms_inspections.xml.toml"
WMS_SAMPLE = ROOT / "deploy" / "samples" / "wms_receipts_20250301.csv"
QMS_SAMPLE = ROOT / "deploy" / "samples" / "qms_inspections_20250301.xml"


@pytest.fixture
def settings(kafka_broker: KafkaBroker, tmp_path: Path) -> Settings:
    prefix = f"files-{uuid.uuid4().hex[:10]}."
    catalog = TopicCatalog.build(prefix, PARTITIONS)
    for system in SOURCE_SYSTEMS:
        ensure_topic(kafka_broker.bootstrap_servers, catalog.source_topic(system), PARTITIONS, 1)
    ensure_topic(kafka_broker.bootstrap_servers, catalog.topic("ingest.receipts").name, 1, 1)
    return Settings(
        home=tmp_path / "home",
        topic_prefix=prefix,
        kafka=KafkaSettings(bootstrap_servers=kafka_broker.bootstrap_servers),
        registry=RegistrySettings(enabled=False),  # single-object; the registry path: e2e demo
        ingest_files=IngestFilesSettings(settle_s=0.5, poll_interval_s=0.2),
    )


@pytest.fixture
def drop(tmp_path: Path) -> Path:
    folder = tmp_path / "drop"
    folder.mkdir()
    return folder


def events(settings: Settings, system: str) -> list[tuple[bytes, dict[str, Any]]]:
    serde = EnvelopeSerde.single_object()
    topic = TopicCatalog.from_settings(settings).source_topic(system)
    records = read_topic(settings.kafka.bootstrap_servers, topic, PARTITIONS)
    return [(key, serde.decode(value)) for _, _, key, value in records]


def receipts(settings: Settings) -> list[dict[str, Any]]:
    serde = RecordSerde.single_object("FileReceipt")
    topic = TopicCatalog.from_settings(settings).topic("ingest.receipts").name
    return [
        serde.decode(v) for _, _, _, v in read_topic(settings.kafka.bootstrap_servers, topic, 1)
    ]


def ingest_once(settings: Settings, folder: Path, *mappings: Path) -> None:
    run_file_ingest(settings, list(mappings), folder, threading.Event(), once=True)


def report_rows(path: Path) -> list[tuple[str, str]]:
    with path.open(newline="") as f:
        return [(r["row"], r["field"]) for r in csv.DictReader(f)]


def test_good_rows_are_published_bad_rows_reported_and_receipts_sent(
    settings: Settings, drop: Path
) -> None:
    shutil.copy(WMS_SAMPLE, drop)
    shutil.copy(QMS_SAMPLE, drop)
    ingest_once(settings, drop, WMS_MAPPING, QMS_MAPPING)

    wms = events(settings, "WMS")
    checksum = hashlib.sha256(WMS_SAMPLE.read_bytes()).hexdigest()
    assert sorted(e["event_id"] for _, e in wms) == sorted(
        derived_event_id("file", checksum, row) for row in (1, 2, 3, 7)
    )
    assert all(key == e["batch_code"].encode() for key, e in wms)
    assert {e["batch_code"] for _, e in wms} == {"LOT-A-001", "LOT-A-002", "LOT-B-001", "LOT-C-002"}
    qms = events(settings, "QMS")
    assert sorted(e["payload"]["verdict"] for _, e in qms) == ["FAIL", "PASS"]

    processed = drop / "processed"
    assert (processed / WMS_SAMPLE.name).read_bytes() == WMS_SAMPLE.read_bytes()
    assert not (drop / WMS_SAMPLE.name).exists()
    wms_report = report_rows(processed / f"{WMS_SAMPLE.name}.errors.csv")
    assert {row for row, _ in wms_report} == {"4", "5", "6"}
    assert ("4", "payload.quantity.value") in wms_report
    assert ("5", "batch_code") in wms_report
    assert ("6", "occurred_at") in wms_report
    qms_report = report_rows(processed / f"{QMS_SAMPLE.name}.errors.csv")
    assert ("3", "payload.verdict") in qms_report
    assert ("3", "payload.characteristics[0].value") in qms_report

    by_name = {r["file_name"]: r for r in receipts(settings)}
    wms_receipt = by_name[WMS_SAMPLE.name]
    assert (wms_receipt["status"], wms_receipt["rows_accepted"], wms_receipt["rows_rejected"]) == (
        "PROCESSED",
        4,
        3,
    )
    assert wms_receipt["checksum_sha256"] == checksum
    assert by_name[QMS_SAMPLE.name]["rows_accepted"] == 2


def test_a_file_dropped_twice_is_published_once(settings: Settings, drop: Path) -> None:
    shutil.copy(WMS_SAMPLE, drop)
    ingest_once(settings, drop, WMS_MAPPING)
    shutil.copy(WMS_SAMPLE, drop / "wms_receipts_again.csv")
    shutil.copy(WMS_SAMPLE, drop)  # same name, same content
    ingest_once(settings, drop, WMS_MAPPING)

    assert len(events(settings, "WMS")) == 4
    statuses = sorted(r["status"] for r in receipts(settings))
    assert statuses == ["DUPLICATE", "DUPLICATE", "PROCESSED"]
    notes = sorted((drop / "processed").glob("*.duplicate.txt"))
    assert len(notes) == 2
    assert "duplicate of" in notes[0].read_text()
    assert not list(drop.glob("*.csv"))


def test_an_unreadable_file_is_rejected_with_a_report(settings: Settings, drop: Path) -> None:
    (drop / "qms_inspections_broken.xml").write_text("<InspectionExport><Inspection id='1'>")
    (drop / "wms_receipts_wrong.csv").write_text("a;b\n1;2\n")
    ingest_once(settings, drop, WMS_MAPPING, QMS_MAPPING)

    rejected = drop / "rejected"
    xml_report = (rejected / "qms_inspections_broken.xml.errors.csv").read_text()
    assert "not well-formed XML" in xml_report
    csv_report = (rejected / "wms_receipts_wrong.csv.errors.csv").read_text()
    assert "header lacks the column(s)" in csv_report and "receipt_no" in csv_report
    assert {r["status"] for r in receipts(settings)} == {"REJECTED"}
    assert events(settings, "WMS") == [] and events(settings, "QMS") == []


def published_count(settings: Settings, system: str) -> int:
    """Records on the system's topic so far (0 while its metadata is not known yet)."""
    try:
        return len(events(settings, system))
    except KafkaException:
        return 0


def big_export(path: Path, rows: int) -> None:
    lines = ["receipt_no;revision;lot;qty;uom;location;hu;received_at"]
    lines += [
        f"GR-{i};1;LOT-{i % 997:04d};{i}.5;KG;RCV-01;HU-{i};2025-03-01 06:{i % 60:02d}:00"
        for i in range(1, rows + 1)
    ]
    path.write_text("\n".join(lines) + "\n")


def test_sigkill_mid_file_and_restart_loses_nothing_and_doubles_nothing(
    settings: Settings, drop: Path, tmp_path: Path
) -> None:
    staged = tmp_path / "wms_receipts_big.csv"
    rows = 60_000
    big_export(staged, rows)
    checksum = hashlib.sha256(staged.read_bytes()).hexdigest()
    settings = settings.model_copy(
        update={"ingest_files": IngestFilesSettings(settle_s=0.5, publish_chunk=500)}
    )
    args = ["ingest", "files", "--mapping", str(WMS_MAPPING), "--watch", str(drop)]
    adapter = Component(args, settings, tmp_path / "ingest-files.log").start()
    try:
        shutil.move(staged, drop / staged.name)
        (drop / f"{staged.name}.done").touch()
        assert wait_for(lambda: published_count(settings, "WMS") >= 5_000, 120, 0.5), (
            adapter.log_tail()
        )
        adapter.kill()
        assert (drop / staged.name).exists(), "killed too late: the file was already handled"
        resumed = Component([*args, "--once"], settings, tmp_path / "ingest-files.log").start()
        assert resumed.proc is not None
        assert resumed.proc.wait(300) == 0, resumed.log_tail()
    finally:
        adapter.stop()

    ids = [e["event_id"] for _, e in events(settings, "WMS")]
    assert set(ids) == {derived_event_id("file", checksum, n) for n in range(1, rows + 1)}
    assert (drop / "processed" / staged.name).exists()
    assert not (drop / f"{staged.name}.done").exists()
    done = [r for r in receipts(settings) if r["checksum_sha256"] == checksum]
    assert {(r["status"], r["rows_accepted"]) for r in done} == {("PROCESSED", rows)}
    assert len({r["receipt_id"] for r in done}) == 1
