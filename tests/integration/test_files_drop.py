"""File drops against the real broker: CSV and XML exports into a watched folder.

Each test gets its own topic prefix (source topics, ingest.receipts) and its own folder and home
(ledger). Checked: good rows arrive decodable and keyed by batch code, bad rows are named (row,
field) in the error report next to the moved file while every good row is published; receipts are
decodable with the counts; a file dropped twice is published once; an unreadable file is rejected;
a file whose writer pauses is taken only once complete (its ``.done`` marker, the default), and with
the opt-in settled completion a file that grows while it is ingested is never recorded half-read;
and SIGKILL of ``tracesync ingest files`` mid-file plus a restart loses nothing and doubles nothing.
"""

from __future__ import annotations

import csv
import hashlib
import shutil
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import KafkaException

from producers.bootstrap import run_file_ingest
from producers.files import CompletenessTracker, Completion, FileDropIngest, FileLedger, watch
from producers.mapping import derived_event_id, load_mapping
from tests.fixtures.kafka import KafkaBroker
from tests.integration.test_producer_core import read_topic
from tracesync.contracts.record_serde import RecordSerde
from tracesync.contracts.serde import EnvelopeSerde
from tracesync.devtools.infra.kafka import ensure_topic
from tracesync.devtools.supervise import Component, wait_for
from tracesync.publisher import Acknowledgement, DeliveryOutcome, KafkaPublisher, OutboundRecord
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


def drop_marked(source: Path, folder: Path, name: str | None = None) -> None:
    """Copy an export into the folder, then its ``.done`` marker (the default completion)."""
    target = folder / (name or source.name)
    shutil.copy(source, target)
    (folder / f"{target.name}.done").touch()


def ingest_once(settings: Settings, folder: Path, *mappings: Path) -> None:
    run_file_ingest(settings, list(mappings), folder, threading.Event(), once=True)


def report_rows(path: Path) -> list[tuple[str, str]]:
    with path.open(newline="") as f:
        return [(r["row"], r["field"]) for r in csv.DictReader(f)]


def test_good_rows_are_published_bad_rows_reported_and_receipts_sent(
    settings: Settings, drop: Path
) -> None:
    drop_marked(WMS_SAMPLE, drop)
    drop_marked(QMS_SAMPLE, drop)
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
    drop_marked(WMS_SAMPLE, drop)
    ingest_once(settings, drop, WMS_MAPPING)
    drop_marked(WMS_SAMPLE, drop, "wms_receipts_again.csv")
    drop_marked(WMS_SAMPLE, drop)  # same name, same content
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
    for name in ("qms_inspections_broken.xml", "wms_receipts_wrong.csv"):
        (drop / f"{name}.done").touch()
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


def export_lines(first: int, last: int) -> str:
    return "".join(
        f"GR-{i};1;LOT-{i:04d};{i}.5;KG;RCV-01;HU-{i};2025-03-01 06:{i % 60:02d}:00\n"
        for i in range(first, last + 1)
    )


EXPORT_HEADER = "receipt_no;revision;lot;qty;uom;location;hu;received_at\n"


def test_a_file_whose_writer_pauses_is_taken_only_once_it_is_complete(
    settings: Settings, drop: Path
) -> None:
    """Before, a writer pausing longer than the settle time (0.5 s here) had its file taken with
    the first rows only; by default a file is now complete when its ``.done`` marker is there."""
    stop = threading.Event()
    outcomes: list[Any] = []
    watcher = threading.Thread(
        target=lambda: outcomes.extend(run_file_ingest(settings, [WMS_MAPPING], drop, stop))
    )
    watcher.start()
    export = drop / "wms_receipts_slow.csv"
    try:
        with export.open("w") as writer:
            writer.write(EXPORT_HEADER + export_lines(1, 40))
            writer.flush()
            time.sleep(2.0)  # the exporter is busy elsewhere: four times the settle time
            writer.write(export_lines(41, 100))
        (drop / f"{export.name}.done").touch()
        assert wait_for((drop / "processed" / export.name).exists, 60, 0.2)
    finally:
        stop.set()
        watcher.join(60)
    checksum = hashlib.sha256((drop / "processed" / export.name).read_bytes()).hexdigest()
    ids = {e["event_id"] for _, e in events(settings, "WMS")}
    assert ids == {derived_event_id("file", checksum, n) for n in range(1, 101)}
    ((receipt,),) = [[r for r in receipts(settings) if r["file_name"] == export.name]]
    assert (receipt["status"], receipt["rows_accepted"], receipt["rows_rejected"]) == (
        "PROCESSED",
        100,
        0,
    )
    assert "100 row(s) read" in receipt["message"]


class WriterResumingPublisher:
    """The real publisher; after the first chunk of rows is acknowledged, the exporter (which
    only paused) appends the rest of its file, as a slow writer under settled completion does."""

    def __init__(self, inner: KafkaPublisher, export: Path, rest: str) -> None:
        self.inner, self.export, self.rest = inner, export, rest
        self.resumed = False

    def publish(self, records: Sequence[OutboundRecord]) -> list[Acknowledgement]:
        acks = self.inner.publish(records)
        if not self.resumed and not records[0].topic.endswith("ingest.receipts"):
            self.resumed = True
            with self.export.open("a") as writer:
                writer.write(self.rest)
        return acks

    async def publish_async(self, records: Sequence[OutboundRecord]) -> list[DeliveryOutcome]:
        raise AssertionError("the file ingest publishes synchronously")


def test_with_settled_completion_a_file_that_grows_while_ingested_is_never_recorded_half_read(
    settings: Settings, drop: Path
) -> None:
    """Before, the file was recorded, receipted and moved with the rows read first; the rest was
    never published. Now the end check finds the file changed: nothing is recorded, the file
    stays, and once it settles again every row of its final content is published."""
    export = drop / "wms_receipts_growing.csv"
    export.write_text(EXPORT_HEADER + export_lines(1, 30))
    publisher = KafkaPublisher(settings.kafka, settings.producer)
    ledger = FileLedger(settings.home / "ingest" / "files-ledger.db")
    try:
        ingest = FileDropIngest(
            drop,
            [load_mapping(WMS_MAPPING)],
            WriterResumingPublisher(publisher, export, export_lines(31, 80)),
            EnvelopeSerde.single_object(),
            TopicCatalog.from_settings(settings),
            ledger=ledger,
            plant=settings.plant,
            publish_chunk=10,
        )
        tracker = CompletenessTracker(Completion.SETTLED, settle_s=0.3)
        assert watch(ingest, threading.Event(), 0.1, tracker, once=True) == []
        assert export.exists() and not (drop / "processed" / export.name).exists()
        assert receipts(settings) == []

        (outcome,) = watch(ingest, threading.Event(), 0.1, tracker, once=True)
    finally:
        publisher.close()
        ledger.close()
    assert (outcome.status, outcome.accepted, outcome.rejected) == ("PROCESSED", 80, 0)
    final = (drop / "processed" / export.name).read_bytes()
    assert final.count(b"\n") == 81
    checksum = hashlib.sha256(final).hexdigest()
    ids = {e["event_id"] for _, e in events(settings, "WMS")}
    assert {derived_event_id("file", checksum, n) for n in range(1, 81)} <= ids  # nothing lost
    ((receipt,),) = [receipts(settings)]
    assert (receipt["rows_accepted"], receipt["checksum_sha256"]) == (80, checksum)
