"""File drops stream in constant memory: a 4x larger file needs no more memory (issue 15, #6).

The real ``tracesync ingest files --once`` runs as a child process against the session broker,
once on a small export and once on one four times its size (CSV and XML; one row in 50 is bad).
Its peak resident set (``ru_maxrss`` of that child, from ``wait4``) must not grow with the file:
before, the whole file, every row, every record and every error were held at once (a 200 MB
CSV passed 2 GiB). Every good row must reach the topic and every bad one the error report.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import IO

import pytest
from confluent_kafka import Consumer, TopicPartition

from tests.fixtures.kafka import KafkaBroker
from tests.integration.test_files_drop import receipts
from tracesync.devtools.infra.kafka import ensure_topic
from tracesync.devtools.supervise import TRACESYNC, settings_env
from tracesync.settings import IngestFilesSettings, KafkaSettings, RegistrySettings, Settings
from tracesync.topics import SOURCE_SYSTEMS, TopicCatalog

pytestmark = pytest.mark.integration

PARTITIONS = 3
MAPPINGS = Path(__file__).resolve().parents[2] / "deploy" / "mappings"
MIB = 1024 * 1024
HEADROOM = 16 * MIB
"""How much more the larger file may need at its peak (allocator noise, librdkafka buffers);
before, it needed ~20 MiB more per MiB of CSV and ~10 per MiB of XML."""
BAD_EVERY = 50


def csv_export(out: IO[str], target_bytes: int) -> tuple[int, int]:
    """WMS receipts (';' separated) up to ``target_bytes``; (good rows, bad rows)."""
    out.write("receipt_no;revision;lot;qty;uom;location;hu;received_at\n")
    good = bad = 0
    while out.tell() < target_bytes:
        n = good + bad + 1
        qty = "many" if n % BAD_EVERY == 0 else f"{n}.5"
        out.write(
            f"GR-{n};1;LOT-{n % 997:04d};{qty};KG;RCV-01;HU-{n};2025-03-01 06:{n % 60:02d}:00\n"
        )
        bad, good = (bad + 1, good) if n % BAD_EVERY == 0 else (bad, good + 1)
    return good, bad


def xml_export(out: IO[str], target_bytes: int) -> tuple[int, int]:
    """QMS inspections, one ``<Inspection>`` each, up to ``target_bytes``; (good, bad)."""
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n<InspectionExport plant="PLANT-01">\n')
    good = bad = 0
    while out.tell() < target_bytes:
        n = good + bad + 1
        verdict = "MAYBE" if n % BAD_EVERY == 0 else "OK"
        out.write(
            f'<Inspection id="INS-{n}" batch="B-{n % 997:06d}" revision="1" '
            f'inspectedAt="2025-03-01T10:15:00Z"><Plan>FINAL-QC</Plan><Verdict>{verdict}</Verdict>'
            "<Inspector>qa.team</Inspector><Characteristics>"
            '<Characteristic name="weight" value="24.8" unit="kg" lower="24.5" upper="25.5" '
            'ok="true"/></Characteristics></Inspection>\n'
        )
        bad, good = (bad + 1, good) if n % BAD_EVERY == 0 else (bad, good + 1)
    out.write("</InspectionExport>\n")
    return good, bad


FORMATS: dict[str, tuple[str, str, str, Callable[[IO[str], int], tuple[int, int]], int]] = {
    # format -> (mapping, file name, source system, writer, the smaller file's size); the sizes
    # keep the test short (mapping runs at a few thousand rows a second)
    "csv": ("wms_receipts.csv.toml", "wms_receipts_{size}.csv", "WMS", csv_export, 3 * MIB // 4),
    "xml": ("qms_inspections.xml.toml", "qms_inspections_{size}.xml", "QMS", xml_export, 2 * MIB),
}


def fresh_settings(broker: KafkaBroker, home: Path) -> Settings:
    prefix = f"filemem-{uuid.uuid4().hex[:10]}."
    catalog = TopicCatalog.build(prefix, PARTITIONS)
    for system in SOURCE_SYSTEMS:
        ensure_topic(broker.bootstrap_servers, catalog.source_topic(system), PARTITIONS, 1)
    ensure_topic(broker.bootstrap_servers, catalog.topic("ingest.receipts").name, 1, 1)
    return Settings(
        home=home,
        topic_prefix=prefix,
        kafka=KafkaSettings(bootstrap_servers=broker.bootstrap_servers),
        registry=RegistrySettings(enabled=False),
        ingest_files=IngestFilesSettings(publish_chunk=1000),
    )


def records_on(settings: Settings, topic: str) -> int:
    """How many records ``topic`` holds (its partitions' end offsets; the topic is new)."""
    consumer = Consumer({"bootstrap.servers": settings.kafka.bootstrap_servers, "group.id": "n"})
    try:
        return sum(
            consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
            for p in range(PARTITIONS)
        )
    finally:
        consumer.close()


def peak_rss_of_ingest(settings: Settings, mapping: Path, folder: Path, log: Path) -> int:
    """Run ``tracesync ingest files --once`` to its end; its peak resident set in bytes."""
    args = ["ingest", "files", "--once", "--mapping", str(mapping), "--watch", str(folder)]
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [TRACESYNC, *args],
            env=os.environ | settings_env(settings),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    _, status, usage = os.wait4(proc.pid, 0)  # the rusage of this child alone
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.returncode == 0, log.read_text(errors="replace")[-4000:]
    return usage.ru_maxrss * 1024  # KiB on Linux


def ingest_export(
    broker: KafkaBroker, tmp_path: Path, fmt: str, size: int
) -> tuple[int, tuple[int, int]]:
    """Drop one export of ``size`` bytes, ingest it; (peak RSS, (good rows, bad rows))."""
    mapping, name_pattern, system, write, _ = FORMATS[fmt]
    run = tmp_path / f"{fmt}-{size}"
    folder = run / "drop"
    folder.mkdir(parents=True)
    name = name_pattern.format(size=size)
    with (folder / name).open("w", encoding="utf-8") as out:
        counts = write(out, size)
    (folder / f"{name}.done").touch()
    settings = fresh_settings(broker, run / "home")
    peak = peak_rss_of_ingest(settings, MAPPINGS / mapping, folder, run / "ingest.log")

    good, bad = counts
    topic = TopicCatalog.from_settings(settings).source_topic(system)
    assert records_on(settings, topic) == good
    ((receipt,),) = [receipts(settings)]
    assert (receipt["status"], receipt["rows_accepted"], receipt["rows_rejected"]) == (
        "PROCESSED",
        good,
        bad,
    )
    report = folder / "processed" / f"{name}.errors.csv"
    with report.open(encoding="utf-8") as f:
        assert sum(1 for _ in f) == 1 + bad  # header + one line per bad row (one field each)
    assert (folder / "processed" / name).stat().st_size >= size
    return peak, counts


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_a_four_times_larger_file_needs_no_more_memory_and_loses_no_row(
    kafka_broker: KafkaBroker, tmp_path: Path, fmt: str
) -> None:
    small_size = FORMATS[fmt][4]
    small_peak, small = ingest_export(kafka_broker, tmp_path, fmt, small_size)
    large_peak, large = ingest_export(kafka_broker, tmp_path, fmt, 4 * small_size)
    assert sum(large) > 3 * sum(small)
    assert large_peak < small_peak + HEADROOM, (
        f"{fmt}: peak RSS {large_peak / MIB:.0f} MiB for {4 * small_size / MIB:.1f} MiB "
        f"vs {small_peak / MIB:.0f} MiB for {small_size / MIB:.1f} MiB"
    )
