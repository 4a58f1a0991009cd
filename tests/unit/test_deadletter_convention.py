"""The dead-letter header convention lists every header the stages write, with its format."""

from __future__ import annotations

from tracesync import deadletter
from tracesync.errors import RecordOrigin

BY_NAME = {spec.name: spec for spec in deadletter.CONVENTION}


def test_headers_built_by_the_shared_helper_are_all_in_the_convention() -> None:
    extra = {deadletter.ROUTE: "r", deadletter.TARGET: "t", deadletter.NOTICE_KEY: "k"}
    headers = deadletter.build_headers("bad", "targets", RecordOrigin("trace.chain", 2, 41), extra)
    assert {name for name, _ in headers} <= set(BY_NAME)
    assert {deadletter.REDRIVEN, deadletter.STAGE, deadletter.REASON} <= set(BY_NAME)


def test_integer_headers_hold_decimal_digits() -> None:
    headers = dict(deadletter.build_headers("bad", "streams", RecordOrigin("mes.events", 3, 99)))
    for name, spec in BY_NAME.items():
        if spec.format == "integer" and name in headers:
            assert headers[name].decode().isdigit(), name


def test_only_reason_and_stage_are_on_every_dead_letter() -> None:
    """Rows a source database gave never were on a topic: they have no origin headers."""
    assert {s.name for s in deadletter.CONVENTION if s.required} == {
        deadletter.REASON,
        deadletter.STAGE,
    }
    assert all(s.name.startswith(deadletter.PREFIX) and s.doc for s in deadletter.CONVENTION)
    assert {s.format for s in deadletter.CONVENTION} <= {"text", "integer", "json"}
