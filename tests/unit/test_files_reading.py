"""File drops without a broker: reading CSV/XML rows, shape problems, completeness of a drop."""

from __future__ import annotations

import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from producers.files import (
    CompletenessTracker,
    Completion,
    FileChangedError,
    FileSnapshot,
    UnreadableFileError,
    element_row,
    read_rows,
    row_problems,
)
from producers.files.completion import verify_unchanged
from producers.mapping import load_mapping, lookup, parse_mapping

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
