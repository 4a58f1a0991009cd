"""Hostile file drops to the real ``tracesync ingest files`` process, in front of the pipeline.

A CSV whose bad rows each hold one hostile value: its good rows reach the store and each bad row
is listed in ``<name>.errors.csv`` with the field; a binary file, an XML with an external entity
(XXE) and one with an entity-expansion bomb are moved to ``rejected/`` with a report; a file
whose name holds a newline is ingested and logged on one line. The adapter, the worker and the
store sink stay up throughout.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.hostile.conftest import Pipeline
from tests.slot import REPO_ROOT
from tracesync.devtools.supervise import wait_for

MAPPINGS = REPO_ROOT / "deploy" / "mappings"
HEADER = "receipt_no;revision;lot;qty;uom;location;hu;received_at"
ROWS = {
    # row number -> (line, the field its report names; None: a good row)
    1: ("GR-H1;1;F-GOOD-1;10;KG;RCV-01;HU-1;2025-03-01 06:10:00", None),
    2: ("GR-H2;1;F-SEP;1_000;KG;RCV-01;HU-2;2025-03-01 06:10:00", "payload.quantity.value"),
    3: ("GR-H3;1;F-ARAB;١٢٣;KG;RCV-01;HU-3;2025-03-01 06:10:00", "payload.quantity.value"),
    4: ("GR-H4;1;   ;10;KG;RCV-01;HU-4;2025-03-01 06:10:00", "batch_code"),
    5: ("GR-H5;1;F-\u202eBIDI;10;KG;RCV-01;HU-5;2025-03-01 06:10:00", "batch_code"),
    6: ("GR-H6;1_0;F-REV;10;KG;RCV-01;HU-6;2025-03-01 06:10:00", "source_seq"),
    7: ("GR-H7;1;F-DATE;10;KG;RCV-01;HU-7;2025-02-30 06:10:00", "occurred_at"),
    8: ("GR-H8;1;F-NUL;10;KG;RCV\x00-1;HU-8;2025-03-01 06:10:00", "payload.location"),
    9: ("GR-H9;1;F-GOOD-2;20;KG;RCV-01;HU-9;2025-03-01 06:20:00", None),
}
XXE = """<?xml version="1.0"?>
<!DOCTYPE InspectionExport [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<InspectionExport plant="P1"><Inspection id="X-1" batch="F-XXE" revision="1"
 inspectedAt="2025-03-01T10:00:00Z"><Plan>&secret;</Plan><Verdict>OK</Verdict>
 <Inspector>qa</Inspector><Characteristics/></Inspection></InspectionExport>
"""
BOMB = (
    '<?xml version="1.0"?>\n<!DOCTYPE b [<!ENTITY a0 "lol">'
    + "".join(f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 10))
    + ']>\n<InspectionExport plant="P1"><Plan>&a9;</Plan></InspectionExport>\n'
)


@pytest.fixture(scope="module")
def drop(hostile_pipeline: Pipeline) -> Iterator[Path]:
    folder = hostile_pipeline.home / "drop"
    folder.mkdir()
    args = ["ingest", "files", "--watch", str(folder)]
    for mapping in ("wms_receipts.csv.toml", "qms_inspections.xml.toml"):
        args += ["--mapping", str(MAPPINGS / mapping)]
    hostile_pipeline.start("ingest-files", args)
    yield folder


def _drop(folder: Path, name: str, data: bytes) -> None:
    (folder / name).write_bytes(data)
    (folder / f"{name}.done").touch()


def _report(path: Path) -> dict[str, set[str]]:
    with path.open(newline="", encoding="utf-8") as f:
        out: dict[str, set[str]] = {}
        for row in csv.DictReader(f):
            out.setdefault(row["row"], set()).add(row["field"])
        return out


def test_hostile_rows_are_reported_by_field_and_the_good_rows_stored(
    drop: Path, hostile_pipeline: Pipeline
) -> None:
    text = "\n".join([HEADER, *(line for line, _ in ROWS.values())]) + "\n"
    _drop(drop, "wms_receipts_hostile.csv", text.encode())
    report = drop / "processed" / "wms_receipts_hostile.csv.errors.csv"
    assert wait_for(report.exists, 60, alive=hostile_pipeline.alive()), hostile_pipeline.log_tails()
    fields = _report(report)
    for number, (_, field) in ROWS.items():
        if field is not None:
            assert field in fields.get(str(number), set()), (number, fields)
    assert set(fields) == {str(n) for n, (_, f) in ROWS.items() if f is not None}
    hostile_pipeline.wait_stored({"F-GOOD-1", "F-GOOD-2"})
    assert not hostile_pipeline.stored() & {"F-SEP", "F-ARAB", "F-REV", "F-DATE", "F-NUL"}
    assert hostile_pipeline.all_alive(), hostile_pipeline.log_tails()


def test_unreadable_and_hostile_files_are_rejected_with_a_report(
    drop: Path, hostile_pipeline: Pipeline
) -> None:
    files = {
        "wms_receipts_binary.csv": b"\xff\xfe\x00\x81" * 256,
        "qms_inspections_xxe.xml": XXE.encode(),
        "qms_inspections_bomb.xml": BOMB.encode(),
    }
    for name, data in files.items():
        _drop(drop, name, data)
    rejected = drop / "rejected"
    reports = [rejected / f"{name}.errors.csv" for name in files]
    assert wait_for(lambda: all(r.exists() for r in reports), 60, alive=hostile_pipeline.alive())
    for report in reports:
        assert report.read_text(encoding="utf-8").count("\n") >= 2, report  # header + reason
    assert "root:" not in "".join(r.read_text(encoding="utf-8") for r in reports)
    assert "F-XXE" not in hostile_pipeline.stored()
    assert hostile_pipeline.all_alive(), hostile_pipeline.log_tails()


def test_a_newline_in_a_file_name_cannot_forge_a_log_line(
    drop: Path, hostile_pipeline: Pipeline
) -> None:
    name = "wms_receipts_nl\nFORGED entry.csv"
    row = "GR-N1;1;F-GOOD-3;5;KG;RCV-01;HU-N1;2025-03-01 07:00:00"
    _drop(drop, name, f"{HEADER}\n{row}\n".encode())
    hostile_pipeline.wait_stored({"F-GOOD-3"})
    assert wait_for((drop / "processed" / name).exists, 30)
    log = hostile_pipeline.components["ingest-files"].log_path.read_text(encoding="utf-8")
    assert "FORGED entry" in log  # it was logged ...
    assert not any(line.startswith("FORGED") for line in log.splitlines())  # ... on one line
