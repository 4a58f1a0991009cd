"""The processor micro-benchmark runs the real processor on simulated plant records."""

from __future__ import annotations

from tracesync.devtools.bench.processor import main, measure_processor, source_records


def test_the_report_has_throughput_and_every_stage() -> None:
    report = measure_processor(events=400, buffer=100, seed=3)
    assert report["events"] == 400
    assert report["batches"] > 1
    assert 0 < report["chain_states_written"] <= report["events"]
    assert report["chains_published"] >= report["chain_states_written"]
    assert set(report["stages_us_per_event"]) == {
        "decode",
        "load",
        "merge",
        "view",
        "encode_state",
        "encode_chain",
        "encode_alerts",
        "other",
    }
    assert report["events_per_s"] > 0
    assert report["hot_path_us_per_event"] <= report["us_per_event"]


def test_records_are_what_producers_send() -> None:
    records = source_records(50, seed=3)
    assert len(records) == 50
    assert all(r.value is not None and r.value[:2] == b"\xc3\x01" for r in records)
    assert {r.topic for r in records} <= {"mes.events", "erp.events", "wms.events", "qms.events"}


def test_the_entry_point_prints_one_json_document(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["--events", "120", "--buffer", "50"]) == 0
    assert capsys.readouterr().out.lstrip().startswith("{")
