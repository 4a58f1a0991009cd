"""Send the simulated plant through the three edges, in chunks, the way the systems would.

The simulator's records (its sending order, with duplicates and reordering) are cut into chunks;
in each chunk every record goes to its edge (:func:`~tracesync.devtools.demo.renderers.edge_of`):
REST
batches per source system (with that system's API key), one database transaction of ERP outbox
rows, one WMS CSV file and one QMS XML file in the drop folder (each completed by a ``.done``
marker). A REST batch that is not fully accepted stops the feed with the server's answer.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import threading
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, create_engine, text

from tracesync.contracts.serde import envelope_to_json
from tracesync.devtools.demo.renderers import (
    ERP_OUTBOX_DDL,
    WMS_RECEIPT_COLUMNS,
    Edge,
    edge_of,
    outbox_row,
    qms_export,
    qms_inspection_element,
    wms_receipt_row,
)
from tracesync.devtools.simulator.faults import OutRecord
from tracesync.errors import TracesyncError


class FeedError(TracesyncError):
    """An edge refused what the demo fed it."""


@dataclass
class FeedCounts:
    """What went through each edge so far."""

    rest_events: int = 0
    rest_requests: int = 0
    db_rows: int = 0
    files: int = 0
    file_rows: int = 0
    by_type: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def rest_base_url(host: str, port: int) -> str:
    return f"http://{host}:{port}"


def create_erp_database(url: str) -> Engine:
    """The demo ERP's database with its three outbox tables."""
    engine = create_engine(url)
    with engine.begin() as conn:
        for ddl in ERP_OUTBOX_DDL:
            conn.execute(text(ddl))
    return engine


def write_csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), delimiter=";", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


def drop_file(folder: Path, name: str, data: bytes) -> Path:
    """Write a file the way an exporter should: under a temporary name, renamed, then marked."""
    target = folder / name
    partial = folder / f".{name}.part"
    partial.write_bytes(data)
    partial.rename(target)
    (folder / f"{name}.done").touch()
    return target


def chunks(records: Sequence[OutRecord], size: int) -> Iterator[Sequence[OutRecord]]:
    for start in range(0, len(records), size):
        yield records[start : start + size]


class PlantFeed:
    """The plant's systems pushing, posting and exporting their records."""

    def __init__(
        self,
        rest_url: str,
        api_keys: Mapping[str, str],
        erp: Engine,
        drop: Path,
        plant: str,
    ) -> None:
        self.rest_url = rest_url
        self.api_keys = {system.upper(): key for system, key in api_keys.items()}
        self.erp = erp
        self.drop = drop
        self.plant = plant
        self.counts = FeedCounts()
        self.http = httpx.Client(timeout=60.0)
        self._files = 0
        self.typo_row: dict[str, Any] | None = None
        """A bad row to add to the first WMS export (see
        :mod:`tracesync.devtools.demo.bad_input`)."""
        self.typo_file: Path | None = None

    def close(self) -> None:
        self.http.close()
        self.erp.dispose()

    def send(
        self, records: Sequence[OutRecord], chunk_size: int, pause_s: float, stop: threading.Event
    ) -> None:
        """Every record through its edge, chunk by chunk, pausing between chunks."""
        for chunk in chunks(records, chunk_size):
            if stop.is_set():
                return
            self.send_chunk(chunk)
            stop.wait(pause_s)

    def send_chunk(self, chunk: Sequence[OutRecord]) -> None:
        rest: dict[str, list[dict[str, Any]]] = defaultdict(list)
        outbox: list[tuple[str, dict[str, Any]]] = []
        wms_rows: list[dict[str, Any]] = []
        qms: list[ET.Element] = []
        for record in chunk:
            envelope = record.envelope
            if envelope is None:  # the demo simulates no malformed records
                continue
            self.counts.by_type[str(envelope["event_type"])] += 1
            edge = edge_of(envelope)
            if edge is Edge.REST:
                rest[record.system].append(envelope_to_json(envelope))
            elif edge is Edge.DB:
                outbox.append(outbox_row(envelope))
            elif envelope["event_type"] == "GOODS_RECEIVED":
                wms_rows.append(wms_receipt_row(envelope))
            else:
                qms.append(qms_inspection_element(envelope))
        for system, events in rest.items():
            self.post(system, events)
        self.post_outbox(outbox)
        if wms_rows:
            extra = [self.typo_row] if self.typo_row and self.typo_file is None else []
            path = self.export_wms(wms_rows, extra)
            if extra:
                self.typo_file = path
        if qms:
            self.export_qms(qms)

    def post(self, system: str, events: list[dict[str, Any]]) -> None:
        response = self.http.post(
            f"{self.rest_url}/v1/{system.lower()}/events/batch",
            json=events,
            headers={"X-API-Key": self.api_keys[system]},
        )
        body = response.json()
        if response.status_code != 202 or body.get("rejected"):
            raise FeedError(
                f"REST ingest answered {response.status_code} for {len(events)} {system} events: "
                f"{str(body)[:500]}"
            )
        self.counts.rest_events += len(events)
        self.counts.rest_requests += 1

    def post_outbox(self, rows: list[tuple[str, dict[str, Any]]]) -> None:
        """ERP posts its documents: one transaction writes their outbox rows."""
        if not rows:
            return
        with self.erp.begin() as conn:
            for table, row in rows:
                columns = ", ".join(row)
                values = ", ".join(f":{name}" for name in row)
                # table and column names come from the demo's own outbox layout, values are bound
                sql = f"INSERT INTO {table} ({columns}) VALUES ({values})"  # noqa: S608
                conn.execute(text(sql), row)
        self.counts.db_rows += len(rows)

    def _next_name(self, prefix: str, suffix: str) -> str:
        self._files += 1
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S")
        return f"{prefix}_{stamp}_{self._files:04d}.{suffix}"

    def export_wms(self, rows: list[dict[str, Any]], extra: Sequence[dict[str, Any]] = ()) -> Path:
        data = write_csv([*rows, *extra], WMS_RECEIPT_COLUMNS)
        path = drop_file(self.drop, self._next_name("wms_receipts", "csv"), data)
        self.counts.files += 1
        self.counts.file_rows += len(rows)
        return path

    def export_qms(self, elements: list[ET.Element]) -> Path:
        data = qms_export(elements, self.plant, dt.datetime.now(dt.UTC))
        path = drop_file(self.drop, self._next_name("qms_inspections", "xml"), data)
        self.counts.files += 1
        self.counts.file_rows += len(elements)
        return path
