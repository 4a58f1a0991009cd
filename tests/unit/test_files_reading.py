"""File drops without a broker: reading CSV/XML rows as streams, shape problems, XML record
paths and entities, the error spool, completeness of a drop."""

from __future__ import annotations

import io
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from producers.files import (
    CompletenessTracker,
    Completion,
    FileChangedError,
    FileSnapshot,
    HashingReader,
    UnreadableFileError,
    element_row,
    iter_rows,
    read_rows,
    row_problems,
)
from producers.files.completion import verify_unchanged
from producers.files.streaming import ErrorSpool, scan
from producers.files.xml_records import record_steps, xml_rows
from producers.mapping import load_mapping, lookup, parse_mapping
from tracesync.errors import ConfigurationError

MAPPINGS = Path(__file__).resolve().parents[2] / "deploy" / "mappings"
WMS = load_mapping(MAPPINGS / "wms_receipts.csv.toml")
HEADER = "receipt_no;revision;lot;qty;uom;location;hu;received_at\n"


def test_csv_rows_by_header_with_bom_and_shape_problems() -> None:
    data = ("\ufeff" + HEADER + "GR-1;1;L-1;5;KG;R;H;2025-03-01 06:00:00\nGR-2;1;L-2\n").encode()
    rows = read_rows(data, WMS)
    assert rows[0]["receipt_no"] == "GR-1"
    assert row_problems(rows[0]) == []
    assert row_problems(rows[1])[0][0] == "<row>"
    assert "fewer fields" in row_problems(rows[1])[0][1]


def test_a_csv_without_the_mapped_columns_is_unreadable() -> None:
    with pytest.raises(UnreadableFileError, match="header lacks the column"):
        read_rows(b"a;b\n1;2\n", WMS)


def test_bytes_that_are_not_the_declared_encoding_are_unreadable() -> None:
    text = """
[source]
name = "w"
system = "WMS"
[file]
format = "csv"
patterns = ["*.csv"]
encoding = "ascii"
[envelope]
event_type = "STOCK_COUNTED"
batch_code = "b"
source_ref = "r"
source_seq = 1
occurred_at = "t"
[payload]
count_id = "c"
location = "l"
quantity = { value = "q", uom = "u" }
"""
    mapping = parse_mapping(tomllib.loads(text), Path("m.toml"))
    with pytest.raises(UnreadableFileError, match="not ascii text"):
        read_rows("b,r,t\nä,ö,ü\n".encode(), mapping)


def test_xml_elements_become_rows_with_nested_lists() -> None:
    element = ET.fromstring(
        '<I id="1"><Plan>P</Plan><Op>a</Op><Op>b</Op>'
        '<Cs><C name="x" value="1"/><C name="y" value="2"/></Cs></I>'
    )
    row = element_row(element)
    assert row["id"] == "1" and row["Plan"] == "P" and row["Op"] == ["a", "b"]
    assert [c["name"] for c in lookup(row, "Cs/C")] == ["x", "y"]


def test_malformed_xml_is_unreadable() -> None:
    mapping = load_mapping(MAPPINGS / "qms_inspections.xml.toml")
    with pytest.raises(UnreadableFileError, match="not well-formed XML"):
        read_rows(b"<a><b></a>", mapping)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_by_default_a_file_is_ready_only_once_its_done_marker_exists(tmp_path: Path) -> None:
    clock = FakeClock()
    tracker = CompletenessTracker(clock=clock)
    export = tmp_path / "a.csv"
    export.write_text("header\nfirst rows\n")
    clock.now = 3600.0  # unchanged for an hour: a writer that paused, not one that finished
    assert tracker.ready(tmp_path) == []
    (tmp_path / "a.csv.done").touch()
    assert tracker.ready(tmp_path) == [export]


def test_with_rename_completion_every_visible_file_is_ready_at_once(tmp_path: Path) -> None:
    tracker = CompletenessTracker(Completion.RENAME, clock=FakeClock())
    (tmp_path / ".b.csv").write_text("being written under a hidden name")
    (tmp_path / "c.csv.part").write_text("being written under a partial name")
    (tmp_path / "d.csv.tmp").write_text("likewise")
    renamed = tmp_path / "b.csv"
    assert tracker.ready(tmp_path) == []
    (tmp_path / ".b.csv").rename(renamed)
    assert tracker.ready(tmp_path) == [renamed]


def test_files_no_mapping_accepts_are_not_considered(tmp_path: Path) -> None:
    tracker = CompletenessTracker(Completion.RENAME, accepts=lambda name: name.endswith(".csv"))
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "a.csv").write_text("y")
    assert tracker.ready(tmp_path) == [tmp_path / "a.csv"]


def test_with_settled_completion_a_file_is_ready_when_unchanged_or_marked(tmp_path: Path) -> None:
    clock = FakeClock()
    tracker = CompletenessTracker(Completion.SETTLED, settle_s=2.0, clock=clock)
    growing, marked = tmp_path / "a.csv", tmp_path / "b.csv"
    growing.write_text("x")
    marked.write_text("y")
    (tmp_path / "b.csv.done").touch()
    (tmp_path / "c.csv.part").write_text("z")
    assert tracker.ready(tmp_path) == [marked]
    clock.now = 1.5
    growing.write_text("xx")  # still being written: the clock starts again
    assert growing not in tracker.ready(tmp_path)
    clock.now = 3.0
    assert growing not in tracker.ready(tmp_path)
    clock.now = 3.6
    assert growing in tracker.ready(tmp_path)


def test_a_file_that_changed_after_it_was_read_is_caught(tmp_path: Path) -> None:
    export = tmp_path / "a.csv"
    export.write_bytes(b"header\nrow 1\n")
    read = FileSnapshot.of_bytes(export.read_bytes())
    verify_unchanged(export, read, "while it was being read")  # nothing changed: no error
    with export.open("ab") as f:
        f.write(b"row 2\n")
    with pytest.raises(FileChangedError, match="13 bytes were read, the file now has 19"):
        verify_unchanged(export, read, "while its rows were being published")
    export.write_bytes(b"header\nrow X\n")  # same size, other content
    with pytest.raises(FileChangedError):
        verify_unchanged(export, read, "while its rows were being published")


QMS = load_mapping(MAPPINGS / "qms_inspections.xml.toml")


def test_xml_records_stream_in_document_order_and_are_cleared_once_read() -> None:
    data = (
        b"<Export><Head><Note>n</Note></Head>"
        + b"".join(b'<Inspection id="%d"><Plan>P</Plan></Inspection>' % i for i in range(3))
        + b"<Group><Inspection id='g'><Inspection id='inner'/></Inspection></Group></Export>"
    )
    rows = iter_rows(io.BytesIO(data), QMS)
    first = next(rows)
    assert first["id"] == "0" and first["Plan"] == "P"
    rest = list(rows)
    # the same records as ElementPath finds on the whole tree, in the same order
    assert [first, *rest] == [element_row(e) for e in ET.fromstring(data).iterfind(".//Inspection")]


def test_xml_record_paths_that_cannot_be_streamed_are_refused() -> None:
    assert record_steps("./Export/Row") == ((False, "Export"), (False, "Row"))
    assert record_steps("Batch//Row") == ((False, "Batch"), (True, "Row"))
    for bad in ("Row[@id='1']", "../Row", ".", "//Row", "Row/."):
        with pytest.raises(ConfigurationError, match="bad record_path"):
            record_steps(bad)


def test_xml_child_paths_and_namespaces_match_like_elementpath() -> None:
    data = b"<E xmlns='urn:x'><B><R n='1'/><C><R n='2'/></C></B><R n='3'/></E>"
    root = ET.fromstring(data)
    for path in ("{urn:x}B/{urn:x}R", "{*}B//{*}R", "*/{*}R", "{*}R", ".//{*}R"):
        expected = [element_row(e) for e in root.iterfind(path)]
        assert list(xml_rows(io.BytesIO(data), path)) == expected, path


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE E [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<E><Inspection id="1"><Plan>&secret;</Plan></Inspection></E>"""
BOMB = (
    b'<?xml version="1.0"?>\n<!DOCTYPE b [<!ENTITY a0 "lol">'
    + b"".join(b'<!ENTITY a%d "%s">' % (i, b"&a%d;" % (i - 1) * 10) for i in range(1, 10))
    + b"]>\n<E><Inspection id='1'><Plan>&a9;</Plan></Inspection></E>"
)


@pytest.mark.parametrize("data", [XXE, BOMB], ids=["external entity", "entity bomb"])
def test_streamed_xml_refuses_external_entities_and_entity_bombs(data: bytes) -> None:
    with pytest.raises(UnreadableFileError, match="not well-formed XML"):
        read_rows(data, QMS)


def test_a_file_unreadable_past_its_first_rows_is_rejected_before_anything_is_published(
    tmp_path: Path,
) -> None:
    export = tmp_path / "wms_receipts_late_error.csv"
    good = "GR-1;1;L-1;5;KG;R;H;2025-03-01 06:00:00\n"
    export.write_bytes((HEADER + good * 5000).encode() + b"\xff\xfe broken\n")
    checked = scan(export, WMS)
    assert "not utf-8-sig text" in checked.problem
    assert checked.snapshot == FileSnapshot.of_file(export)  # the whole file was hashed anyway


def test_the_hashing_reader_stops_at_its_limit_and_hashes_what_it_gave(tmp_path: Path) -> None:
    export = tmp_path / "a.csv"
    export.write_bytes(b"header\nrow 1\nrow 2\n")
    with export.open("rb") as raw:
        reader = HashingReader(raw, limit=13)
        assert io.BufferedReader(reader).read() == b"header\nrow 1\n"
        assert reader.snapshot() == FileSnapshot.of_bytes(b"header\nrow 1\n")


def test_the_error_spool_counts_rows_and_is_placed_or_discarded(tmp_path: Path) -> None:
    spool = ErrorSpool(tmp_path / ".spool.partial")
    spool.add(2, "qty", "not a number")
    spool.add(2, "lot", "missing")
    spool.add(5, "<row>", "fewer fields")
    assert spool.rows == 2
    target = tmp_path / "a.csv.errors.csv"
    spool.place(target)
    assert target.read_text().splitlines() == [
        "row,field,reason",
        "2,qty,not a number",
        "2,lot,missing",
        "5,<row>,fewer fields",
    ]
    assert not (tmp_path / ".spool.partial").exists()
    ErrorSpool(tmp_path / ".other.partial").place(target)  # no errors: a stale report goes
    assert not target.exists()
